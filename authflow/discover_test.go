package authflow

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// writeFiles creates files (relative slash paths) under root.
func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDiscover(t *testing.T) {
	t.Parallel()
	const atmosWithAuth = "base_path: .\n# auth: in a comment does not count\nauth:\n  identities: {}\n"
	const atmosNoAuth = "base_path: .\ncomponents:\n  terraform:\n    auth:\n      x: 1\ndesc: |\n  auth: inside a block scalar\n"
	tests := []struct {
		name  string
		files map[string]string
		dir   string // relative to root
		env   map[string]string
		want  string // relative to root; "" for none
	}{
		{"none", nil, "a/b", nil, ""},
		{"same dir", map[string]string{"a/b/tfauth.yaml": ""}, "a/b", nil, "a/b/tfauth.yaml"},
		{"walk up", map[string]string{"a/tfauth.yaml": ""}, "a/b/c", nil, "a/tfauth.yaml"},
		{"nearest wins", map[string]string{"tfauth.yaml": "", "a/b/.tfauth.yaml": ""}, "a/b/c", nil, "a/b/.tfauth.yaml"},
		{"visible before hidden in one dir", map[string]string{"a/tfauth.yaml": "", "a/.tfauth.yaml": ""}, "a", nil, "a/tfauth.yaml"},
		{"tfauth anywhere up beats a nearer atmos.yaml", map[string]string{"tfauth.yaml": "", "a/b/atmos.yaml": atmosWithAuth}, "a/b", nil, "tfauth.yaml"},
		{"atmos with auth", map[string]string{"a/atmos.yaml": atmosWithAuth}, "a/b", nil, "a/atmos.yaml"},
		{"atmos without top-level auth is skipped", map[string]string{"a/b/atmos.yaml": atmosNoAuth, "a/atmos.yaml": atmosWithAuth}, "a/b", nil, "a/atmos.yaml"},
		{"atmos quoted key and BOM", map[string]string{"a/atmos.yaml": "\ufeff\"auth\" :\n  identities: {}\n"}, "a", nil, "a/atmos.yaml"},
		{"authority is not auth", map[string]string{"a/atmos.yaml": "authority: 1\nauth_x: 2\n"}, "a", nil, ""},
		{"directory named tfauth.yaml is skipped", map[string]string{"a/tfauth.yaml/x": "", "tfauth.yaml": ""}, "a", nil, "tfauth.yaml"},
		{"xdg", map[string]string{"xdg/tfauth/config.yaml": ""}, "a",
			map[string]string{"XDG_CONFIG_HOME": "{root}/xdg", "HOME": "{root}/home"}, "xdg/tfauth/config.yaml"},
		{"home .config", map[string]string{"home/.config/tfauth/config.yaml": ""}, "a",
			map[string]string{"HOME": "{root}/home"}, "home/.config/tfauth/config.yaml"},
		{"relative XDG_CONFIG_HOME is ignored", map[string]string{"home/.config/tfauth/config.yaml": ""}, "a",
			map[string]string{"XDG_CONFIG_HOME": "xdg", "HOME": "{root}/home"}, "home/.config/tfauth/config.yaml"},
		{"project beats xdg", map[string]string{"a/.tfauth.yaml": "", "home/.config/tfauth/config.yaml": ""}, "a",
			map[string]string{"HOME": "{root}/home"}, "a/.tfauth.yaml"},
		{"TFAUTH_CONFIG beats everything", map[string]string{"a/tfauth.yaml": "", "elsewhere/cfg.yaml": ""}, "a",
			map[string]string{"TFAUTH_CONFIG": "{root}/elsewhere/cfg.yaml"}, "elsewhere/cfg.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			writeFiles(t, root, tt.files)
			dir := filepath.Join(root, filepath.FromSlash(tt.dir))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			env := map[string]string{"HOME": filepath.Join(root, "nohome")}
			for k, v := range tt.env {
				if len(v) >= 6 && v[:6] == "{root}" {
					v = root + filepath.FromSlash(v[6:])
				}
				env[k] = v
			}
			got, err := Discover(dir, envMap(env))
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			want := ""
			if tt.want != "" {
				want = filepath.Join(root, filepath.FromSlash(tt.want))
			}
			if got != want {
				t.Errorf("Discover = %q; want %q", got, want)
			}
		})
	}
}

func TestDiscoverChdirRelative(t *testing.T) {
	// Not parallel: it changes the working directory.
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"tfauth.yaml": "", "envs/prod/main.tf": ""})
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	got, err := Discover("envs/prod", envMap(nil)) // as with terraform -chdir=envs/prod
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	realRoot, _ := filepath.EvalSymlinks(root)
	if want := filepath.Join(root, "tfauth.yaml"); got != want && got != filepath.Join(realRoot, "tfauth.yaml") {
		t.Errorf("Discover = %q; want %q", got, want)
	}
	_ = wd
}

func TestDiscoverConfigEnvErrors(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	missing := filepath.Join(root, "nope.yaml")
	_, err := Discover(root, envMap(map[string]string{"TFAUTH_CONFIG": missing}))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Discover with missing TFAUTH_CONFIG = %v; want fs.ErrNotExist", err)
	}
	if _, err := Discover(root, envMap(map[string]string{"TFAUTH_CONFIG": root})); err == nil {
		t.Errorf("Discover with TFAUTH_CONFIG naming a directory succeeded; want an error")
	}
}

func TestDiscoverAuthKeyLine(t *testing.T) {
	t.Parallel()
	for line, want := range map[string]bool{
		"auth:":            true,
		"auth: {}":         true,
		"auth:  # comment": true,
		"auth :":           true,
		"'auth':":          true,
		"auth:\r":          true,
		" auth:":           false,
		"#auth:":           false,
		"auth":             false,
		"auth::":           false,
		"authx:":           false,
		"auth:x":           false,
	} {
		if got := isAuthKeyLine([]byte(line)); got != want {
			t.Errorf("isAuthKeyLine(%q) = %v; want %v", line, got, want)
		}
	}
}
