package tfrun

import (
	"errors"

	"golang.org/x/sys/unix"
)

func pidfdOpen(pid int) (int, error) { return unix.PidfdOpen(pid, 0) }

// isPidfd reports whether fd is a pidfd: sending it signal 0 succeeds for a
// live process and fails with ESRCH for an exited one; any other fd fails
// otherwise (EBADF, EINVAL).
func isPidfd(fd int) bool {
	err := unix.PidfdSendSignal(fd, 0, nil, 0)
	return err == nil || errors.Is(err, unix.ESRCH)
}

// waitPidfd blocks until the process behind pidfd fd has exited.
func waitPidfd(fd int) error {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds, -1)
		if err != unix.EINTR {
			return err
		}
	}
}
