package wrapper

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
)

// envVar is one variable `tfauth auth env` prints.
type envVar struct {
	Key, Value string
	// Secret marks a value that must be masked in CI logs.
	Secret bool
}

// envFormats lists the output formats of `tfauth auth env`.
const envFormats = "bash, dotenv, json, github"

// secretKey reports whether a variable named key holds a secret, going by
// its name. The variables tfauth sets are paths and names; this guards any
// future one that is not.
func secretKey(key string) bool {
	k := strings.ToUpper(key)
	for _, w := range []string{"SECRET", "TOKEN", "PASSWORD", "ACCESS_KEY"} {
		if strings.Contains(k, w) && !strings.HasSuffix(k, "_FILE") {
			return true
		}
	}
	return false
}

// writeEnv writes vars in format. unset names variables to remove (they
// would beat the profiles): bash unsets them, github empties them, dotenv
// and json cannot express removal and leave them out. For github the
// variables are appended to the file githubEnv ($GITHUB_ENV) and w gets an
// ::add-mask:: line per secret value.
func writeEnv(w io.Writer, format string, vars []envVar, unset []string, githubEnv string) error {
	switch format {
	case "bash":
		var b strings.Builder
		if len(unset) > 0 {
			fmt.Fprintf(&b, "unset %s\n", strings.Join(unset, " "))
		}
		for _, v := range vars {
			fmt.Fprintf(&b, "export %s=%s\n", v.Key, shellQuote(v.Value))
		}
		_, err := io.WriteString(w, b.String())
		return err
	case "dotenv":
		var b strings.Builder
		for _, v := range vars {
			fmt.Fprintf(&b, "%s=%s\n", v.Key, dotenvQuote(v.Value))
		}
		_, err := io.WriteString(w, b.String())
		return err
	case "json":
		m := make(map[string]string, len(vars))
		for _, v := range vars {
			m[v.Key] = v.Value
		}
		out, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(out, '\n'))
		return err
	case "github":
		return writeGitHubEnv(w, vars, unset, githubEnv)
	}
	return usageError{fmt.Sprintf("auth env: unknown format %q; use one of %s", format, envFormats)}
}

// writeGitHubEnv masks the secret values (on w, where the runner reads
// workflow commands) and then appends every variable to githubEnv, in the
// KEY=value form, or the KEY<<DELIMITER form for a value with a newline.
func writeGitHubEnv(w io.Writer, vars []envVar, unset []string, githubEnv string) error {
	if githubEnv == "" {
		return errors.New("--format github appends to $GITHUB_ENV, which is not set: run it in a GitHub Actions step, or pick --format bash|dotenv|json")
	}
	var b strings.Builder
	for _, v := range vars {
		if v.Secret {
			// A mask applies line by line.
			for _, line := range strings.Split(v.Value, "\n") {
				if line = strings.TrimRight(line, "\r"); line != "" {
					fmt.Fprintf(w, "::add-mask::%s\n", line)
				}
			}
		}
		if strings.ContainsAny(v.Value, "\r\n") {
			d, err := heredocDelimiter(v.Value)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "%s<<%s\n%s\n%s\n", v.Key, d, v.Value, d)
			continue
		}
		fmt.Fprintf(&b, "%s=%s\n", v.Key, v.Value)
	}
	for _, k := range unset {
		fmt.Fprintf(&b, "%s=\n", k)
	}
	f, err := os.OpenFile(githubEnv, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("append to $GITHUB_ENV: %w", err)
	}
	if _, err := io.WriteString(f, b.String()); err != nil {
		f.Close()
		return fmt.Errorf("append to $GITHUB_ENV: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("append to $GITHUB_ENV: %w", err)
	}
	return nil
}

// heredocDelimiter returns a random delimiter that does not occur in value.
func heredocDelimiter(value string) (string, error) {
	for {
		var r [12]byte
		if _, err := rand.Read(r[:]); err != nil {
			return "", fmt.Errorf("make a $GITHUB_ENV delimiter: %w", err)
		}
		d := "ghadelimiter_" + hex.EncodeToString(r[:])
		if !strings.Contains(value, d) {
			return d, nil
		}
	}
}

// shellQuote quotes s for a POSIX shell: in single quotes, with each
// embedded single quote closed, backslash-escaped and reopened.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

var dotenvPlain = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_./:@%+,=-]*$`) })

// dotenvQuote returns s as a dotenv value: bare when it has only safe
// characters, in single quotes (taken literally) when it has no ' or
// newline, else in double quotes with \\, \" and \n escapes.
func dotenvQuote(s string) string {
	switch {
	case dotenvPlain().MatchString(s):
		return s
	case !strings.ContainsAny(s, "'\n\r"):
		return "'" + s + "'"
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`)
	return `"` + r.Replace(s) + `"`
}
