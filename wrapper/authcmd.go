package wrapper

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tfauth/tfauth/authflow"
	"github.com/tfauth/tfauth/tfrun"
)

const authUsage = `tfauth auth: the operator's view of the auth: configuration.

  tfauth auth list [-o text|json]                 providers and identities, as a tree
  tfauth auth validate                            check the configuration, as every run does
  tfauth auth whoami [--identity NAME | --all] [-o text|json]
                                                  authenticate; show each identity's account,
                                                  ARN (STS GetCallerIdentity), region, expiry
  tfauth auth env [--identity NAME] [--format bash|dotenv|json|github]
                                                  authenticate; print the environment terraform
                                                  would get (eval "$(tfauth auth env)")
  tfauth auth exec [--identity NAME] -- CMD ARGS...
                                                  run any command with the profiles
  tfauth auth logout                              remove the profiles auth env left behind

Every auth command takes --config FILE (else TFAUTH_CONFIG, else the search
terraform runs do). The primary identity is --identity NAME, else
TFAUTH_IDENTITY, else ATMOS_IDENTITY, else the default: true one.
`

// cmdAuth runs `tfauth auth SUBCOMMAND`.
func (a *app) cmdAuth(args []string) (int, error) {
	args, done, err := a.configFlags("auth", "tfauth auth [--config FILE] SUBCOMMAND ...", args)
	if done {
		return exitFor(err), err
	}
	if len(args) == 0 {
		fmt.Fprint(a.p.Stdout, authUsage)
		return 0, nil
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(a.p.Stdout, authUsage)
		return 0, nil
	case "list":
		return a.cmdAuthList(args[1:])
	case "validate":
		return a.cmdAuthValidate(args[1:])
	case "whoami":
		return a.cmdAuthWhoami(args[1:])
	case "env":
		return a.cmdAuthEnv(args[1:])
	case "exec":
		return a.cmdAuthExec(args[1:])
	case "logout":
		return a.cmdAuthLogout(args[1:])
	}
	if s := authflow.Nearest(args[0], authCommands); s != "" {
		return 1, usageError{fmt.Sprintf("unknown auth command %q; did you mean %q? run `tfauth auth help` for the list", args[0], s)}
	}
	return 1, usageError{fmt.Sprintf("unknown auth command %q; run `tfauth auth help` for the list", args[0])}
}

// authCommands are the auth subcommands, as authUsage lists them, for
// suggestions.
var authCommands = []string{"list", "validate", "whoami", "env", "exec", "logout", "help"}

// configFlags parses a leading --config FILE (tfauth's global option, also
// accepted after `auth`) and returns the remaining arguments. Arguments that
// do not start with a --config flag are returned as they are, so the
// command's own flags (-h, --version) keep their meaning.
func (a *app) configFlags(name, synopsis string, args []string) ([]string, bool, error) {
	if len(args) == 0 || !isConfigFlag(args[0]) {
		return args, false, nil
	}
	fs := a.newFlagSet(name, synopsis)
	a.addConfigFlag(fs)
	if done, err := a.parseFlags(fs, args); done {
		return nil, true, err
	}
	return fs.Args(), false, nil
}

// isConfigFlag reports whether arg is -config or --config, with or without =value.
func isConfigFlag(arg string) bool {
	name := strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-")
	return len(name) < len(arg) && (name == "config" || strings.HasPrefix(name, "config="))
}

// addConfigFlag defines --config on fs, defaulting to a --config given earlier.
func (a *app) addConfigFlag(fs *flag.FlagSet) {
	fs.StringVar(&a.configFile, "config", a.configFile, "the configuration file (default: TFAUTH_CONFIG, else the usual search)")
}

// addIdentityFlag defines --identity on fs.
func addIdentityFlag(fs *flag.FlagSet) *string {
	return fs.String("identity", "", "the primary identity (default: TFAUTH_IDENTITY, ATMOS_IDENTITY, else the default: true one)")
}

