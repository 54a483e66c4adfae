package tfrun

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func writeExe(t *testing.T, path string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFind(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("unix file modes and symlinks")
	}
	root := t.TempDir()
	self := writeExe(t, filepath.Join(root, "tfauth", "tfauth"))
	// shim: a symlink to self named terraform; hard: a hard link to self.
	shimDir := filepath.Join(root, "shim")
	os.MkdirAll(shimDir, 0o755)
	if err := os.Symlink(self, filepath.Join(shimDir, "terraform")); err != nil {
		t.Fatal(err)
	}
	hardDir := filepath.Join(root, "hard")
	os.MkdirAll(hardDir, 0o755)
	if err := os.Link(self, filepath.Join(hardDir, "terraform")); err != nil {
		t.Fatal(err)
	}
	other := writeExe(t, filepath.Join(root, "othershim", "terraform"))
	realTF := writeExe(t, filepath.Join(root, "real", "terraform"))
	noexec := filepath.Join(root, "noexec", "terraform")
	writeExe(t, noexec)
	os.Chmod(noexec, 0o644)
	emptyDir := filepath.Join(root, "empty")
	os.MkdirAll(emptyDir, 0o755)
	path := func(dirs ...string) string {
		var ps []string
		for _, d := range dirs {
			ps = append(ps, filepath.Join(root, d))
		}
		return strings.Join(ps, string(os.PathListSeparator))
	}

	tests := []struct {
		name    string
		opts    FindOptions
		want    string
		wantErr string
	}{
		{"real after symlinked shim", FindOptions{PathList: path("shim", "real")}, realTF, ""},
		{"hard link to self is skipped", FindOptions{PathList: path("hard", "shim", "real")}, realTF, ""},
		{"non-executable is passed over", FindOptions{PathList: path("noexec", "real")}, realTF, ""},
		{"chain shim skipped", FindOptions{PathList: path("shim", "othershim", "real"), Skip: []string{other}}, realTF, ""},
		{"other shim not yet in chain is chosen", FindOptions{PathList: path("shim", "othershim", "real")}, other, ""},
		{"only shims", FindOptions{PathList: path("shim", "hard", "othershim"), Skip: []string{other}},
			"", "no real terraform found: searched TFAUTH_TERRAFORM (unset) and 3 PATH directories for terraform; skipped " +
				filepath.Join(root, "shim", "terraform") + " (this is tfauth itself), " +
				filepath.Join(root, "hard", "terraform") + " (this is tfauth itself), " +
				filepath.Join(root, "othershim", "terraform") + " (another tfauth shim already passed in this hand-off); install terraform, or set TFAUTH_TERRAFORM to the real terraform's path"},
		{"empty PATH", FindOptions{PathList: path("empty")}, "", "no real terraform found: searched TFAUTH_TERRAFORM (unset) and 1 PATH directory for terraform"},
		{"explicit wins over PATH", FindOptions{PathList: path("othershim"), Explicit: realTF}, realTF, ""},
		{"explicit pointing at self", FindOptions{Explicit: filepath.Join(shimDir, "terraform")}, "", "which is tfauth itself, not terraform"},
		{"explicit missing", FindOptions{Explicit: filepath.Join(root, "nope")}, "", "no such file or directory; point it at the real terraform binary"},
		{"explicit not executable", FindOptions{Explicit: noexec}, "", "which is not executable"},
		{"explicit directory", FindOptions{Explicit: emptyDir}, "", "which is a directory"},
		{"config path", FindOptions{PathList: path("othershim"), ConfigPath: realTF, ConfigSource: "tfauth.yaml:2"}, realTF, ""},
		{"config path names the source", FindOptions{ConfigPath: self, ConfigSource: "tfauth.yaml:2"}, "", "terraform.path in tfauth.yaml:2 is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Self = self
			got, err := Find(tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Find() error = %v; want it to contain %q", err, tt.wantErr)
				}
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("Find() error %v is not ErrNotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Find() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("Find() = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestCandidates(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("unix symlinks")
	}
	root := t.TempDir()
	self := writeExe(t, filepath.Join(root, "bin", "tfauth"))
	os.MkdirAll(filepath.Join(root, "shim"), 0o755)
	os.Symlink(self, filepath.Join(root, "shim", "terraform"))
	a := writeExe(t, filepath.Join(root, "a", "terraform"))
	b := writeExe(t, filepath.Join(root, "b", "terraform"))
	pl := strings.Join([]string{filepath.Join(root, "shim"), filepath.Join(root, "a"), filepath.Join(root, "b")}, string(os.PathListSeparator))
	got := Candidates(FindOptions{PathList: pl, Self: self})
	want := []Candidate{
		{Path: filepath.Join(root, "shim", "terraform"), Skipped: "this is tfauth itself"},
		{Path: a, Chosen: true},
		{Path: b},
	}
	if len(got) != len(want) {
		t.Fatalf("Candidates() = %+v; want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Candidates()[%d] = %+v; want %+v", i, got[i], want[i])
		}
	}
}

func TestChainMarkers(t *testing.T) {
	env := MarkEnv([]string{"A=1", EnvDepth + "=2", EnvSkip + "=/old"}, ChainState{Depth: 2, Skip: []string{"/x/terraform"}}, "/me/tfauth", 4242)
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := m[k]; dup {
			t.Fatalf("duplicate key %s in %v", k, env)
		}
		m[k] = v
	}
	if m["A"] != "1" || m[EnvDepth] != "3" || m[EnvHandoffPID] != "4242" ||
		m[EnvSkip] != "/x/terraform"+string(os.PathListSeparator)+"/me/tfauth" {
		t.Errorf("MarkEnv() = %v", env)
	}
	getenv := func(k string) string { return m[k] }
	cs := ReadChain(getenv)
	if cs.DirectHandoff || cs.Skip != nil || cs.Depth != 3 {
		t.Errorf("ReadChain() for another PID = %+v; want no direct hand-off, no skips, depth 3", cs)
	}
	m[EnvHandoffPID] = strconv.Itoa(os.Getpid())
	cs = ReadChain(getenv)
	if !cs.DirectHandoff || len(cs.Skip) != 2 {
		t.Errorf("ReadChain() for this PID = %+v; want a direct hand-off with 2 skips", cs)
	}
}
