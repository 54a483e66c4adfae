package wrapper

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/tfauth/tfauth/tfrun"
)

const usage = `tfauth authenticates every AWS identity a Terraform root module needs, then
runs the real terraform. Installed as "terraform" on PATH it does this for
every terraform command; as "tfauth" it offers these commands:

  tfauth run [--identity NAME] [--] ARGS...   run terraform ARGS through tfauth
  tfauth doctor                                show what tfauth finds and would do
  tfauth version                               print tfauth's version
  tfauth help                                  show this help

Environment: TFAUTH_CONFIG (configuration file), TFAUTH_IDENTITY (primary
identity), TFAUTH_TERRAFORM (the real terraform), TFAUTH_LOG (info, debug).
`

// cli runs tfauth's own command line.
func (a *app) cli(args []string) (int, error) {
	if len(args) == 0 {
		fmt.Fprint(a.p.Stdout, usage)
		return 0, nil
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(a.p.Stdout, usage)
		return 0, nil
	case "version", "-version", "--version", "-v":
		fmt.Fprintf(a.p.Stdout, "tfauth %s\n", a.version())
		return 0, nil
	case "run":
		return a.cmdRun(args[1:])
	case "doctor":
		return a.cmdDoctor(args[1:])
	case tfrun.CleanerCommand:
		return tfrun.RunCleaner(args[1:]), nil
	}
	return 1, usageError{fmt.Sprintf("unknown command %q; run `tfauth help` for the list", args[0])}
}

// newFlagSet returns a flag set that reports errors as values, not output.
func (a *app) newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(a.p.Stdout, "usage: %s\n", synopsis)
		fs.SetOutput(a.p.Stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parseFlags parses args, turning -help into exit 0 and mistakes into a
// usage error that names the command.
func (a *app) parseFlags(fs *flag.FlagSet, args []string) (done bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.Usage()
			return true, nil
		}
		return true, usageError{fmt.Sprintf("tfauth %s: %v; run `tfauth %s -help`", fs.Name(), err, fs.Name())}
	}
	return false, nil
}

func (a *app) cmdRun(args []string) (int, error) {
	fs := a.newFlagSet("run", "tfauth run [--identity NAME] [--] TERRAFORM-ARGS...")
	identity := fs.String("identity", "", "primary identity for this run (false turns authentication off)")
	if done, err := a.parseFlags(fs, args); done {
		return exitFor(err), err
	}
	if isSet(fs, "identity") && *identity == "" {
		return 1, errIdentityValue
	}
	return a.shim("terraform", fs.Args(), *identity)
}

func (a *app) cmdDoctor(args []string) (int, error) {
	fs := a.newFlagSet("doctor", "tfauth doctor")
	if done, err := a.parseFlags(fs, args); done {
		return exitFor(err), err
	}
	w := a.p.Stdout
	self := selfPath()
	fmt.Fprintf(w, "tfauth %s\n  executable: %s\n", a.version(), self)

	cfg, cfgErr := a.loadConfig(Invocation{})
	switch {
	case cfgErr != nil:
		fmt.Fprintf(w, "configuration: error\n  %s\n", strings.ReplaceAll(cfgErr.Error(), "\n", "\n  "))
	case cfg == nil:
		fmt.Fprintln(w, "configuration: none found (tfauth passes every command straight through)")
	default:
		fmt.Fprintf(w, "configuration: %s\n", cfg.File)
		describeConfig(w, cfg)
	}

	opts := tfrun.FindOptions{
		Name:     "terraform",
		Explicit: a.getenv("TFAUTH_TERRAFORM"),
		PathList: a.getenv("PATH"),
		Self:     self,
	}
	if cfg != nil && cfg.Terraform.Path != "" {
		opts.ConfigPath = cfg.Terraform.Path
		if !filepath.IsAbs(opts.ConfigPath) {
			opts.ConfigPath = filepath.Join(filepath.Dir(cfg.File), opts.ConfigPath)
		}
		opts.ConfigSource = fmt.Sprintf("%s:%d", cfg.File, cfg.Terraform.Line)
	}
	fmt.Fprintln(w, "PATH, as the shim sees it:")
	cands := tfrun.Candidates(opts)
	if len(cands) == 0 {
		fmt.Fprintln(w, "  no terraform on PATH")
	}
	for _, c := range cands {
		status := "after the chosen one (not used)"
		switch {
		case c.Chosen:
			status = "chosen"
		case c.Skipped != "":
			status = "skipped: " + c.Skipped
		}
		if opts.Explicit != "" || opts.ConfigPath != "" {
			status = "not searched (an explicit path is set)"
			if c.Skipped != "" {
				status += "; " + c.Skipped
			}
		}
		fmt.Fprintf(w, "  %s: %s\n", c.Path, status)
	}
	tf, err := tfrun.Find(opts)
	if err != nil {
		fmt.Fprintf(w, "real terraform: none\n  %v\n", err)
		return 1, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	v, err := tfrun.Version(ctx, tf)
	if err != nil {
		fmt.Fprintf(w, "real terraform: %s (version unknown: %v)\n", tf, err)
		return 1, nil
	}
	fmt.Fprintf(w, "real terraform: %s (version %s)\n", tf, v)
	return 0, nil
}

func exitFor(err error) int {
	if err != nil {
		return 1
	}
	return 0
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}
