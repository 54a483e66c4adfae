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

	"golang.org/x/sys/unix"
)

// CleanerCommand is the hidden tfauth subcommand that runs the cleaner.
const CleanerCommand = "__cleanup"

// SessionDirPrefix starts the name of every private directory tfauth makes;
// the cleaner refuses to remove anything else.
const SessionDirPrefix = "tfauth-"

// RunCleaner is the detached cleaner: args are DIR and PID. It waits until
// process PID has exited, then removes DIR. It is started by Exec with a
// pidfd for PID on fd 3 (when available) and the directory's lock on fd 4,
// in a session of its own, so signals sent to terraform's process group or
// terminal do not reach it.
func RunCleaner(args []string) int {
	if len(args) != 2 || !strings.HasPrefix(filepath.Base(args[0]), SessionDirPrefix) {
		return 2
	}
	dir := args[0]
	pid, err := strconv.Atoi(args[1])
	if err != nil {
		return 2
	}
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGPIPE)
	if _, err := unix.FcntlInt(3, unix.F_GETFD, 0); err != nil || waitPidfd(3) != nil {
		// No pidfd: this process is the child of PID (terraform replaced
		// the wrapper in place), so PID has exited once we are reparented.
		for os.Getppid() == pid {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return 1
	}
	return 0
}
