//go:build windows

package authflow

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// createLock creates <dir>/.lock and locks it with LockFileEx, Windows'
// equivalent of flock. Windows cannot rename an open file, so unlike on Unix
// the file is locked in place; a Sweep in the instant between creation and
// lock cannot delete it anyway, since Windows does not delete open files.
func createLock(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := tryLock(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// openLock opens an existing lock file.
func openLock(path string) (*os.File, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, errors.New(path + " is a symlink")
	}
	return os.OpenFile(path, os.O_RDWR, 0)
}

// tryLock tries to take an exclusive lock on f without waiting; held reports
// that someone else holds it.
func tryLock(f *os.File) (held bool, err error) {
	ol := new(windows.Overlapped)
	err = windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return true, nil
	}
	return false, err
}

// ownedByMe is true on Windows, where the temporary directory is per user.
func ownedByMe(fs.FileInfo) bool { return true }