// identityInvocation turns an auth command's --identity flag into the
// Invocation the pipeline reads.
func identityInvocation(fs *flag.FlagSet, identity string) (Invocation, error) {
	if !isSet(fs, "identity") {
		return Invocation{}, nil
	}
	if identity == "" {
		return Invocation{}, errIdentityValue
	}
	return Invocation{Identity: identity, IdentitySet: true}, nil
}

// requireConfig loads the configuration; unlike the shim, the auth commands
// need one.
func (a *app) requireConfig() (*authflow.Config, error) {
	cfg, err := a.loadConfig(Invocation{})
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		wd, _ := os.Getwd()
		return nil, fmt.Errorf("no tfauth configuration found from %s (tfauth.yaml or .tfauth.yaml here or above, an atmos.yaml with auth:, or $XDG_CONFIG_HOME/tfauth/config.yaml): create one, pass --config FILE, or set TFAUTH_CONFIG", wd)
	}
	return cfg, nil
}

// requireIdentities returns an error when cfg has no identity to authenticate.
func requireIdentities(cfg *authflow.Config) error {
	if len(cfg.Identities) == 0 {
		return fmt.Errorf("%s has no identities: add one under auth.identities", cfg.File)
	}
	return nil
}

// selectPrimary is Select with the overrides of inv and the environment,
// for display: it returns the primary, where it came from ("--identity",
// "TFAUTH_IDENTITY", "ATMOS_IDENTITY" or "default") and why there is none.
func (a *app) selectPrimary(cfg *authflow.Config, inv Invocation) (primary, source string, err error) {
	override, source := a.identityOverride(inv)
	if override != "" && authflow.IdentityDisabled(override) {
		return "", source, fmt.Errorf("authentication is turned off by %s=%s", source, override)
	}
	primary, err = authflow.Select(cfg, override)
	if err != nil {
		return "", source, err
	}
	if source == "" {
		source = "default"
	}
	return primary, source, nil
}

// outputFlag defines -o/--output for text or json.
func outputFlag(fs *flag.FlagSet) *string {
	o := fs.String("o", "text", "output format: text or json")
	fs.StringVar(o, "output", "text", "output format: text or json")
	return o
}

func checkOutput(cmd, o string) error {
	if o != "text" && o != "json" {
		return usageError{fmt.Sprintf("%s: unknown output format %q; use -o text or -o json", cmd, o)}
	}
	return nil
}

// listNode is a provider or identity in `tfauth auth list`.
type listNode struct {
	// Type is "provider" or "identity".
	Type string `json:"type"`
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Region is the provider's region, or the identity's own.
	Region string `json:"region"`
	// RoleARN is principal.assume_role (aws/assume-role only).
	RoleARN  string      `json:"role_arn"`
	Primary  bool        `json:"primary"`
	Default  bool        `json:"default"`
	Required bool        `json:"required"`
	Line     int         `json:"line"`
	Children []*listNode `json:"children"`
}

// listOutput is `tfauth auth list -o json`. Every field is always present.
type listOutput struct {
	Config string `json:"config"`
	// Primary is the identity a terraform run would pick, "" for none.
	Primary string `json:"primary"`
	// PrimarySource is "--identity", "TFAUTH_IDENTITY", "ATMOS_IDENTITY",
	// "default", or "" when no identity is selected.
	PrimarySource string `json:"primary_source"`
	// PrimaryError says why no identity is selected, or is "".
	PrimaryError string `json:"primary_error"`
	// Required lists the required identities, sorted.
	Required []string `json:"required"`
	// Tree has the providers and the standalone identities (aws/user,
	// aws/ambient) as roots, each identity under what it is chained through.
	Tree []*listNode `json:"tree"`
}

// reportSetup does what the reporting commands (list, whoami) share once
// their flags are parsed: check -o, take --identity, load the configuration.
func (a *app) reportSetup(cmd string, fs *flag.FlagSet, output, identity string) (Invocation, *authflow.Config, error) {
	if err := checkOutput(cmd, output); err != nil {
		return Invocation{}, nil, err
	}
	inv, err := identityInvocation(fs, identity)
	if err != nil {
		return Invocation{}, nil, err
	}
	cfg, err := a.requireConfig()
	if err != nil {
		return Invocation{}, nil, err
	}
	return inv, cfg, nil
}

