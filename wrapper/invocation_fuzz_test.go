package wrapper

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tfauth/tfauth/tfrun"
)

// unsafeForFuzz lists the words that make a tfauth command line run or
// exec a program, authenticate over the network, or write outside the
// test's directory. A fuzzed command line holding any of them, anywhere, is
// skipped: Main would exec in place of the test binary, or touch the host.
var unsafeForFuzz = map[string]bool{
	"run": true, "exec": true, "shim": true, "install": true, "logout": true,
	"env": true, "whoami": true, tfrun.CleanerCommand: true,
}

// FuzzMain runs tfauth's own command line with arbitrary arguments (joined
// by NUL) and checks that it never panics, never prints a Go stack trace,
// and exits 0 or 1.
func FuzzMain(f *testing.F) {
	for _, s := range []string{
		"", "help", "-h", "version", "--version", "doctor", "doctor\x00-x", "doctor\x00extra",
		"frobnicate", "plan", "--identity", "--identity=x\x00plan", "--frob",
		"auth", "auth\x00list", "auth\x00list\x00-o\x00json", "auth\x00validate", "auth\x00validate\x00--config",
		"auth\x00nope", "--config\x00/nonexistent\x00auth\x00list", "--config=\x00doctor", "--config",
		"auth\x00list\x00--identity", "auth\x00validate\x00--config=/dev/null", "-config\x00\x00auth",
	} {
		f.Add(s)
	}
	work := f.TempDir()
	empty := filepath.Join(work, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		f.Fatal(err)
	}
	env := []string{"PATH=" + empty, "HOME=" + work, "TMPDIR=" + work, "XDG_CONFIG_HOME=" + work}
	// Main runs in this process: give it the working directory and home
	// of the environment above, so that no configuration of the checkout's
	// parent directories or of the host's user is found.
	f.Chdir(work)
	f.Setenv("HOME", work)
	f.Setenv("XDG_CONFIG_HOME", work)
	f.Fuzz(func(t *testing.T, joined string) {
		args := []string{"tfauth"}
		if joined != "" {
			args = append(args, strings.Split(joined, "\x00")...)
		}
		for _, a := range args[1:] {
			if unsafeForFuzz[a] {
				t.Skip("this command line can exec, authenticate or write")
			}
		}
		var stdout, stderr bytes.Buffer
		code := func() (code int) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("Main(%q) panicked: %v", args, r)
				}
			}()
			return Main(Process{Args: args, Env: env, Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Version: "fuzz"})
		}()
		if code != 0 && code != 1 {
			t.Errorf("Main(%q) = %d; want 0 or 1", args, code)
		}
		for _, bad := range []string{"goroutine ", "panic:"} {
			if strings.Contains(stderr.String(), bad) || strings.Contains(stdout.String(), bad) {
				t.Errorf("Main(%q) printed %q:\n%s%s", args, bad, stdout.String(), stderr.String())
			}
		}
	})
}
