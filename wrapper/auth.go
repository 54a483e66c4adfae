package wrapper

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tfauth/tfauth/authflow"
	"github.com/tfauth/tfauth/tfrun"
)

// identityOverride returns the identity asked for outside the config, and
// where it came from: --identity, then TFAUTH_IDENTITY, then ATMOS_IDENTITY.
func (a *app) identityOverride(inv Invocation) (value, source string) {
	switch {
	case inv.IdentitySet:
		return inv.Identity, "--identity"
	case a.getenv("TFAUTH_IDENTITY") != "":
		return a.getenv("TFAUTH_IDENTITY"), "TFAUTH_IDENTITY"
	case a.getenv("ATMOS_IDENTITY") != "":
		return a.getenv("ATMOS_IDENTITY"), "ATMOS_IDENTITY"
	}
	return "", ""
}

// sessionConfigEnv names the configuration file whose profiles the run's
// session directory holds; a nested run reuses them only for the same file.
const sessionConfigEnv = "TFAUTH_SESSION_CONFIG"

// authenticate runs the pipeline for one terraform run (or `tfauth auth
// exec`), writes the profiles into a fresh session directory and returns
// terraform's environment and the private directory, whose cleaner is
// already running. With nothing to do it returns the environment unchanged.
// ctx is cancelled by a signal (see signalContext).
func (a *app) authenticate(ctx context.Context, cfg *authflow.Config, inv Invocation) ([]string, *tfrun.Cleanup, error) {
	override, source := a.identityOverride(inv)
	if override != "" && authflow.IdentityDisabled(override) {
		a.log.Debug("authentication turned off", "by", source)
		return a.p.Env, nil, nil
	}
	if cfg == nil {
		if inv.IdentitySet {
			return nil, nil, fmt.Errorf("--identity %q needs a configuration, but none was found: no TFAUTH_CONFIG, and no tfauth.yaml, .tfauth.yaml or atmos.yaml with auth: in the working directory or above; create a tfauth.yaml (`tfauth doctor` shows the search), or drop --identity", inv.Identity)
		}
		return a.p.Env, nil, nil
	}
	if len(cfg.Identities) == 0 {
		return a.p.Env, nil, nil
	}
	if a.reusable(cfg, override, source) {
		// A terraform run by tfauth runs terraform again (local-exec,
		// terragrunt) for the same configuration and primary: the
		// enclosing run's profiles are still live, so reuse them.
		a.log.Debug("reusing the profiles of the enclosing tfauth run", "dir", a.getenv(authflow.SessionDirEnv))
		return a.p.Env, nil, nil
	}
	res, err := a.pipeline(ctx, cfg, inv, scopeRun, func(id string, err error) {
		a.log.Warn(fmt.Sprintf("%v; the run goes on without profile %q", err, id))
	})
	if err != nil {
		return nil, nil, err
	}
	sd, err := authflow.NewSessionDir(runtimeBase(a.getenv))
	if err != nil {
		return nil, nil, err
	}
	cleanup := &tfrun.Cleanup{Dir: sd.Path, Lock: sd.Lock}
	if err := tfrun.StartCleaner(cleanup); err != nil {
		_ = sd.Remove()
		return nil, nil, err
	}
	files, err := authflow.WriteProfiles(sd.Path, res, cfg.Options.UserProfiles, a.getenv)
	if err != nil {
		_ = sd.Remove()
		return nil, nil, err
	}
	env := authflow.Env(a.p.Env, files, res, sd.Path)
	return tfrun.SetEnv(env, map[string]string{sessionConfigEnv: cfg.File}), cleanup, nil
}

// reusable reports whether this run is nested in a tfauth run (terraform →
// local-exec → terraform) whose profiles it can use as they are: the
// enclosing session directory still exists, it was made for the same
// configuration file, and no other primary is asked for.
func (a *app) reusable(cfg *authflow.Config, override, source string) bool {
	d := a.getenv(authflow.SessionDirEnv)
	if d == "" || source == "--identity" || a.getenv(sessionConfigEnv) != cfg.File {
		return false
	}
	if override != "" && override != a.getenv("AWS_PROFILE") {
		return false
	}
	fi, err := os.Stat(d)
	return err == nil && fi.IsDir()
}

// handoff hands the process over to h after authentication: it stops
// catching signals, and if one arrived meanwhile, removes the directory
// and reports it instead of starting the program. ctx and stop come from
// signalContext (stop may be nil when nothing was authenticated).
func (a *app) handoff(ctx context.Context, stop func(), h tfrun.Handoff) (int, error) {
	if stop != nil {
		stop()
		if err := signalErr(ctx); err != nil {
			if h.Cleanup != nil {
				_ = os.RemoveAll(h.Cleanup.Dir)
			}
			return authExitCode(err), err
		}
	}
	return tfrun.Exec(h)
}

// scope says which identities a pipeline authenticates.
type scope int

const (
	// scopeRun is a terraform run's: the primary and every required identity.
	scopeRun scope = iota
	// scopeOne is the primary alone.
	scopeOne
	// scopeAll is every configured identity, the primary first.
	scopeAll
)

