package wrapper

import (
	"cmp"
	"crypto/rand"
	"debug/buildinfo"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"

	"github.com/tfauth/tfauth/tfrun"
)

const shimUsage = `tfauth shim install [--dir DIR] [--force]

Creates DIR/terraform (default ~/.local/bin) as a symlink to this tfauth
executable (a copy on Windows), so that every terraform command on PATH goes
through tfauth. An existing DIR/terraform that is not tfauth is left alone
unless --force is given. DIR must come before the real terraform on PATH.
`

// cmdShim runs `tfauth shim SUBCOMMAND`.
func (a *app) cmdShim(args []string) (int, error) {
	if len(args) == 0 {
		fmt.Fprint(a.p.Stdout, shimUsage)
		return 0, nil
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(a.p.Stdout, shimUsage)
		return 0, nil
	case "install":
		return a.cmdShimInstall(args[1:])
	}
	return 1, usageError{fmt.Sprintf("unknown shim command %q; the one command is `tfauth shim install [--dir DIR] [--force]`", args[0])}
}

func (a *app) cmdShimInstall(args []string) (int, error) {
	fs := a.newFlagSet("shim install", "tfauth shim install [--dir DIR] [--force]")
	dir := fs.String("dir", "", "the directory to create terraform in (default ~/.local/bin)")
	force := fs.Bool("force", false, "replace a DIR/terraform that is not tfauth")
	if done, err := a.parseFlags(fs, args); done {
		return exitFor(err), err
	}
	if fs.NArg() > 0 {
		return 1, usageError{fmt.Sprintf("shim install takes no arguments (got %q); name the directory with --dir DIR", fs.Arg(0))}
	}
	d := *dir
	if d == "" {
		home := a.getenv("HOME")
		if runtime.GOOS == "windows" {
			home = cmp.Or(a.getenv("USERPROFILE"), home)
		}
		if home == "" {
			return 1, errors.New("no home directory to install into: pass --dir DIR")
		}
		d = filepath.Join(home, ".local", "bin")
	}
	d, err := filepath.Abs(d)
	if err != nil {
		return 1, fmt.Errorf("install the shim: %w", err)
	}
	self := selfPath()
	if self == "" {
		return 1, errors.New("install the shim: cannot find this executable's path")
	}
	res, err := installShim(shimInstall{Dir: d, Target: self, Force: *force, Copy: runtime.GOOS == "windows"})
	if err != nil {
		return 1, err
	}
	how := "->"
	if res.copied {
		how = "copied from"
	}
	fmt.Fprintf(a.p.Stdout, "%s %s %s %s\n", res.action, res.path, how, self)
	for _, w := range shimPathWarnings(d, a.getenv("PATH"), self) {
		a.log.Warn(w)
	}
	tf, err := tfrun.Find(tfrun.FindOptions{
		Name:     "terraform",
		Explicit: a.getenv("TFAUTH_TERRAFORM"),
		PathList: a.getenv("PATH"),
		Self:     self,
	})
	if err != nil {
		a.log.Warn(fmt.Sprintf("no real terraform for the shim to run yet: %v", err))
	} else {
		fmt.Fprintf(a.p.Stdout, "real terraform: %s\n", tf)
	}
	return 0, nil
}

// shimInstall says what installShim does.
type shimInstall struct {
	// Dir is where terraform is created (made if missing).
	Dir string
	// Target is the tfauth executable, with symlinks resolved.
	Target string
	// Force replaces a Dir/terraform that is not tfauth.
	Force bool
	// Copy copies Target instead of symlinking to it (Windows).
	Copy bool
}

type shimResult struct {
	path   string
	action string // "installed", "replaced", "updated" or "already installed"
	copied bool
}

