package authflow_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tfauth/tfauth/authflow"
)

func TestLoadTerraformSettings(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, file, body string
		want             authflow.TerraformSettings
		wantErr          bool
	}{
		{"relative path, broken auth section ignored", "a/tfauth.yaml",
			"terraform:\n  path: bin/terraform\nauth:\n  identities:\n    x: {kind: aws/sso}\n",
			authflow.TerraformSettings{Path: filepath.Join(dir, "a", "bin", "terraform"), Line: 2}, false},
		{"absolute path", "b/tfauth.yaml", "auth: {}\nterraform: {path: /opt/tf/terraform}\n",
			authflow.TerraformSettings{Path: "/opt/tf/terraform", Line: 2}, false},
		{"no terraform section", "c/tfauth.yaml", "auth:\n  identities: {}\n", authflow.TerraformSettings{}, false},
		{"empty file", "d/tfauth.yaml", "\n", authflow.TerraformSettings{}, false},
		{"atmos.yaml is never read for it", "e/atmos.yaml", "terraform:\n  path: /x\nauth: {}\n", authflow.TerraformSettings{}, false},
		{"invalid YAML", "f/tfauth.yaml", "terraform: {path: [\n", authflow.TerraformSettings{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := authflow.LoadTerraformSettings(write(tt.file, tt.body))
			if tt.wantErr {
				var ce *authflow.ConfigError
				if !errors.As(err, &ce) || ce.Line == 0 {
					t.Fatalf("error = %v; want a ConfigError with a line", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("LoadTerraformSettings() = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
