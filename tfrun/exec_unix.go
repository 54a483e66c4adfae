//go:build unix

package tfrun

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// Exec replaces this process with the program in h (execve), so terraform
// keeps this PID, the terminal's process group, every signal and its exact
// exit status. When h.Cleanup is set, a detached cleaner is started first; it
// removes the directory once this PID has exited. Exec returns only when the
// hand-off failed, after removing h.Cleanup's directory.
func Exec(h Handoff) (int, error) {
	if h.Cleanup != nil {
		if err := startCleaner(h.Cleanup); err != nil {
			_ = os.RemoveAll(h.Cleanup.Dir)
			return 1, err
		}
		if h.Cleanup.Lock != nil {
			// terraform holds the lock too, so a later run's sweep never
			// mistakes a live run's directory for a stale one.
			if _, err := unix.FcntlInt(h.Cleanup.Lock.Fd(), unix.F_SETFD, 0); err != nil {
				_ = os.RemoveAll(h.Cleanup.Dir)
				return 1, fmt.Errorf("keep credentials lock across exec: %w", err)
			}
		}
	}
	argv := append([]string{h.Argv0}, h.Args...)
	err := syscall.Exec(h.Path, argv, h.Env)
	if h.Cleanup != nil {
		_ = os.RemoveAll(h.Cleanup.Dir)
	}
	return 1, fmt.Errorf("run %s: %w", h.Path, err)
}

// startCleaner starts `tfauth __cleanup DIR PID` in its own session, with no
// standard streams, holding a pidfd for this process (fd 3, when the kernel
// has pidfd_open) and the directory's lock (fd 4).
func startCleaner(c *Cleanup) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("start credentials cleaner: %w", err)
	}
	pid := os.Getpid()
	// Without pidfd_open (older kernels, other Unixes) the cleaner falls
	// back to watching its parent PID change, which happens when this
	// process (terraform, after the exec) exits.
	var pidfile *os.File
	if fd, err := pidfdOpen(pid); err == nil {
		pidfile = os.NewFile(uintptr(fd), "pidfd")
		defer pidfile.Close()
	}
	cmd := exec.Command(self, CleanerCommand, c.Dir, strconv.Itoa(pid))
	cmd.Args[0] = "tfauth"
	cmd.ExtraFiles = []*os.File{pidfile, c.Lock}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start credentials cleaner: %w", err)
	}
	return cmd.Process.Release()
}
