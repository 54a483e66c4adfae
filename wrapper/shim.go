package wrapper

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tfauth/tfauth/authflow"
	"github.com/tfauth/tfauth/tfrun"
)

// shim runs one terraform command line: authenticate when the command can
// need credentials and a configuration exists, then hand off to the real
// terraform. name is the name tfauth was invoked as ("terraform"); flagIdentity
// is an --identity given to `tfauth run` before the terraform arguments.
func (a *app) shim(name string, args []string, flagIdentity string) (int, error) {
	inv, err := ParseArgs(args)
	if err != nil {
		return 1, err
	}
	if flagIdentity != "" && !inv.IdentitySet {
		inv.Identity, inv.IdentitySet = flagIdentity, true
	}
	chain := tfrun.ReadChain(a.getenv)
	if chain.Depth >= tfrun.MaxDepth {
		return 1, nestingError(chain.Depth)
	}
	self := selfPath()
	env := a.p.Env
	var cleanup *tfrun.Cleanup
	var cfg *authflow.Config
	var ctx context.Context
	var stop func()

	if chain.DirectHandoff {
		// Another tfauth ran this file as if it were terraform and has done
		// any authentication already: pass straight through to the next one.
		a.log.Debug("handed off from another tfauth shim; passing through", "skipped", chain.Skip)
	} else if !inv.NeedsAuth && !inv.IdentitySet {
		// Fast path (version, fmt, validate, ...): only terraform.path
		// matters, so the configuration is not loaded in full.
		cfg = a.terraformPathOnly(inv)
	} else {
		cfg, err = a.loadConfig(inv)
		if err != nil {
			if inv.NeedsAuth {
				return 1, err
			}
			a.log.Warn(fmt.Sprintf("ignoring the configuration for this command: %v", err))
			cfg = nil
		}
		ctx, stop = signalContext()
		defer stop()
		env, cleanup, err = a.authenticate(ctx, cfg, inv)
		if err != nil {
			return authExitCode(err), err
		}
	}

	tfPath, err := tfrun.Find(a.findOptions(name, cfg, self, chain.Skip))
	if err != nil {
		if cleanup != nil {
			_ = os.RemoveAll(cleanup.Dir)
		}
		return 1, err
	}
	a.log.Debug("handing off to terraform", "path", tfPath)
	return a.handoff(ctx, stop, tfrun.Handoff{
		Path:    tfPath,
		Argv0:   name,
		Args:    inv.Args,
		Env:     tfrun.MarkEnv(env, chain, self, os.Getpid()),
		Cleanup: cleanup,
	})
}

// terraformPathOnly returns, for a command that needs no credentials, a
// configuration holding just terraform.path, or nil. A configuration it
// cannot read is reported as a warning and otherwise ignored.
func (a *app) terraformPathOnly(inv Invocation) *authflow.Config {
	path, err := a.configPath(inv)
	if err == nil && path != "" {
		var ts authflow.TerraformSettings
		if ts, err = authflow.LoadTerraformSettings(path); err == nil {
			return &authflow.Config{File: path, Terraform: ts}
		}
	}
	if err != nil {
		a.log.Warn(fmt.Sprintf("ignoring the configuration for this command: %v", err))
	}
	return nil
}

// nestingError stops a runaway chain of tfauth invocations.
func nestingError(depth int) error {
	return fmt.Errorf("%d nested tfauth invocations (TFAUTH_DEPTH; the limit is %d): a loop of terraform shims? check that TFAUTH_TERRAFORM or terraform.path names the real terraform (`tfauth doctor` shows the search)", depth, tfrun.MaxDepth)
}

// loadConfig finds and loads the configuration for the directory terraform
// will run in; it returns nil when there is none.
func (a *app) loadConfig(inv Invocation) (*authflow.Config, error) {
	path, err := a.configPath(inv)
	if err != nil || path == "" {
		return nil, err
	}
	return authflow.Load(path)
}

// configPath finds the configuration file for the directory terraform will
// run in, or "" when there is none. A --config FILE given to tfauth's
// command line wins over the search.
func (a *app) configPath(inv Invocation) (string, error) {
	if a.configFile != "" {
		fi, err := os.Stat(a.configFile)
		if err != nil {
			return "", fmt.Errorf("--config %s: %w", a.configFile, err)
		}
		if fi.IsDir() {
			return "", fmt.Errorf("--config %s: is a directory, not a configuration file", a.configFile)
		}
		return a.configFile, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find the working directory: %w", err)
	}
	dir := wd
	if inv.Chdir != "" {
		dir = inv.Chdir
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(wd, dir)
		}
	}
	return authflow.Discover(dir, a.getenv)
}

// findOptions says where the real terraform named name is looked for:
// TFAUTH_TERRAFORM, then cfg's terraform.path (already absolute), then PATH,
// never self or the shims in skip.
func (a *app) findOptions(name string, cfg *authflow.Config, self string, skip []string) tfrun.FindOptions {
	opts := tfrun.FindOptions{
		Name:     name,
		Explicit: a.getenv("TFAUTH_TERRAFORM"),
		PathList: a.getenv("PATH"),
		Self:     self,
		Skip:     skip,
	}
	if cfg != nil && cfg.Terraform.Path != "" {
		opts.ConfigPath = cfg.Terraform.Path
		opts.ConfigSource = fmt.Sprintf("%s:%d", cfg.File, cfg.Terraform.Line)
	}
	return opts
}
