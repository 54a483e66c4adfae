// Package wrapper is tfauth's front door. It reads argv and decides the
// mode: invoked as `terraform` it is the shim (authenticate if needed, then
// hand off to the real terraform); invoked as `tfauth` it is tfauth's own
// command line. It is the only package that writes to stdout and stderr,
// and it prints every error once, at the top.
package wrapper

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// Process is everything Main needs from the process, passed in as values so
// tests can run it without touching the real process state.
type Process struct {
	// Args is os.Args.
	Args []string
	// Env is os.Environ().
	Env []string
	// Stdin, Stdout and Stderr are the standard streams.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Version is tfauth's release version ("" in development builds).
	Version string
	// ReraiseSignals makes an authentication interrupted by a signal end
	// the process by that same signal, as a shell expects of a child it
	// interrupted (a loop in a script stops), instead of exiting 128+N.
	// Only the real process sets it; tests must not kill themselves.
	ReraiseSignals bool
}

// app carries one invocation's state.
type app struct {
	p      Process
	env    map[string]string
	log    *slog.Logger
	github bool
	// configFile is the --config of tfauth's command line, or "".
	configFile string
}

func (a *app) getenv(k string) string { return a.env[k] }

// Main runs tfauth and returns the process exit code. On Unix a successful
// hand-off to terraform never returns: terraform replaces this process.
func Main(p Process) int {
	a := &app{p: p, env: envMap(p.Env)}
	a.github = a.getenv("GITHUB_ACTIONS") == "true"
	a.log = newLogger(p.Stderr, a.getenv)

	name, args := "tfauth", []string(nil)
	if len(p.Args) > 0 {
		name, args = filepath.Base(p.Args[0]), p.Args[1:]
		if ext := filepath.Ext(name); strings.EqualFold(ext, ".exe") {
			name = strings.TrimSuffix(name, ext)
		}
	}
	var code int
	var err error
	if strings.HasPrefix(name, "terraform") {
		code, err = a.shim(name, args, "")
	} else {
		code, err = a.cli(args)
	}
	if err != nil {
		a.printError(err)
		if code == 0 {
			code = 1
		}
		var se signalError
		if p.ReraiseSignals && errors.As(err, &se) {
			reraise(se.sig)
		}
	}
	return code
}

// printError prints err once, as one "tfauth: error: ..." block on stderr
// ("tfauth: ..." for a usage mistake or an interrupt).
func (a *app) printError(err error) {
	var ue usageError
	var se signalError
	if errors.As(err, &ue) || errors.As(err, &se) {
		// A command-line mistake, or the user's own interrupt: not errors
		// of tfauth's, so without the "error:" decoration.
		fmt.Fprintf(a.p.Stderr, "tfauth: %v\n", err)
		return
	}
	a.log.Error(err.Error())
}

// usageError is a command-line mistake; it is printed without the "error:"
// decoration, followed by the hint already in its text.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if ok {
			m[k] = v
		}
	}
	return m
}

// selfPath is this executable's path with symlinks resolved.
func selfPath() string {
	p, err := os.Executable()
	if err != nil {
		return ""
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

// version returns tfauth's version: the release version, else the module
// version recorded by `go install`, else "dev".
func (a *app) version() string {
	if a.p.Version != "" {
		return a.p.Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
