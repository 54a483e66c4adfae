//go:build !unix && !windows

package authflow

import (
	"io/fs"
	"os"
	"path/filepath"
)

// createLock creates <dir>/.lock. This platform has no file locks, so the
// lock is a documented no-op, and Sweep removes only lock-less directories.
func createLock(dir string) (*os.File, error) {
	return os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
}

// openLock opens an existing lock file.
func openLock(path string) (*os.File, error) { return os.OpenFile(path, os.O_RDWR, 0) }

// tryLock cannot lock on this platform; it reports the lock as held so Sweep
// never removes a directory it cannot prove abandoned.
func tryLock(*os.File) (held bool, err error) { return true, nil }

// ownedByMe is true: this platform has no file owners to check.
func ownedByMe(fs.FileInfo) bool { return true }
