package authflow

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"gopkg.in/ini.v1"
)

// sessionDirPrefix starts the name of every per-run directory.
const sessionDirPrefix = "tfauth-"

// looksLikeSession reports whether dir is, by name and content, a session
// directory made by NewSessionDir: "tfauth-<digits>" (os.MkdirTemp's
// pattern) holding nothing but the lock, the two profile files and their
// temporary files. Anything else someone named tfauth-* is left alone.
func looksLikeSession(dir string) bool {
	digits := strings.TrimPrefix(filepath.Base(dir), sessionDirPrefix)
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return false
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		n := e.Name()
		switch {
		case n == lockName, n == lockName+".new", n == "credentials", n == "config",
			strings.HasPrefix(n, ".credentials-"), strings.HasPrefix(n, ".config-"):
		default:
			return false
		}
	}
	return true
}

// lockName is the lock file inside a session directory.
const lockName = ".lock"

// staleAfter is how old a session directory without a lock file must be
// before Sweep removes it; a new run creates its lock right away.
const staleAfter = 5 * time.Minute

// SessionDir is a private per-run directory holding the generated shared
// files, locked for as long as the run (and whoever inherits Lock) lives.
type SessionDir struct {
	// Path is the directory, mode 0700.
	Path string
	// Lock is <Path>/.lock, held with an exclusive flock. Hand its
	// descriptor to the processes that must keep the directory alive; the
	// lock is released when the last copy is closed.
	Lock *os.File
}

// NewSessionDir creates a private directory named tfauth-* (unpredictable
// suffix, mode 0700) under base, and takes an exclusive lock on its .lock
// file. It never follows a symlink: the directory is created fresh by
// mkdir, and the lock file with O_EXCL|O_NOFOLLOW.
func NewSessionDir(base string) (*SessionDir, error) {
	dir, err := os.MkdirTemp(base, sessionDirPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("create session directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("create session directory: %w", err)
	}
	lock, err := createLock(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("lock session directory: %w", err)
	}
	return &SessionDir{Path: dir, Lock: lock}, nil
}

// Remove releases this process's copy of the lock and deletes the
// directory. (The lock is closed first because Windows cannot delete an open
// file; a directory is never reused, so no one can take it over meanwhile.)
func (d *SessionDir) Remove() error {
	var errs []error
	if d.Lock != nil {
		if err := d.Lock.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if err := os.RemoveAll(d.Path); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("remove session directory: %w", err)
	}
	return nil
}

// Sweep removes tfauth-* directories under base left behind by killed runs:
// those whose .lock nobody holds, and lock-less ones older than a few
// minutes. It is best effort: it never touches a held directory, never
// follows a symlink and only considers directories owned by the current
// user. It returns the first error met, after trying every directory.
func Sweep(base string) error {
	_, err := SweepReport(base)
	return err
}

// SweepReport is Sweep, also returning the directories it removed.
func SweepReport(base string) ([]string, error) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return nil, fmt.Errorf("sweep %s: %w", base, err)
	}
	var first error
	var removed []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), sessionDirPrefix) || e.Type()&fs.ModeSymlink != 0 || !e.IsDir() {
			continue
		}
		dir := filepath.Join(base, e.Name())
		gone, err := sweepOne(dir)
		if err != nil && first == nil {
			first = err
		}
		if gone {
			removed = append(removed, dir)
		}
	}
	if first != nil {
		return removed, fmt.Errorf("sweep %s: %w", base, first)
	}
	return removed, nil
}

// sweepOne removes dir if it is abandoned, and reports whether it did.
func sweepOne(dir string) (bool, error) {
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() || !ownedByMe(fi) || !looksLikeSession(dir) {
		return false, nil // gone, or not ours: nothing to do
	}
	lock, err := openLock(filepath.Join(dir, lockName))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if time.Since(fi.ModTime()) < staleAfter {
			return false, nil // maybe a run that is creating its lock right now
		}
		return removeAll(dir)
	case err != nil:
		return false, nil // a symlink or an unreadable lock: leave it alone
	}
	held, err := tryLock(lock)
	lock.Close()
	if err != nil || held {
		return false, nil // in use, or cannot tell: leave it alone
	}
	// The lock was free, so the run that owned the directory is gone, and
	// directories are never reused: remove it.
	return removeAll(dir)
}

func removeAll(dir string) (bool, error) {
	if err := os.RemoveAll(dir); err != nil {
		return false, err
	}
	return true, nil
}

// Files are the generated shared files.
type Files struct {
	// Credentials is the shared credentials file.
	Credentials string
	// Config is the shared config file.
	Config string
}

