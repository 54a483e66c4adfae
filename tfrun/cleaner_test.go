//go:build unix

package tfrun

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary play two parts: the cleaner (started by
// startCleaner as `<binary> __cleanup DIR PID MODE`) and a wrapper that
// starts a cleaner and then execs a program (TFRUN_TEST_HANDOFF=DIR).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == CleanerCommand {
		os.Exit(RunCleaner(os.Args[2:]))
	}
	if dir := os.Getenv("TFRUN_TEST_HANDOFF"); dir != "" {
		usePidfd := os.Getenv("TFRUN_TEST_PIDFD") == "1"
		if err := startCleaner(&Cleanup{Dir: dir}, usePidfd); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(97)
		}
		script := fmt.Sprintf(`sleep 0.3; test -d %q && echo present-while-running; sleep 0.3`, dir)
		_, err := Exec(Handoff{Path: "/bin/sh", Argv0: "sh", Args: []string{"-c", script}, Env: os.Environ()})
		fmt.Fprintln(os.Stderr, err)
		os.Exit(98)
	}
	os.Exit(m.Run())
}

// TestCleaner proves, in both modes, that the directory survives while the
// exec'd program runs and is removed once it has exited.
func TestCleaner(t *testing.T) {
	for _, mode := range []string{"pidfd", "ppid"} {
		t.Run(mode, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "tfauth-12345")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "credentials"), []byte("[x]\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "TFRUN_TEST_HANDOFF="+dir, "TFRUN_TEST_PIDFD="+map[string]string{"pidfd": "1", "ppid": "0"}[mode])
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("handoff: %v\n%s", err, out)
			}
			if !strings.Contains(string(out), "present-while-running") {
				t.Fatalf("the directory was gone while the program ran:\n%s", out)
			}
			deadline := time.Now().Add(3 * time.Second)
			for {
				if _, err := os.Stat(dir); os.IsNotExist(err) {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s still exists after the program exited", dir)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

func TestRunCleanerRefusesOtherDirectories(t *testing.T) {
	for _, dir := range []string{t.TempDir(), filepath.Join(t.TempDir(), "tfauth-e2e-bin"), filepath.Join(t.TempDir(), "tfauth-")} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if code := RunCleaner([]string{dir, "1", "ppid"}); code != 2 {
			t.Errorf("RunCleaner(%s) = %d; want 2", dir, code)
		}
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("RunCleaner removed %s", dir)
		}
	}
}
