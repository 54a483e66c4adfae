package tfrun

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
)

// CleanerCommand is the hidden tfauth subcommand that runs the cleaner; on
// Windows cleanup happens in-process, so it does nothing.
const CleanerCommand = "__cleanup"

// SessionDirPrefix starts the name of every private directory tfauth makes.
const SessionDirPrefix = "tfauth-"

// RunCleaner is unused on Windows.
func RunCleaner([]string) int { return 2 }

// StartCleaner does nothing on Windows: Exec runs terraform as a child and
// removes the directory itself when it exits.
func StartCleaner(*Cleanup) error { return nil }

// Exec runs the program in h as a child process with the standard streams
// inherited, waits for it, removes h.Cleanup's directory and returns the
// child's exit code. Ctrl-C reaches the child through the console; tfauth
// only keeps itself alive until the child is done.
func Exec(h Handoff) (int, error) {
	if h.Cleanup != nil {
		defer os.RemoveAll(h.Cleanup.Dir)
		if h.Cleanup.Lock != nil {
			defer h.Cleanup.Lock.Close()
		}
	}
	cmd := exec.Command(h.Path, h.Args...)
	cmd.Args[0] = h.Argv0
	cmd.Env = h.Env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	defer signal.Stop(sig)
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return 1, fmt.Errorf("run %s: %w", h.Path, err)
	}
	return 0, nil
}