// installShim creates Dir/terraform as a symlink to Target (a copy of it
// with Copy), atomically: the new entry is made under a temporary name and
// renamed over the old one. It never replaces a directory, nor a file that
// is not tfauth unless Force is set.
func installShim(o shimInstall) (shimResult, error) {
	name := "terraform"
	if o.Copy && runtime.GOOS == "windows" {
		name += ".exe"
	}
	dst := filepath.Join(o.Dir, name)
	res := shimResult{path: dst, action: "installed", copied: o.Copy}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return res, fmt.Errorf("install the shim: %w", err)
	}
	fi, err := os.Lstat(dst)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return res, fmt.Errorf("install the shim: %w", err)
	case fi.IsDir():
		return res, fmt.Errorf("%s is a directory: remove it, or install into another --dir", dst)
	default:
		if !o.Copy && fi.Mode()&fs.ModeSymlink != 0 {
			if t, err := os.Readlink(dst); err == nil && t == o.Target {
				res.action = "already installed"
				return res, nil
			}
		}
		switch {
		case isTfauth(dst, o.Target):
			res.action = "updated"
		case o.Force:
			res.action = "replaced"
		default:
			return res, fmt.Errorf("%s exists and is not tfauth (%s): move it away, or pass --force to replace it", dst, describeFile(dst, fi))
		}
	}
	tmp, err := tempName(o.Dir, "."+name+".tfauth-")
	if err != nil {
		return res, fmt.Errorf("install the shim: %w", err)
	}
	if o.Copy {
		err = copyFile(o.Target, tmp)
	} else {
		err = os.Symlink(o.Target, tmp)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return res, fmt.Errorf("install the shim: %w", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.Remove(tmp)
		return res, fmt.Errorf("install the shim: %w", err)
	}
	return res, nil
}

// isTfauth reports whether the program at path is tfauth: the same file as
// self, or a Go program of the same main module (another build or version
// of tfauth). It reads the file's build information; it never runs it.
func isTfauth(path, self string) bool {
	if fi, err := os.Stat(path); err == nil {
		if si, err := os.Stat(self); err == nil && os.SameFile(fi, si) {
			return true
		}
	}
	own, ok := debug.ReadBuildInfo()
	if !ok || own.Main.Path == "" {
		return false
	}
	bi, err := buildinfo.ReadFile(path)
	return err == nil && bi.Main.Path == own.Main.Path
}

// describeFile says what an existing non-tfauth file is, for the refusal.
func describeFile(path string, fi fs.FileInfo) string {
	if fi.Mode()&fs.ModeSymlink != 0 {
		t, _ := os.Readlink(path)
		if _, err := os.Stat(path); err != nil {
			return "a dangling symlink to " + t
		}
		return "a symlink to " + t
	}
	return "a file"
}

// tempName returns an unused name in dir starting with prefix.
func tempName(dir, prefix string) (string, error) {
	var r [8]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	return filepath.Join(dir, prefix+hex.EncodeToString(r[:])), nil
}

// copyFile copies src to a new file dst, executable.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// shimPathWarnings says what keeps `terraform` on pathList from reaching the
// shim in dir: dir missing from PATH, or another terraform (not tfauth)
// found before it.
func shimPathWarnings(dir, pathList, self string) []string {
	entries := filepath.SplitList(pathList)
	at := -1
	for i, e := range entries {
		if samePath(e, dir) {
			at = i
			break
		}
	}
	if at < 0 {
		return []string{fmt.Sprintf("%s is not on PATH: add it ahead of the real terraform (export PATH=\"%s%c$PATH\")", dir, dir, os.PathListSeparator)}
	}
	var out []string
	for _, e := range entries[:at] {
		if e == "" || !filepath.IsAbs(e) {
			continue
		}
		for _, name := range executableNames("terraform") {
			cand := filepath.Join(e, name)
			fi, err := os.Stat(cand)
			if err != nil || fi.IsDir() || isTfauth(cand, self) {
				continue
			}
			out = append(out, fmt.Sprintf("%s comes before %s on PATH, so `terraform` runs it, not tfauth: put %s first", cand, dir, dir))
		}
	}
	return out
}

// executableNames are the file names a command name runs as.
func executableNames(name string) []string {
	if runtime.GOOS == "windows" {
		return []string{name + ".exe", name + ".cmd", name + ".bat"}
	}
	return []string{name}
}

// samePath reports whether two directory names are the same directory.
func samePath(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	ai, err1 := os.Stat(a)
	bi, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(ai, bi)
}