func (a *app) cmdAuthList(args []string) (int, error) {
	fs := a.newFlagSet("auth list", "tfauth auth list [--identity NAME] [-o text|json] [--config FILE]")
	identity := addIdentityFlag(fs)
	output := outputFlag(fs)
	a.addConfigFlag(fs)
	if done, err := a.parseFlags(fs, args); done {
		return exitFor(err), err
	}
	inv, cfg, err := a.reportSetup("auth list", fs, *output, *identity)
	if err != nil {
		return 1, err
	}
	out := buildList(cfg)
	primary, source, perr := a.selectPrimary(cfg, inv)
	if perr != nil {
		out.PrimaryError = perr.Error()
	} else {
		out.Primary, out.PrimarySource = primary, source
		markPrimary(out.Tree, primary)
	}
	if *output == "json" {
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return 1, err
		}
		_, err = a.p.Stdout.Write(append(b, '\n'))
		return exitFor(err), err
	}
	printList(a.p.Stdout, out)
	return 0, nil
}

// buildList arranges cfg as a tree: providers (sorted), then standalone
// identities (sorted), each identity under its via. An identity whose chain
// cannot be placed (only in a Config that did not come from Load) is a root.
func buildList(cfg *authflow.Config) *listOutput {
	out := &listOutput{Config: cfg.File, Required: []string{}, Tree: []*listNode{}}
	byProvider := map[string][]string{}
	byIdentity := map[string][]string{}
	var standalone []string
	for _, name := range slices.Sorted(maps.Keys(cfg.Identities)) {
		id := cfg.Identities[name]
		if id.Required {
			out.Required = append(out.Required, name)
		}
		switch {
		case id.ViaProvider != "":
			byProvider[id.ViaProvider] = append(byProvider[id.ViaProvider], name)
		case id.ViaIdentity != "":
			byIdentity[id.ViaIdentity] = append(byIdentity[id.ViaIdentity], name)
		default:
			standalone = append(standalone, name)
		}
	}
	placed := map[string]bool{}
	var identityNode func(name string) *listNode
	identityNode = func(name string) *listNode {
		placed[name] = true
		id := cfg.Identities[name]
		n := &listNode{
			Type: "identity", Name: name, Kind: id.Kind,
			Region:  cmp.Or(id.Principal.Region, id.Region),
			RoleARN: id.Principal.AssumeRole, Default: id.Default, Required: id.Required,
			Line: id.Line, Children: []*listNode{},
		}
		for _, c := range byIdentity[name] {
			if !placed[c] {
				n.Children = append(n.Children, identityNode(c))
			}
		}
		return n
	}
	for _, pname := range slices.Sorted(maps.Keys(cfg.Providers)) {
		p := cfg.Providers[pname]
		n := &listNode{Type: "provider", Name: pname, Kind: p.Kind, Region: p.Region, Line: p.Line, Children: []*listNode{}}
		for _, c := range byProvider[pname] {
			n.Children = append(n.Children, identityNode(c))
		}
		out.Tree = append(out.Tree, n)
	}
	for _, name := range standalone {
		out.Tree = append(out.Tree, identityNode(name))
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Identities)) {
		if !placed[name] {
			out.Tree = append(out.Tree, identityNode(name))
		}
	}
	return out
}

func markPrimary(nodes []*listNode, primary string) {
	for _, n := range nodes {
		if n.Type == "identity" && n.Name == primary {
			n.Primary = true
		}
		markPrimary(n.Children, primary)
	}
}

