package wrapper

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tfauth/tfauth/authflow"
	"github.com/tfauth/tfauth/tfrun"
)

const usage = `tfauth authenticates every AWS identity a Terraform root module needs, then
runs the real terraform. Installed as "terraform" on PATH it does this for
every terraform command; as "tfauth" it offers these commands:

  tfauth run [--identity NAME] [--] ARGS...   run terraform ARGS through tfauth
  tfauth auth list [-o text|json]              the providers and identities, as a tree
  tfauth auth validate                         check the configuration
  tfauth auth whoami [--identity NAME | --all] [-o text|json]
                                               authenticate; show account, ARN, region, expiry
  tfauth auth env [--identity NAME] [--format bash|dotenv|json|github]
                                               authenticate; print terraform's environment
  tfauth auth exec [--identity NAME] -- CMD ARGS...
                                               run any command with the profiles
  tfauth auth logout                           remove the profiles auth env left behind
  tfauth shim install [--dir DIR] [--force]    install tfauth as terraform (default ~/.local/bin)
  tfauth doctor                                show what tfauth finds and would do
  tfauth version                               print tfauth's version
  tfauth help                                  show this help

Every command takes -help. --config FILE, before the command (or after an
auth command), names the configuration file.

Environment: TFAUTH_CONFIG (configuration file), TFAUTH_IDENTITY (primary
identity), TFAUTH_TERRAFORM (the real terraform), TFAUTH_LOG (info, debug).
`

// cli runs tfauth's own command line.
func (a *app) cli(args []string) (int, error) {
	args, done, err := a.configFlags("tfauth", "tfauth [--config FILE] COMMAND ...", args)
	if done {
		return exitFor(err), err
	}
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
	case "auth":
		return a.cmdAuth(args[1:])
	case "shim":
		return a.cmdShim(args[1:])
	case "doctor":
		return a.cmdDoctor(args[1:])
	case tfrun.CleanerCommand:
		return tfrun.RunCleaner(args[1:]), nil
	}
	return 1, usageError{unknownCommand(args[0])}
}

// unknownCommand says why arg is not a tfauth command and what to run.
func unknownCommand(arg string) string {
	switch {
	case arg == "--identity" || strings.HasPrefix(arg, "--identity="):
		return "--identity goes after the command: tfauth run --identity NAME -- ARGS..., or terraform ARGS... --identity NAME"
	case strings.HasPrefix(arg, "-"):
		return fmt.Sprintf("unknown option %q; run `tfauth help` for the commands", arg)
	case terraformCommand(arg):
		return fmt.Sprintf("%q is a terraform command, not a tfauth one: run terraform %s (through the shim), or tfauth run %s", arg, arg, arg)
	}
	if s := authflow.Nearest(arg, commands); s != "" {
		return fmt.Sprintf("unknown command %q; did you mean %q? run `tfauth help` for the list", arg, s)
	}
	return fmt.Sprintf("unknown command %q; run `tfauth help` for the list", arg)
}

// commands are tfauth's commands, as the usage lists them, for suggestions.
var commands = []string{"auth", "doctor", "help", "run", "shim", "version"}

// terraformCommand reports whether s is one of terraform's subcommands.
func terraformCommand(s string) bool {
	switch s {
	case "init", "validate", "plan", "apply", "destroy", "console", "fmt", "force-unlock", "get", "graph",
		"import", "login", "logout", "metadata", "output", "providers", "refresh", "show", "state", "taint",
		"test", "untaint", "workspace":
		return true
	}
	return false
}

// newFlagSet returns a flag set that reports errors as values, not output.
func (a *app) newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// The flag package calls Usage on every parse error, not only for
	// -help; with output discarded that prints nothing, and parseFlags
	// prints the usage for -help alone, so a mistake never writes to stdout.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, turning -help into exit 0 and mistakes into a
// usage error that names the command.
func (a *app) parseFlags(fs *flag.FlagSet, args []string) (done bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(a.p.Stdout)
			fs.Usage()
			fs.SetOutput(io.Discard)
			return true, nil
		}
		return true, usageError{fmt.Sprintf("%s: %s; run `tfauth %s -help`", fs.Name(), flagProblem(err, args), fs.Name())}
	}
	return false, nil
}

// flagProblem rewords the flag package's errors in tfauth's terms, naming
// the option as the user wrote it in args (-name or --name), which the
// flag package's own message does not keep.
func flagProblem(err error, args []string) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return fmt.Sprintf("unknown option %s", typedFlag(args, name))
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return fmt.Sprintf("option %s needs a value", typedFlag(args, name))
	}
	for _, sep := range []string{" for flag -", " for -"} { // invalid value, invalid boolean value
		if before, after, ok := strings.Cut(msg, sep); ok {
			name, rest, _ := strings.Cut(after, ":")
			return fmt.Sprintf("%s for option %s:%s", before, typedFlag(args, name), rest)
		}
	}
	return msg
}

// typedFlag returns option name as written in args: "-name" or "--name",
// without any =value; "--name" when it is not found.
func typedFlag(args []string, name string) string {
	for _, a := range args {
		if a == "--" {
			break
		}
		flag, _, _ := strings.Cut(a, "=")
		if flag == "-"+name || flag == "--"+name {
			return flag
		}
	}
	return "--" + name
}

func (a *app) cmdRun(args []string) (int, error) {
	fs := a.newFlagSet("run", "tfauth run [--identity NAME] [--] TERRAFORM-ARGS...")
	identity := fs.String("identity", "", "primary identity for this run (false turns authentication off)")
	if done, err := a.parseFlags(fs, args); done {
		if ue, ok := err.(usageError); ok && strings.Contains(ue.msg, "unknown option") {
			// tfauth run stops at the first argument that is not its own
			// option; terraform's options before that must follow --.
			ue.msg = strings.Replace(ue.msg, "; run `tfauth run -help`",
				"; put terraform's arguments after --, as in tfauth run --identity NAME -- -chdir=DIR plan", 1)
			err = ue
		}
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
	if fs.NArg() > 0 {
		return 1, usageError{fmt.Sprintf("doctor takes no arguments (got %q); run `tfauth doctor`", fs.Arg(0))}
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

	opts := a.findOptions("terraform", cfg, self, nil)
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
