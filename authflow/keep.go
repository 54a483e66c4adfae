package authflow

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// KeptDirName names the directory, under the same base as the session
// directories, that holds the profiles `tfauth auth env` leaves behind for
// later commands. Its name does not start with "tfauth-", so Sweep never
// removes it: only RemoveKeptDirs (`tfauth auth logout`) does.
const KeptDirName = "tfauth.env"

// keptPrefix starts the name of every directory NewKeptDir makes.
const keptPrefix = "env-"

// NewKeptDir creates a fresh private directory (mode 0700, unpredictable
// name) in base/KeptDirName, creating that one (0700) first, and returns
// its path. Unlike a session directory it has no lock and no cleaner: it
// lives until RemoveKeptDirs. It refuses a base/KeptDirName that is a
// symlink, not a directory, or owned by another user, since anyone who
// controls it could read the credentials written inside.
func NewKeptDir(base string) (string, error) {
	parent, err := keptParent(base, true)
	if err != nil {
		return "", fmt.Errorf("create credentials directory: %w", err)
	}
	dir, err := os.MkdirTemp(parent, keptPrefix+"*")
	if err != nil {
		return "", fmt.Errorf("create credentials directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("create credentials directory: %w", err)
	}
	return dir, nil
}

// RemoveKeptDirs removes every directory NewKeptDir made under base and
// base/KeptDirName itself, and returns the removed directories, sorted. A
// missing base/KeptDirName removes nothing; one that is a symlink or belongs
// to another user is left alone, with an error.
func RemoveKeptDirs(base string) ([]string, error) {
	parent, err := keptParent(base, false)
	if err != nil {
		return nil, fmt.Errorf("remove credentials directories: %w", err)
	}
	if parent == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil, fmt.Errorf("remove credentials directories: %w", err)
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		p := filepath.Join(parent, e.Name())
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, err)
			continue
		}
		if e.IsDir() {
			removed = append(removed, p)
		}
	}
	if err := os.Remove(parent); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	slices.Sort(removed)
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("remove credentials directories: %w", err)
	}
	return removed, nil
}

// keptParent checks base/KeptDirName, creating it when create is set, and
// returns its path ("" when it does not exist and create is not set).
func keptParent(base string, create bool) (string, error) {
	parent := filepath.Join(base, KeptDirName)
	fi, err := os.Lstat(parent)
	switch {
	case errors.Is(err, fs.ErrNotExist) && create:
		if err := os.Mkdir(parent, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return "", err
		}
		if fi, err = os.Lstat(parent); err != nil {
			return "", err
		}
	case errors.Is(err, fs.ErrNotExist):
		return "", nil
	case err != nil:
		return "", err
	}
	if fi.Mode()&fs.ModeSymlink != 0 || !fi.IsDir() {
		return "", fmt.Errorf("%s is not a directory (a symlink or a file): remove it", parent)
	}
	if !ownedByMe(fi) {
		return "", fmt.Errorf("%s belongs to another user: remove it, or set TMPDIR to a private directory", parent)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(parent, 0o700); err != nil {
			return "", err
		}
	}
	return parent, nil
}