// printList prints the tree:
//
//	provider github (github/oidc, us-east-1)
//	├── core-network: assume arn:aws:iam::111111111111:role/core-network [primary, required]
//	│   └── core-admin: assume arn:aws:iam::111111111111:role/admin
//	└── plat-prod: assume arn:aws:iam::222222222222:role/plat-prod [required]
func printList(w io.Writer, out *listOutput) {
	var b strings.Builder
	fmt.Fprintf(&b, "configuration: %s\n", out.Config)
	if len(out.Tree) == 0 {
		b.WriteString("no providers and no identities: every command passes straight through\n")
	}
	var walk func(nodes []*listNode, prefix string)
	walk = func(nodes []*listNode, prefix string) {
		for i, n := range nodes {
			branch, next := "├── ", "│   "
			if i == len(nodes)-1 {
				branch, next = "└── ", "    "
			}
			fmt.Fprintf(&b, "%s%s%s\n", prefix, branch, describeNode(n))
			walk(n.Children, prefix+next)
		}
	}
	for _, n := range out.Tree {
		b.WriteString(describeNode(n) + "\n")
		walk(n.Children, "")
	}
	switch {
	case out.Primary != "":
		fmt.Fprintf(&b, "primary: %s (%s)\n", out.Primary, sourceText(out.PrimarySource))
	default:
		fmt.Fprintf(&b, "primary: none: %s\n", out.PrimaryError)
	}
	_, _ = io.WriteString(w, b.String())
}

func sourceText(source string) string {
	if source == "default" {
		return "default: true"
	}
	return "from " + source
}

func describeNode(n *listNode) string {
	if n.Type == "provider" {
		details := n.Kind
		if n.Region != "" {
			details += ", " + n.Region
		}
		return fmt.Sprintf("provider %s (%s)", n.Name, details)
	}
	s := n.Name + " (" + n.Kind
	if n.RoleARN != "" {
		s += " " + n.RoleARN
	}
	if n.Region != "" {
		s += ", " + n.Region
	}
	s += ")"
	var marks []string
	if n.Primary {
		marks = append(marks, "primary")
	}
	if n.Default && !n.Primary {
		marks = append(marks, "default")
	}
	if n.Required {
		marks = append(marks, "required")
	}
	if len(marks) > 0 {
		s += " [" + strings.Join(marks, ", ") + "]"
	}
	return s
}

func (a *app) cmdAuthValidate(args []string) (int, error) {
	fs := a.newFlagSet("auth validate", "tfauth auth validate [--config FILE]")
	a.addConfigFlag(fs)
	if done, err := a.parseFlags(fs, args); done {
		return exitFor(err), err
	}
	if fs.NArg() > 0 {
		return 1, usageError{fmt.Sprintf("auth validate takes no arguments (got %q); name the file with --config FILE", fs.Arg(0))}
	}
	cfg, err := a.requireConfig()
	if err != nil {
		var ces authflow.ConfigErrors
		if errors.As(err, &ces) && len(ces) > 0 {
			return 1, configProblems{file: ces[0].File, errs: ces}
		}
		return 1, err
	}
	required := 0
	for _, id := range cfg.Identities {
		if id.Required {
			required++
		}
	}
	primary := "no default identity (runs need --identity NAME or TFAUTH_IDENTITY)"
	if p, source, err := a.selectPrimary(cfg, Invocation{}); err == nil {
		primary = fmt.Sprintf("primary %s (%s)", p, sourceText(source))
	} else if !errors.Is(err, authflow.ErrNoPrimary) {
		return 1, err
	}
	fmt.Fprintf(a.p.Stdout, "%s: valid: %s, %s (%d required), %s\n", cfg.File,
		plural(len(cfg.Providers), "provider"), plural(len(cfg.Identities), "identity"), required, primary)
	return 0, nil
}

// configProblems is every problem of a configuration file, one per line
// after a count.
type configProblems struct {
	file string
	errs authflow.ConfigErrors
}

func (e configProblems) Error() string {
	return fmt.Sprintf("%s: %s\n%s", e.file, plural(len(e.errs), "problem"), e.errs.Error())
}

