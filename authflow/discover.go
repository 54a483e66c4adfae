package authflow

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Configuration file names, in the order Discover looks for them.
const (
	ConfigName       = "tfauth.yaml"
	HiddenConfigName = ".tfauth.yaml"
	AtmosConfigName  = "atmos.yaml"
	// ConfigEnv names the environment variable holding an explicit config path.
	ConfigEnv = "TFAUTH_CONFIG"
)

// Discover returns the configuration file for dir (the working directory
// after -chdir), or "" when there is none. It only stats files, except
// that it scans an atmos.yaml's lines for a top-level auth: key.
//
// The order is: $TFAUTH_CONFIG (which must exist); walking up from dir,
// tfauth.yaml then .tfauth.yaml in each directory; walking up again, an
// atmos.yaml with a top-level auth: key; $XDG_CONFIG_HOME/tfauth/config.yaml
// ($HOME/.config when XDG_CONFIG_HOME is unset or relative).
// getenv reads the environment.
func Discover(dir string, getenv func(string) string) (string, error) {
	if v := getenv(ConfigEnv); v != "" {
		const hint = "point it at your tfauth.yaml, or unset it to search from the working directory"
		fi, err := os.Stat(v)
		if err != nil {
			why := "but " + pathErrText(err)
			if target, ok := brokenLink(v); ok {
				why = fmt.Sprintf("a symlink to %q, which %s", target, missingText(err))
			}
			return "", &causeError{msg: fmt.Sprintf("%s is %q, %s; %s", ConfigEnv, v, why, hint), err: err}
		}
		if fi.IsDir() {
			return "", fmt.Errorf("%s is %q, which is a directory; point it at the configuration file itself, such as %s",
				ConfigEnv, v, filepath.Join(v, ConfigName))
		}
		return v, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find config from %s: %w", dir, err)
	}
	dirs := ancestors(abs)
	for _, d := range dirs {
		for _, name := range []string{ConfigName, HiddenConfigName} {
			p := filepath.Join(d, name)
			if isFile(p) {
				return p, nil
			}
			// A broken symlink is a configuration gone missing: running
			// without it would authenticate nothing, silently.
			if target, ok := brokenLink(p); ok {
				_, err := os.Stat(p)
				return "", &causeError{msg: fmt.Sprintf("%s is a symlink to %q, which %s; fix the link or remove it", p, target, missingText(err)), err: err}
			}
		}
	}
	for _, d := range dirs {
		if p := filepath.Join(d, AtmosConfigName); isFile(p) && hasAuthKey(p) {
			return p, nil
		}
	}
	base := getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(base) {
		base = ""
		if home := getenv("HOME"); home != "" {
			base = filepath.Join(home, ".config")
		}
	}
	if base != "" {
		if p := filepath.Join(base, "tfauth", "config.yaml"); isFile(p) {
			return p, nil
		}
	}
	return "", nil
}

// brokenLink returns the target of p when p is a symlink that cannot be
// followed.
func brokenLink(p string) (string, bool) {
	fi, err := os.Lstat(p)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		return "", false
	}
	if _, err := os.Stat(p); err == nil {
		return "", false
	}
	target, err := os.Readlink(p)
	return target, err == nil
}

// missingText completes "a symlink to X, which ..." for the error of
// following it.
func missingText(err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return "does not exist"
	}
	return "cannot be read: " + pathErrText(err)
}

// pathErrText is err without the operation and path a *fs.PathError adds,
// for messages that name the path themselves.
func pathErrText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// ancestors returns dir and its parents up to the root.
func ancestors(dir string) []string {
	var out []string
	for {
		out = append(out, dir)
		parent := filepath.Dir(dir)
		if parent == dir {
			return out
		}
		dir = parent
	}
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// hasAuthKey reports whether the YAML file at p has a top-level auth: key,
// scanning lines rather than parsing: a top-level block-mapping key starts
// at column 0, and nothing else at column 0 can look like one (block
// scalar content and nested keys are indented; comments start with #).
func hasAuthKey(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	first := true
	for sc.Scan() {
		line := sc.Bytes()
		if first {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
			first = false
		}
		if isAuthKeyLine(line) {
			return true
		}
	}
	return false
}

func isAuthKeyLine(line []byte) bool {
	var rest []byte
	switch {
	case bytes.HasPrefix(line, []byte("auth")):
		rest = line[len("auth"):]
	case bytes.HasPrefix(line, []byte(`"auth"`)), bytes.HasPrefix(line, []byte(`'auth'`)):
		rest = line[len(`"auth"`):]
	default:
		return false
	}
	rest = bytes.TrimLeft(rest, " \t")
	if len(rest) == 0 || rest[0] != ':' {
		return false
	}
	rest = rest[1:]
	return len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\r'
}
