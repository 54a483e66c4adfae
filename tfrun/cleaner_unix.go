//go:build unix

package tfrun

import (
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CleanerCommand is the hidden tfauth subcommand that runs the cleaner.
const CleanerCommand = "__cleanup"

// SessionDirPrefix starts the name of every private directory tfauth makes;
// the cleaner refuses to remove anything else.
const SessionDirPrefix = "tfauth-"

// RunCleaner is the detached cleaner started by StartCleaner: args are DIR,
// PID and the mode. It waits until process PID has exited, then removes
// DIR, which must be named like a session directory (tfauth-<digits>).
func RunCleaner(args []string) int {
	if len(args) != 3 || !sessionDirName(args[0]) {
		return 2
	}
	dir, mode := args[0], args[2]
	pid, err := strconv.Atoi(args[1])
	if err != nil {
		return 2
	}
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGPIPE)
	// Only wait on fd 4 when the starter said it is a pidfd, and it still
	// is one: an fd number alone proves nothing (the Go runtime opens files
	// of its own at start-up).
	if mode != cleanerPidfd || !isPidfd(4) || waitPidfd(4) != nil {
		// This process is the child of PID (terraform replaced the wrapper
		// in place), so PID has exited once we are reparented.
		for os.Getppid() == pid {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return 1
	}
	return 0
}

// sessionDirName reports whether dir's name is os.MkdirTemp's
// tfauth-<digits>.
func sessionDirName(dir string) bool {
	digits, ok := strings.CutPrefix(filepath.Base(dir), SessionDirPrefix)
	return ok && digits != "" && strings.Trim(digits, "0123456789") == ""
}