func (e configProblems) Unwrap() error { return e.errs }

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(word, "y"))
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// whoamiEntry is one identity in `tfauth auth whoami`. Every field is
// always present; Expiration is null for credentials that do not expire.
type whoamiEntry struct {
	Identity   string     `json:"identity"`
	Primary    bool       `json:"primary"`
	Required   bool       `json:"required"`
	OK         bool       `json:"ok"`
	Account    string     `json:"account"`
	ARN        string     `json:"arn"`
	Region     string     `json:"region"`
	Expiration *time.Time `json:"expiration"`
	Error      string     `json:"error"`
}

// whoamiOutput is `tfauth auth whoami -o json`.
type whoamiOutput struct {
	Config     string         `json:"config"`
	Identities []*whoamiEntry `json:"identities"`
}

func (a *app) cmdAuthWhoami(args []string) (int, error) {
	fs := a.newFlagSet("auth whoami", "tfauth auth whoami [--identity NAME | --all] [-o text|json] [--config FILE]")
	identity := addIdentityFlag(fs)
	all := fs.Bool("all", false, "the primary, every required identity and every other one (--identity NAME still picks the primary)")
	output := outputFlag(fs)
	a.addConfigFlag(fs)
	if done, err := a.parseFlags(fs, args); done {
		return exitFor(err), err
	}
	inv, cfg, err := a.reportSetup("auth whoami", fs, *output, *identity)
	if err != nil {
		return 1, err
	}
	if err := requireIdentities(cfg); err != nil {
		return 1, err
	}
	if override, source := a.identityOverride(inv); override != "" && authflow.IdentityDisabled(override) {
		return 1, fmt.Errorf("%s=%s turns authentication off: nothing to show", source, override)
	}
	sc := scopeOne
	if *all {
		sc = scopeAll
	}
	ctx, stop := signalContext()
	defer stop()
	res, err := a.pipeline(ctx, cfg, inv, sc, nil)
	var stepErr *authflow.StepError
	if err != nil && (res == nil || !errors.As(err, &stepErr)) {
		return authExitCode(err), err
	}
	entries := a.whoami(ctx, cfg, res)
	if serr := signalErr(ctx); serr != nil {
		return authExitCode(serr), serr
	}
	if *output == "json" {
		b, err := json.MarshalIndent(whoamiOutput{Config: cfg.File, Identities: entries}, "", "  ")
		if err != nil {
			return 1, err
		}
		if _, err := a.p.Stdout.Write(append(b, '\n')); err != nil {
			return 1, err
		}
	} else {
		printWhoami(a.p.Stdout, entries, time.Now())
	}
	var failed []string
	for _, e := range entries {
		if !e.OK {
			failed = append(failed, e.Identity)
		}
	}
	if len(failed) > 0 {
		return 1, fmt.Errorf("%d of %d identities failed: %s", len(failed), len(entries), strings.Join(failed, ", "))
	}
	return 0, nil
}

// whoami asks STS about every authenticated identity of res, concurrently,
// and returns an entry per identity: the primary, then the required ones,
// then the others.
func (a *app) whoami(ctx context.Context, cfg *authflow.Config, res *authflow.Results) []*whoamiEntry {
	names := allIdentities(cfg, res.Primary)
	var entries []*whoamiEntry
	for _, n := range names {
		_, ok := res.Profiles[n]
		_, failed := res.Failures[n]
		if !ok && !failed {
			continue // not planned
		}
		entries = append(entries, &whoamiEntry{Identity: n, Primary: n == res.Primary, Required: cfg.Identities[n].Required})
	}
	conc := cfg.Options.Concurrency
	if conc <= 0 {
		conc = authflow.DefaultConcurrency
	}
	sem := make(chan struct{}, conc)
	// One checker for all: the STS settings and CA bundle are read once.
	checker := authflow.NewCallerChecker(authflow.RunOptions{Getenv: a.getenv, Timeout: cfg.Options.Timeout, Logger: a.log})
	var wg sync.WaitGroup
	for _, e := range entries {
		if ferr := res.Failures[e.Identity]; ferr != nil {
			e.Error = ferr.Error()
			continue
		}
		c := res.Profiles[e.Identity]
		e.Region = c.Region
		if !c.Expiration.IsZero() {
			t := c.Expiration.UTC()
			e.Expiration = &t
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			who, err := checker.WhoAmI(ctx, c)
			if err != nil {
				e.Error = fmt.Sprintf("identity %q: %v", e.Identity, err)
				return
			}
			e.OK, e.Account, e.ARN = true, who.Account, who.ARN
		})
	}
	wg.Wait()
	return entries
}

