package wrapper

import (
	"errors"
	"strings"
)

// Invocation is one terraform command line as tfauth understands it.
type Invocation struct {
	// Args are the arguments terraform receives: the original ones with
	// tfauth's own --identity flag removed, otherwise untouched.
	Args []string
	// Identity is the value of --identity, when the flag was given.
	Identity string
	// IdentitySet reports whether --identity was given.
	IdentitySet bool
	// Chdir is the value of terraform's -chdir= global option, or "".
	Chdir string
	// Subcommand is terraform's subcommand ("plan", "version", ...) or "".
	Subcommand string
	// NeedsAuth reports whether the command can need cloud credentials.
	NeedsAuth bool
}

// identityFlag is tfauth's only flag in terraform's argument list. It uses
// the double-dash form, which terraform never defines, so it cannot clash
// with a terraform option.
const identityFlag = "--identity"

// errIdentityValue is returned for a bare --identity with no value.
var errIdentityValue = errors.New("--identity needs a value: use --identity NAME, --identity=NAME, or --identity=false to turn authentication off")

// noAuthCommand reports whether terraform subcommand sub never reads cloud
// credentials.
func noAuthCommand(sub string) bool {
	switch sub {
	case "version", "help", "fmt", "validate", "login", "logout", "metadata":
		return true
	}
	return false
}

// isHelpFlag reports whether a asks terraform for help or its version; either
// anywhere on the line means terraform only prints text.
func isHelpFlag(a string) bool {
	switch a {
	case "-help", "-h", "--help", "-version", "-v", "--version":
		return true
	}
	return false
}

// ParseArgs splits tfauth's --identity flag from terraform's arguments and
// classifies the command. It never reorders or rewrites terraform's own
// arguments.
func ParseArgs(args []string) (Invocation, error) {
	inv := Invocation{Args: make([]string, 0, len(args))}
	help := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == identityFlag:
			if i+1 >= len(args) || args[i+1] == "" || strings.HasPrefix(args[i+1], "-") {
				return Invocation{}, errIdentityValue
			}
			inv.Identity, inv.IdentitySet = args[i+1], true
			i++
			continue
		case strings.HasPrefix(a, identityFlag+"="):
			v := strings.TrimPrefix(a, identityFlag+"=")
			if v == "" {
				return Invocation{}, errIdentityValue
			}
			inv.Identity, inv.IdentitySet = v, true
			continue
		}
		inv.Args = append(inv.Args, a)
		switch {
		case inv.Subcommand == "" && strings.HasPrefix(a, "-chdir="):
			inv.Chdir = strings.TrimPrefix(a, "-chdir=")
		case inv.Subcommand == "" && !strings.HasPrefix(a, "-"):
			inv.Subcommand = a
		case isHelpFlag(a):
			help = true
		}
	}
	inv.NeedsAuth = inv.Subcommand != "" && !help && !noAuthCommand(inv.Subcommand)
	return inv, nil
}