var (
	keyPattern     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9/+=]+$`) })
	regionPattern  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9-]+$`) })
	profilePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_./@+=,:-]+$`) })
)

// iniOptions are the options to load a user's shared file so that it is
// written back faithfully: credential_process lines keep their ';' and '#',
// nested s3 = ... blocks and quotes survive, and only '=' separates keys, as
// in the AWS SDKs' parsers. A missing file loads as empty (Loose). The
// generated files use the same options so values are written back raw.
func iniOptions() ini.LoadOptions {
	return ini.LoadOptions{
		Loose:                   true,
		IgnoreInlineComment:     true,
		AllowNestedValues:       true,
		PreserveSurroundedQuote: true,
		KeyValueDelimiters:      "=",
	}
}

// WriteProfiles writes <dir>/credentials ([name] with the keys) and
// <dir>/config ([profile name] with the region; [default] for an identity
// named default) for every identity of r.Order, in that order. With carry,
// the profiles of the user's own shared files (getenv
// AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE, else ~/.aws/credentials
// and ~/.aws/config) whose names don't collide are copied after them. Both
// files are written atomically with mode 0600.
func WriteProfiles(dir string, r *Results, carry bool, getenv func(string) string) (Files, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	credsOut := ini.Empty(iniOptions())
	configOut := ini.Empty(iniOptions())
	own := make(map[string]bool) // our profile names, in both files
	for _, name := range r.Order {
		c := r.Profiles[name]
		if c == nil {
			return Files{}, fmt.Errorf("write profiles: no credentials for %q", name)
		}
		if !profilePattern().MatchString(name) || name == ini.DefaultSection {
			return Files{}, fmt.Errorf("write profiles: %q cannot be a profile name", name)
		}
		if err := checkCredentials(name, c); err != nil {
			return Files{}, fmt.Errorf("write profiles: %w", err)
		}
		if own[name] {
			continue
		}
		s, err := credsOut.NewSection(name)
		if err != nil {
			return Files{}, fmt.Errorf("write profiles: %w", err)
		}
		own[name] = true
		// NewKey only fails on empty names or disallowed shadows.
		_, _ = s.NewKey("aws_access_key_id", c.AccessKeyID.Reveal())
		_, _ = s.NewKey("aws_secret_access_key", c.SecretAccessKey.Reveal())
		if !c.SessionToken.Empty() {
			_, _ = s.NewKey("aws_session_token", c.SessionToken.Reveal())
		}
		section := "profile " + name
		if name == "default" {
			section = "default"
		}
		cs, err := configOut.NewSection(section)
		if err != nil {
			return Files{}, fmt.Errorf("write profiles: %w", err)
		}
		if c.Region != "" {
			_, _ = cs.NewKey("region", c.Region)
		}
	}
	if carry {
		credsFile, configFile := userSharedFiles(getenv)
		if err := carryOver(credsOut, credsFile, own); err != nil {
			return Files{}, fmt.Errorf("write profiles: %w", err)
		}
		if err := carryOver(configOut, configFile, own); err != nil {
			return Files{}, fmt.Errorf("write profiles: %w", err)
		}
	}
	f := Files{Credentials: filepath.Join(dir, "credentials"), Config: filepath.Join(dir, "config")}
	if err := writeINI(f.Credentials, credsOut); err != nil {
		return Files{}, fmt.Errorf("write profiles: %w", err)
	}
	if err := writeINI(f.Config, configOut); err != nil {
		return Files{}, fmt.Errorf("write profiles: %w", err)
	}
	return f, nil
}

// checkCredentials makes sure nothing but a key can reach the file: no
// newline, comment or section syntax. The values are never printed.
func checkCredentials(name string, c *Credentials) error {
	if !keyPattern().MatchString(c.AccessKeyID.Reveal()) || !keyPattern().MatchString(c.SecretAccessKey.Reveal()) {
		return fmt.Errorf("credentials of %q: access key id or secret is empty or has characters outside [A-Za-z0-9/+=]", name)
	}
	if !c.SessionToken.Empty() && !keyPattern().MatchString(c.SessionToken.Reveal()) {
		return fmt.Errorf("credentials of %q: session token has characters outside [A-Za-z0-9/+=]", name)
	}
	if c.Region != "" && !regionPattern().MatchString(c.Region) {
		return fmt.Errorf("credentials of %q: invalid region %q", name, c.Region)
	}
	return nil
}

// carryOver copies the sections of the user's file at path that are not
// profiles named in own into out, keys, nested values and comments
// included. A missing file carries nothing.
//
// A section is ours whatever its spelling: the SDKs read both [name] and
// [profile name] in either file (aws-sdk-go v1, which terraform's S3
// backend used up to 1.5, prefers [name] in the config file; v2 reads
// [profile default] as default), so a user's [plat-prod] next to our
// [profile plat-prod] could win. profileName normalises the spelling.
func carryOver(out *ini.File, path string, own map[string]bool) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	in, err := ini.LoadSources(iniOptions(), path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	for _, s := range in.Sections() {
		name := s.Name()
		if own[profileName(name)] || (name == ini.DefaultSection && len(s.Keys()) == 0) {
			continue
		}
		dst := out.Section(name) // creates it; DEFAULT already exists
		dst.Comment = s.Comment
		for _, k := range s.Keys() {
			nk, err := dst.NewKey(k.Name(), k.Value())
			if err != nil {
				return fmt.Errorf("copy %s [%s] %s: %w", path, name, k.Name(), err)
			}
			nk.Comment = k.Comment
			for _, v := range k.NestedValues() {
				if err := nk.AddNestedValue(v); err != nil {
					return fmt.Errorf("copy %s [%s] %s: %w", path, name, k.Name(), err)
				}
			}
		}
	}
	return nil
}

// profileName is the profile a shared-file section names: the section name
// without surrounding spaces and without a leading "profile " (so
// [profile default], [default] and [ profile  x ] name default and x).
// Other sections ([sso-session x], [services x]) keep their full name and so
// never collide with a profile.
func profileName(section string) string {
	name := strings.TrimSpace(section)
	if rest, ok := strings.CutPrefix(name, "profile"); ok && rest != strings.TrimLeft(rest, " \t") {
		return strings.TrimSpace(rest)
	}
	return name
}

// writeINI writes f to path atomically: a 0600 temporary file in the same
// directory, then a rename, so a reader never sees a partial file. (ini's
// SaveTo creates 0666 files in place.) There is no fsync: the files live
// only as long as one terraform run and are useless after a crash, while an
// fsync costs every run tens of milliseconds on a disk-backed temp dir.
func writeINI(path string, f *ini.File) error {
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename this is a no-op
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