// printWhoami prints one block per identity:
//
//	core-network [primary, required]
//	  account  111111111111
//	  arn      arn:aws:sts::111111111111:assumed-role/core-network/tfauth-core-network
//	  region   us-east-1
//	  expires  2025-01-02 15:04:05 UTC (in 59m)
func printWhoami(w io.Writer, entries []*whoamiEntry, now time.Time) {
	var b strings.Builder
	for _, e := range entries {
		var marks []string
		if e.Primary {
			marks = append(marks, "primary")
		}
		if e.Required {
			marks = append(marks, "required")
		}
		b.WriteString(e.Identity)
		if len(marks) > 0 {
			b.WriteString(" [" + strings.Join(marks, ", ") + "]")
		}
		if !e.OK {
			fmt.Fprintf(&b, ": failed\n  error    %s\n", e.Error)
			continue
		}
		b.WriteString("\n")
		fmt.Fprintf(&b, "  account  %s\n  arn      %s\n  region   %s\n", e.Account, e.ARN, cmp.Or(e.Region, "(none)"))
		if e.Expiration == nil {
			b.WriteString("  expires  never\n")
		} else {
			fmt.Fprintf(&b, "  expires  %s (in %s)\n", e.Expiration.Format("2006-01-02 15:04:05 UTC"), untilText(e.Expiration.Sub(now)))
		}
	}
	_, _ = io.WriteString(w, b.String())
}

// untilText is a duration to the minute: "59m", "1h", "11h30m", "0m".
func untilText(d time.Duration) string {
	m := int(d.Round(time.Minute) / time.Minute)
	if m < 0 {
		m = 0
	}
	switch {
	case m < 60:
		return fmt.Sprintf("%dm", m)
	case m%60 == 0:
		return fmt.Sprintf("%dh", m/60)
	}
	return fmt.Sprintf("%dh%dm", m/60, m%60)
}

