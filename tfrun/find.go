// Package tfrun finds the real terraform while skipping tfauth itself, and
// hands the process over to it with exact fidelity: arguments, standard
// streams, signals and exit status.
package tfrun

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// ErrNotFound reports that no real terraform could be found.
var ErrNotFound = errors.New("no real terraform found")

// FindOptions says where to look for the real terraform.
type FindOptions struct {
	// Name is the executable name to look for, normally "terraform"
	// (".exe" is added on Windows).
	Name string
	// Explicit is $TFAUTH_TERRAFORM, or "".
	Explicit string
	// ConfigPath is the configuration's terraform.path, or "".
	ConfigPath string
	// ConfigSource names where ConfigPath was set ("tfauth.yaml:3").
	ConfigSource string
	// PathList is the value of $PATH.
	PathList string
	// Self is this executable's path (os.Executable).
	Self string
	// Skip lists other tfauth shims already passed through in this
	// hand-off chain; they are skipped like Self.
	Skip []string
}

// Candidate is one PATH entry considered by the search, for `tfauth doctor`.
type Candidate struct {
	Path string
	// Skipped is why the candidate was not used, or "" for the chosen one
	// and for those after it.
	Skipped string
	// Chosen marks the candidate terraform runs.
	Chosen bool
}

// Find returns the absolute path of the real terraform. Candidates that are
// this executable (by os.SameFile, so symlinks and hard links count) or an
// earlier shim of the chain are skipped; nothing is executed.
//
// The search is written here rather than with hc-install's fs finders: those
// have no way to exclude the shim (fs.AnyVersion returns it when it comes
// first on PATH, fs.Version executes it), and linking hc-install costs every
// terraform invocation about 0.2 ms of package initialisation for what is a
// handful of stat calls.
func Find(opts FindOptions) (string, error) {
	p, _, err := search(opts, false)
	return p, err
}

// Candidates lists every terraform on PATH with what Find makes of it.
func Candidates(opts FindOptions) []Candidate {
	_, c, _ := search(opts, true)
	return c
}

func search(opts FindOptions, all bool) (string, []Candidate, error) {
	name := opts.Name
	if name == "" {
		name = "terraform"
	}
	if runtime.GOOS == "windows" && !strings.HasSuffix(strings.ToLower(name), ".exe") {
		name += ".exe"
	}
	skip := newSkipSet(opts.Self, opts.Skip)

	if opts.Explicit != "" {
		p, err := checkExplicit(opts.Explicit, "TFAUTH_TERRAFORM", skip)
		return p, nil, err
	}
	if opts.ConfigPath != "" {
		p, err := checkExplicit(opts.ConfigPath, "terraform.path in "+opts.ConfigSource, skip)
		return p, nil, err
	}

	var cands []Candidate
	chosen := ""
	var searched []string
	for _, dir := range filepath.SplitList(opts.PathList) {
		if dir == "" {
			dir = "."
		}
		searched = append(searched, dir)
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		if err != nil || fi.IsDir() || !executable(fi) {
			continue
		}
		c := Candidate{Path: p}
		switch {
		case chosen != "":
		case skip.isSelf(fi):
			c.Skipped = "this is tfauth itself"
		case skip.isShim(fi):
			c.Skipped = "another tfauth shim already passed in this hand-off"
		default:
			abs, err := filepath.Abs(p)
			if err != nil {
				c.Skipped = err.Error()
				break
			}
			chosen = abs
			c.Chosen = true
		}
		cands = append(cands, c)
		if chosen != "" && !all {
			break
		}
	}
	if chosen != "" {
		return chosen, cands, nil
	}
	return "", cands, notFoundError(name, searched, cands)
}

func notFoundError(name string, searched []string, cands []Candidate) error {
	var skipped []string
	for _, c := range cands {
		if c.Skipped != "" {
			skipped = append(skipped, fmt.Sprintf("%s (%s)", c.Path, c.Skipped))
		}
	}
	dirs := "directories"
	if len(searched) == 1 {
		dirs = "directory"
	}
	msg := fmt.Sprintf("searched TFAUTH_TERRAFORM (unset) and %d PATH %s for %s", len(searched), dirs, name)
	if len(skipped) > 0 {
		msg += "; skipped " + strings.Join(skipped, ", ")
	}
	return fmt.Errorf("%w: %s; install terraform, or set TFAUTH_TERRAFORM to the real terraform's path", ErrNotFound, msg)
}

func checkExplicit(p, source string, skip skipSet) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("%s %q: %w", source, p, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("%w: %s is %q, but %v; point it at the real terraform binary", ErrNotFound, source, p, pathErrText(err))
	}
	if skip.isSelf(fi) || skip.isShim(fi) {
		return "", fmt.Errorf("%w: %s is %q, which is tfauth itself, not terraform; point it at the real terraform binary", ErrNotFound, source, p)
	}
	if fi.IsDir() {
		return "", fmt.Errorf("%w: %s is %q, which is a directory; point it at the terraform binary inside it", ErrNotFound, source, p)
	}
	if !executable(fi) {
		return "", fmt.Errorf("%w: %s is %q, which is not executable; point it at the real terraform binary, or chmod +x it", ErrNotFound, source, p)
	}
	return abs, nil
}

func pathErrText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// skipSet holds the files Find must never choose.
type skipSet struct {
	self  os.FileInfo
	shims []os.FileInfo
}

func newSkipSet(self string, shims []string) skipSet {
	var s skipSet
	if self != "" {
		if fi, err := os.Stat(self); err == nil {
			s.self = fi
		}
	}
	for _, p := range shims {
		if fi, err := os.Stat(p); err == nil {
			s.shims = append(s.shims, fi)
		}
	}
	return s
}

func (s skipSet) isSelf(fi os.FileInfo) bool { return s.self != nil && os.SameFile(s.self, fi) }

func (s skipSet) isShim(fi os.FileInfo) bool {
	for _, o := range s.shims {
		if os.SameFile(o, fi) {
			return true
		}
	}
	return false
}

func executable(fi os.FileInfo) bool {
	if runtime.GOOS == "windows" {
		return fi.Mode().IsRegular()
	}
	return fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
