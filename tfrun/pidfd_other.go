//go:build unix && !linux

package tfrun

import "golang.org/x/sys/unix"

func pidfdOpen(int) (int, error) { return -1, unix.ENOSYS }

func isPidfd(int) bool { return false }

func waitPidfd(int) error { return unix.ENOSYS }