func (a *app) cmdAuthEnv(args []string) (int, error) {
	fs := a.newFlagSet("auth env", "tfauth auth env [--identity NAME] [--format bash|dotenv|json|github] [--config FILE]")
	identity := addIdentityFlag(fs)
	format := fs.String("format", "bash", "bash (export lines), dotenv, json, or github (append to $GITHUB_ENV)")
	fs.StringVar(format, "f", "bash", "short for --format")
	a.addConfigFlag(fs)
	if done, err := a.parseFlags(fs, args); done {
		return exitFor(err), err
	}
	if fs.NArg() > 0 {
		return 1, usageError{fmt.Sprintf("auth env takes no arguments (got %q); to run a command use `tfauth auth exec -- CMD`", fs.Arg(0))}
	}
	switch *format {
	case "bash", "dotenv", "json":
	case "github":
		if a.getenv("GITHUB_ENV") == "" {
			return 1, errors.New("--format github appends to $GITHUB_ENV, which is not set: run it in a GitHub Actions step, or pick --format bash|dotenv|json")
		}
	default:
		return 1, usageError{fmt.Sprintf("auth env: unknown format %q; use one of %s", *format, envFormats)}
	}
	inv, err := identityInvocation(fs, *identity)
	if err != nil {
		return 1, err
	}
	if override, source := a.identityOverride(inv); override != "" && authflow.IdentityDisabled(override) {
		return 1, fmt.Errorf("%s=%s turns authentication off: there is no environment to print", source, override)
	}
	cfg, err := a.requireConfig()
	if err != nil {
		return 1, err
	}
	if err := requireIdentities(cfg); err != nil {
		return 1, err
	}
	ctx, stop := signalContext()
	defer stop()
	res, err := a.pipeline(ctx, cfg, inv, scopeRun, func(id string, err error) {
		a.log.Warn(fmt.Sprintf("%v; profile %q is left out", err, id))
	})
	if err != nil {
		return authExitCode(err), err
	}
	dir, err := authflow.NewKeptDir(runtimeBase(a.getenv))
	if err != nil {
		return 1, err
	}
	files, err := authflow.WriteProfiles(dir, res, cfg.Options.UserProfiles, a.getenv)
	if err != nil {
		_ = os.RemoveAll(dir)
		return 1, err
	}
	set, removed := authflow.EnvVars(files, res, dir)
	vars := make([]envVar, 0, len(set))
	setKeys := map[string]bool{}
	for _, v := range set {
		if v.Key == authflow.SessionDirEnv {
			// Not exported: a terraform run in that shell would reuse these
			// profiles, which are never refreshed, instead of logging in.
			continue
		}
		vars = append(vars, envVar{Key: v.Key, Value: v.Value, Secret: secretKey(v.Key)})
		setKeys[v.Key] = true
	}
	var unset []string
	for _, k := range removed {
		if _, present := a.env[k]; present && !setKeys[k] {
			unset = append(unset, k)
		}
	}
	if err := writeEnv(a.p.Stdout, *format, vars, unset, a.getenv("GITHUB_ENV")); err != nil {
		_ = os.RemoveAll(dir)
		return 1, err
	}
	if len(unset) > 0 && (*format == "dotenv" || *format == "json") {
		a.log.Warn(fmt.Sprintf("%s set here would beat AWS_PROFILE: unset it where these variables are loaded", strings.Join(unset, ", ")))
	}
	expiry := ""
	if t := earliestExpiry(res); !t.IsZero() {
		expiry = fmt.Sprintf(", valid until %s", t.UTC().Format("2006-01-02 15:04 UTC"))
	}
	fmt.Fprintf(a.p.Stderr, "tfauth: profiles %s are in %s%s; `tfauth auth logout` removes them\n",
		strings.Join(res.Order, ", "), dir, expiry)
	return 0, nil
}

func earliestExpiry(res *authflow.Results) time.Time {
	var t time.Time
	for _, c := range res.Profiles {
		if !c.Expiration.IsZero() && (t.IsZero() || c.Expiration.Before(t)) {
			t = c.Expiration
		}
	}
	return t
}

func (a *app) cmdAuthExec(args []string) (int, error) {
	fs := a.newFlagSet("auth exec", "tfauth auth exec [--identity NAME] [--config FILE] -- CMD ARGS...")
	identity := addIdentityFlag(fs)
	a.addConfigFlag(fs)
	if done, err := a.parseFlags(fs, args); done {
		return exitFor(err), err
	}
	if fs.NArg() == 0 {
		return 1, usageError{"auth exec: no command given; use `tfauth auth exec [--identity NAME] -- CMD ARGS...`"}
	}
	inv, err := identityInvocation(fs, *identity)
	if err != nil {
		return 1, err
	}
	inv.Args, inv.NeedsAuth = fs.Args(), true
	chain := tfrun.ReadChain(a.getenv)
	if chain.Depth >= tfrun.MaxDepth {
		return 1, nestingError(chain.Depth)
	}
	env := a.p.Env
	var cleanup *tfrun.Cleanup
	var ctx context.Context
	var stop func()
	if override, _ := a.identityOverride(inv); override == "" || !authflow.IdentityDisabled(override) {
		cfg, err := a.requireConfig()
		if err != nil {
			return 1, err
		}
		if err := requireIdentities(cfg); err != nil {
			return 1, err
		}
		ctx, stop = signalContext()
		defer stop()
		env, cleanup, err = a.authenticate(ctx, cfg, inv)
		if err != nil {
			return authExitCode(err), err
		}
	}
	name := inv.Args[0]
	path, err := lookPath(name, envValue(env, "PATH"))
	if err != nil {
		if cleanup != nil {
			_ = os.RemoveAll(cleanup.Dir)
		}
		return 127, err
	}
	a.log.Debug("handing off", "path", path)
	return a.handoff(ctx, stop, tfrun.Handoff{
		Path:    path,
		Argv0:   name,
		Args:    inv.Args[1:],
		Env:     tfrun.MarkEnv(env, chain, selfPath(), os.Getpid()),
		Cleanup: cleanup,
	})
}

