package wrapper

import (
	"strings"
	"testing"
)

// TestUsageMistakes checks the words of tfauth's command-line mistakes: an
// option is named as it was typed, and a near miss of a command or auth
// subcommand gets a suggestion.
func TestUsageMistakes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"doctor", "-verbose"}, "tfauth: doctor: unknown option -verbose; "},
		{[]string{"doctor", "--verbose"}, "tfauth: doctor: unknown option --verbose; "},
		{[]string{"doctor", "--verbose=yes"}, "tfauth: doctor: unknown option --verbose; "},
		{[]string{"run", "-identity"}, "tfauth: run: option -identity needs a value; "},
		{[]string{"auth", "list", "--o"}, "tfauth: auth list: option --o needs a value; "},
		{[]string{"shim", "install", "-force=maybe"}, `tfauth: shim install: invalid boolean value "maybe" for option -force: parse error; `},
		{[]string{"auth", "whoami", "--all=x"}, `tfauth: auth whoami: invalid boolean value "x" for option --all: parse error; `},
		{[]string{"doctr"}, `tfauth: unknown command "doctr"; did you mean "doctor"? run ` + "`tfauth help`"},
		{[]string{"Version"}, `tfauth: unknown command "Version"; did you mean "version"? `},
		{[]string{"sihm"}, `tfauth: unknown command "sihm"; did you mean "shim"? `},
		{[]string{"frobnicate"}, `tfauth: unknown command "frobnicate"; run ` + "`tfauth help` for the list\n"},
		{[]string{"auth", "whomai"}, `tfauth: unknown auth command "whomai"; did you mean "whoami"? run ` + "`tfauth auth help`"},
		{[]string{"auth", "validat"}, `tfauth: unknown auth command "validat"; did you mean "validate"? `},
		{[]string{"auth", "logut"}, `tfauth: unknown auth command "logut"; did you mean "logout"? `},
		{[]string{"auth", "nope"}, `tfauth: unknown auth command "nope"; run ` + "`tfauth auth help` for the list\n"},
	} {
		code, stdout, stderr := runTfauth(t, nil, tc.args...)
		if code != 1 || stdout != "" || !strings.HasPrefix(stderr, tc.want) {
			t.Errorf("tfauth %s: exit %d, stdout %q, stderr %q; want exit 1 and stderr starting %q",
				strings.Join(tc.args, " "), code, stdout, stderr, tc.want)
		}
	}
}

func TestTypedFlag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		name string
		want string
	}{
		{[]string{"-x"}, "x", "-x"},
		{[]string{"--x=1"}, "x", "--x"},
		{[]string{"a", "-y", "--x"}, "x", "--x"},
		{[]string{"--", "-x"}, "x", "--x"}, // after --, not an option: the usual spelling
		{nil, "x", "--x"},
	} {
		if got := typedFlag(tc.args, tc.name); got != tc.want {
			t.Errorf("typedFlag(%q, %q) = %q; want %q", tc.args, tc.name, got, tc.want)
		}
	}
}
