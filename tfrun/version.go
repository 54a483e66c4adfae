package tfrun

import (
	"context"
	"fmt"
	"os"

	"github.com/hashicorp/terraform-exec/tfexec"
)

// Version asks the terraform at path for its version with terraform-exec
// (`terraform version -json`). It runs terraform, so it is for `tfauth
// doctor` and the like, never the hot path of the shim.
func Version(ctx context.Context, path string) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		wd = os.TempDir()
	}
	tf, err := tfexec.NewTerraform(wd, path)
	if err != nil {
		return "", fmt.Errorf("terraform version: %w", err)
	}
	v, _, err := tf.Version(ctx, true)
	if err != nil {
		return "", fmt.Errorf("terraform version: %w", err)
	}
	return v.String(), nil
}