// envValue returns the last value of key in env ("K=V" entries).
func envValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && (k == key || (runtime.GOOS == "windows" && strings.EqualFold(k, key))) {
			v = val
		}
	}
	return v
}

// lookPath finds the program name as a shell would, but in pathList (the
// command's PATH) rather than tfauth's own. Relative PATH entries are
// skipped, as os/exec does since Go 1.19; a name with a separator is used
// as it is.
func lookPath(name, pathList string) (string, error) {
	if strings.ContainsRune(name, '/') || (runtime.GOOS == "windows" && strings.ContainsAny(name, `\:`)) {
		p, err := exec.LookPath(name)
		if err != nil {
			return "", fmt.Errorf("run %s: %w", name, err)
		}
		return p, nil
	}
	for _, dir := range filepath.SplitList(pathList) {
		if !filepath.IsAbs(dir) {
			continue
		}
		if p, err := exec.LookPath(filepath.Join(dir, name)); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("run %s: %w", name, exec.ErrNotFound)
}

func (a *app) cmdAuthLogout(args []string) (int, error) {
	fs := a.newFlagSet("auth logout", "tfauth auth logout")
	if done, err := a.parseFlags(fs, args); done {
		return exitFor(err), err
	}
	if fs.NArg() > 0 {
		return 1, usageError{fmt.Sprintf("auth logout takes no arguments (got %q)", fs.Arg(0))}
	}
	var b strings.Builder
	var errs []error
	removedEnvDir := false
	for _, base := range a.tempBases() {
		kept, err := authflow.RemoveKeptDirs(base)
		if err != nil {
			errs = append(errs, err)
		}
		for _, d := range kept {
			fmt.Fprintf(&b, "removed %s (profiles left by `tfauth auth env`)\n", d)
			if f := a.getenv("AWS_SHARED_CREDENTIALS_FILE"); f != "" && filepath.Dir(f) == d {
				removedEnvDir = true
			}
		}
		swept, err := authflow.SweepReport(base)
		if err != nil {
			a.log.Debug("sweeping stale credential directories", "error", err)
		}
		for _, d := range swept {
			fmt.Fprintf(&b, "removed %s (left by an interrupted run)\n", d)
		}
	}
	if b.Len() == 0 {
		b.WriteString("nothing to remove\n")
	}
	_, _ = io.WriteString(a.p.Stdout, b.String())
	if removedEnvDir {
		fmt.Fprintln(a.p.Stderr, "tfauth: this shell still points at the removed profiles: unset AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE AWS_CONFIG_FILE")
	}
	if err := errors.Join(errs...); err != nil {
		return 1, err
	}
	return 0, nil
}

// tempBases are the directories tfauth may have put credential directories
// in: the current runtime base, then the temp dir ($TMPDIR, else the
// system's), as an earlier command may have seen no XDG_RUNTIME_DIR.
func (a *app) tempBases() []string {
	tmp := a.getenv("TMPDIR")
	if tmp == "" {
		tmp = os.TempDir()
	}
	var out []string
	seen := map[string]bool{}
	for _, d := range []string{runtimeBase(a.getenv), tmp} {
		if d == "" {
			continue
		}
		if abs, err := filepath.Abs(d); err == nil {
			d = abs
		}
		if seen[d] {
			continue
		}
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			continue
		}
		seen[d] = true
		out = append(out, d)
	}
	return out
}
