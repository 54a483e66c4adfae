package wrapper

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
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

// authenticate runs the whole pipeline for one terraform run and returns
// terraform's environment and the private directory to remove afterwards.
// With nothing to do it returns the environment unchanged.
func (a *app) authenticate(cfg *authflow.Config, inv Invocation) ([]string, *tfrun.Cleanup, error) {
	override, source := a.identityOverride(inv)
	if override != "" && authflow.IdentityDisabled(override) {
		a.log.Debug("authentication turned off", "by", source)
		return a.p.Env, nil, nil
	}
	if cfg == nil {
		if inv.IdentitySet {
			return nil, nil, fmt.Errorf("--identity %s was given, but no tfauth configuration was found: create tfauth.yaml (or set TFAUTH_CONFIG), or drop the flag", inv.Identity)
		}
		return a.p.Env, nil, nil
	}
	if len(cfg.Identities) == 0 {
		return a.p.Env, nil, nil
	}
	if d := a.getenv("TFAUTH_SESSION_DIR"); d != "" && source != "--identity" {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			// A terraform run by tfauth runs terraform again (local-exec,
			// terragrunt): its profiles are still live, so reuse them.
			a.log.Debug("reusing the profiles of the enclosing tfauth run", "dir", d)
			return a.p.Env, nil, nil
		}
	}
	primary, err := authflow.Select(cfg, override)
	if err != nil {
		if source != "" {
			return nil, nil, fmt.Errorf("%s: %w", source, err)
		}
		return nil, nil, err
	}
	g, err := authflow.Plan(cfg, primary)
	if err != nil {
		return nil, nil, err
	}

	ctx, stop := signalContext()
	defer stop()
	base := runtimeBase(a.getenv)
	if err := authflow.Sweep(base); err != nil {
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
		return nil, nil, serr
	}
	if err != nil {
		return nil, nil, err
	}
	failed := make([]string, 0, len(res.Failures))
	for id := range res.Failures {
		failed = append(failed, id)
	}
	sort.Strings(failed)
	for _, id := range failed {
		a.log.Warn(fmt.Sprintf("%v; the run goes on without profile %q", res.Failures[id], id))
	}

	sd, err := authflow.NewSessionDir(base)
	if err != nil {
		return nil, nil, err
	}
	files, err := authflow.WriteProfiles(sd.Path, res, cfg.Options.UserProfiles, a.getenv)
	if err != nil {
		_ = sd.Remove()
		return nil, nil, err
	}
	a.log.Info(fmt.Sprintf("authenticated %s in %s", strings.Join(res.Order, ", "), time.Since(start).Round(time.Millisecond)),
		"primary", res.Primary, "config", cfg.File)
	return authflow.Env(a.p.Env, files, res, sd.Path), &tfrun.Cleanup{Dir: sd.Path, Lock: sd.Lock}, nil
}

// runtimeBase is where private credential directories go: $XDG_RUNTIME_DIR
// (a per-user tmpfs on most Linux desktops) when usable, else the temp dir.
func runtimeBase(getenv func(string) string) string {
	if d := getenv("XDG_RUNTIME_DIR"); d != "" {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
	}
	if d := getenv("TMPDIR"); d != "" {
		return d
	}
	return os.TempDir()
}

// signalError reports that authentication was interrupted by a signal.
type signalError struct{ sig syscall.Signal }

func (e signalError) Error() string {
	return fmt.Sprintf("interrupted by %v before terraform started", e.sig)
}

type sigCtxKey struct{}

// signalContext returns a context cancelled by SIGINT, SIGTERM or SIGHUP,
// which records the signal for signalErr. It covers authentication only:
// terraform receives signals directly once it runs.
func signalContext() (context.Context, func()) {
	got := make(chan os.Signal, 1)
	signal.Notify(got, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	var which syscall.Signal
	holder := &which
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), sigCtxKey{}, holder))
	done := make(chan struct{})
	go func() {
		select {
		case s := <-got:
			if ss, ok := s.(syscall.Signal); ok {
				*holder = ss
			}
			cancel()
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(got)
		close(done)
		cancel()
	}
}

// signalErr returns a signalError when ctx was cancelled by a signal.
func signalErr(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	if h, ok := ctx.Value(sigCtxKey{}).(*syscall.Signal); ok && *h != 0 {
		return signalError{sig: *h}
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
