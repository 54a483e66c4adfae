//go:build unix

package tfrun

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// Exec replaces this process with the program in h (execve), so terraform
// keeps this PID, the terminal's process group, every signal and its exact
// exit status. Exec returns only when the hand-off failed, after removing
// h.Cleanup's directory. The directory's cleaner must already be running
// (StartCleaner); it removes the directory once this PID has exited.
func Exec(h Handoff) (int, error) {
	argv := append([]string{h.Argv0}, h.Args...)
	err := syscall.Exec(h.Path, argv, h.Env)
	if h.Cleanup != nil {
		_ = os.RemoveAll(h.Cleanup.Dir)
	}
	return 1, fmt.Errorf("run %s: %w", h.Path, err)
}

// Cleaner modes, passed in the cleaner's arguments.
const (
	cleanerPidfd = "pidfd" // fd 4 is a pidfd for the watched process
	cleanerPPID  = "ppid"  // the watched process is the cleaner's parent
)

// StartCleaner starts `tfauth __cleanup DIR PID MODE`, which removes c.Dir
// once this process, or the program that replaces it through Exec, has
// exited, however it exits. It runs in a session of its own (a signal to
// terraform's process group or terminal does not reach it), with no
// standard streams (a reader of terraform's output never waits for it),
// holding the directory's lock on fd 3 (so a sweep knows the directory is in
// use) and, when the kernel has pidfd_open, a pidfd for this process on fd
// 4. Started as soon as the directory exists, it cleans up whatever happens
// before the hand-off too.
func StartCleaner(c *Cleanup) error { return startCleaner(c, true) }

// startCleaner is StartCleaner; usePidfd false forces the parent-PID mode,
// as on kernels without pidfd_open.
func startCleaner(c *Cleanup, usePidfd bool) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("start the credentials cleaner: %w", err)
	}
	pid := os.Getpid()
	files := []*os.File{c.Lock}
	mode := cleanerPPID
	if fd, err := pidfdOpen(pid); usePidfd && err == nil {
		pidfd := os.NewFile(uintptr(fd), "pidfd")
		defer pidfd.Close()
		files = append(files, pidfd)
		mode = cleanerPidfd
	}
	cmd := exec.Command(self, CleanerCommand, c.Dir, strconv.Itoa(pid), mode)
	cmd.Args[0] = "tfauth"
	cmd.ExtraFiles = files
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the credentials cleaner: %w", err)
	}
	return cmd.Process.Release()
}