// pipeline is tfauth's authentication, shared by the shim and the auth
// commands: select the primary identity (--identity, TFAUTH_IDENTITY,
// ATMOS_IDENTITY, else the default), plan the identities of sc, sweep stale
// session directories, run the graph, and hand each failed secondary
// identity to warn (nil says nothing). When the primary failed it returns
// its *authflow.StepError together with the results of the others.
func (a *app) pipeline(ctx context.Context, cfg *authflow.Config, inv Invocation, sc scope, warn func(id string, err error)) (*authflow.Results, error) {
	override, source := a.identityOverride(inv)
	primary, err := authflow.Select(cfg, override)
	if err != nil {
		if source != "" {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		return nil, err
	}
	var g *authflow.Graph
	switch sc {
	case scopeOne:
		g, err = authflow.PlanTargets(cfg, []string{primary})
	case scopeAll:
		g, err = authflow.PlanTargets(cfg, allIdentities(cfg, primary))
	default:
		g, err = authflow.Plan(cfg, primary)
	}
	if err != nil {
		return nil, err
	}

	if err := authflow.Sweep(runtimeBase(a.getenv)); err != nil {
		a.log.Debug("sweeping stale credential directories", "error", err)
	}
	start := time.Now()
	res, err := authflow.Run(ctx, g, authflow.RunOptions{
		Getenv:      a.getenv,
		Concurrency: cfg.Options.Concurrency,
		Timeout:     cfg.Options.Timeout,
		Logger:      a.log,
	})
	if serr := signalErr(ctx); serr != nil {
		return nil, serr
	}
	if err != nil {
		return res, err
	}
	if warn != nil {
		failed := make([]string, 0, len(res.Failures))
		for id := range res.Failures {
			failed = append(failed, id)
		}
		sort.Strings(failed)
		for _, id := range failed {
			warn(id, res.Failures[id])
		}
	}
	a.log.Info(fmt.Sprintf("authenticated %s in %s", strings.Join(res.Order, ", "), time.Since(start).Round(time.Millisecond)),
		"primary", res.Primary, "config", cfg.File)
	return res, nil
}

// allIdentities lists every identity of cfg: primary, then the required
// ones, then the others, each group sorted by name.
func allIdentities(cfg *authflow.Config, primary string) []string {
	var required, others []string
	for name, id := range cfg.Identities {
		switch {
		case name == primary:
		case id.Required:
			required = append(required, name)
		default:
			others = append(others, name)
		}
	}
	sort.Strings(required)
	sort.Strings(others)
	return append(append([]string{primary}, required...), others...)
}

// runtimeBase is where private credential directories go: $XDG_RUNTIME_DIR
// (a per-user tmpfs on most Linux desktops) when usable, else the temp dir;
// always absolute, since terraform may change directory (-chdir).
func runtimeBase(getenv func(string) string) string {
	base := os.TempDir()
	if d := getenv("XDG_RUNTIME_DIR"); d != "" {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			base = d
		}
	} else if d := getenv("TMPDIR"); d != "" {
		base = d
	}
	if abs, err := filepath.Abs(base); err == nil {
		return abs
	}
	return base
}

// signalError reports that authentication was interrupted by a signal.
type signalError struct{ sig syscall.Signal }

func (e signalError) Error() string {
	return fmt.Sprintf("authentication interrupted by %s; terraform was not started", signalName(e.sig))
}

// signalName is the conventional name of sig ("SIGINT"), which says more
// than its description ("interrupt").
func signalName(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return fmt.Sprintf("signal %d", int(sig))
}

type sigCtxKey struct{}

// signalContext returns a context cancelled by SIGINT, SIGTERM or SIGHUP,
// which records the signal for signalErr, and a stop function (safe to call
// more than once) that restores the default actions and still records a
// signal that arrived just before. It covers authentication only: terraform
// receives signals directly once it runs.
func signalContext() (context.Context, func()) {
	got := make(chan os.Signal, 1)
	signal.Notify(got, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	holder := new(atomic.Int32)
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), sigCtxKey{}, holder))
	record := func(s os.Signal) {
		if ss, ok := s.(syscall.Signal); ok {
			holder.CompareAndSwap(0, int32(ss))
		}
		cancel()
	}
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case s := <-got:
			record(s)
		case <-done:
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(got)
			close(done)
			<-exited
			select {
			case s := <-got:
				record(s)
			default:
			}
		})
	}
}

// signalErr returns a signalError when ctx was cancelled by a signal.
func signalErr(ctx context.Context) error {
	if h, ok := ctx.Value(sigCtxKey{}).(*atomic.Int32); ok && h.Load() != 0 {
		return signalError{sig: syscall.Signal(h.Load())}
	}
	return nil
}

// authExitCode is the exit status for an authentication failure: 128+N when
// a signal interrupted it (as a shell would report), else 1.
func authExitCode(err error) int {
	var se signalError
	if errors.As(err, &se) {
		return 128 + int(se.sig)
	}
	return 1
}
