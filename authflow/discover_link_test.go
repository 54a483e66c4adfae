package authflow

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiscoverBrokenLink checks that a tfauth.yaml that is a broken symlink
// is reported, not skipped: skipping it would run terraform without the
// authentication the user configured.
func TestDiscoverBrokenLink(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "envs", "prod")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, ConfigName)
	if err := os.Symlink(filepath.Join(root, "gone.yaml"), link); err != nil {
		t.Fatal(err)
	}
	_, err := Discover(dir, envMap(nil))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), link+" is a symlink to") {
		t.Errorf("Discover = %v; want the broken symlink %s reported", err, link)
	}
	_, err = Discover(dir, envMap(map[string]string{ConfigEnv: link}))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), `which does not exist; point it at your tfauth.yaml`) {
		t.Errorf("Discover with TFAUTH_CONFIG at a broken symlink = %v", err)
	}
}
