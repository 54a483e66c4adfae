package wrapper

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    Invocation
		wantErr string
	}{
		{"no args", nil, Invocation{Args: []string{}}, ""},
		{"version", []string{"version"}, Invocation{Args: []string{"version"}, Subcommand: "version"}, ""},
		{"-version", []string{"-version"}, Invocation{Args: []string{"-version"}}, ""},
		{"--version", []string{"--version"}, Invocation{Args: []string{"--version"}}, ""},
		{"-v", []string{"-v"}, Invocation{Args: []string{"-v"}}, ""},
		{"-help", []string{"-help"}, Invocation{Args: []string{"-help"}}, ""},
		{"fmt", []string{"fmt", "-check"}, Invocation{Args: []string{"fmt", "-check"}, Subcommand: "fmt"}, ""},
		{"validate", []string{"validate"}, Invocation{Args: []string{"validate"}, Subcommand: "validate"}, ""},
		{"login", []string{"login"}, Invocation{Args: []string{"login"}, Subcommand: "login"}, ""},
		{"logout", []string{"logout"}, Invocation{Args: []string{"logout"}, Subcommand: "logout"}, ""},
		{"metadata", []string{"metadata", "functions", "-json"}, Invocation{Args: []string{"metadata", "functions", "-json"}, Subcommand: "metadata"}, ""},
		{"help cmd", []string{"help", "plan"}, Invocation{Args: []string{"help", "plan"}, Subcommand: "help"}, ""},
		{"plan", []string{"plan", "-detailed-exitcode"},
			Invocation{Args: []string{"plan", "-detailed-exitcode"}, Subcommand: "plan", NeedsAuth: true}, ""},
		{"plan -help", []string{"plan", "-help"}, Invocation{Args: []string{"plan", "-help"}, Subcommand: "plan"}, ""},
		// init -backend=false still installs modules, which may come from
		// S3 (s3:: sources) and need credentials.
		{"init -backend=false", []string{"init", "-backend=false"}, Invocation{Args: []string{"init", "-backend=false"}, Subcommand: "init", NeedsAuth: true}, ""},
		{"init", []string{"init", "-input=false"}, Invocation{Args: []string{"init", "-input=false"}, Subcommand: "init", NeedsAuth: true}, ""},
		{"chdir", []string{"-chdir=infra", "apply", "-auto-approve"},
			Invocation{Args: []string{"-chdir=infra", "apply", "-auto-approve"}, Chdir: "infra", Subcommand: "apply", NeedsAuth: true}, ""},
		{"chdir version", []string{"-chdir=infra", "version"},
			Invocation{Args: []string{"-chdir=infra", "version"}, Chdir: "infra", Subcommand: "version"}, ""},
		{"identity flag with value", []string{"plan", "--identity", "plat-staging", "-out=p"},
			Invocation{Args: []string{"plan", "-out=p"}, Identity: "plat-staging", IdentitySet: true, Subcommand: "plan", NeedsAuth: true}, ""},
		{"identity flag with =", []string{"--identity=core/network", "apply"},
			Invocation{Args: []string{"apply"}, Identity: "core/network", IdentitySet: true, Subcommand: "apply", NeedsAuth: true}, ""},
		{"identity false", []string{"plan", "--identity=false"},
			Invocation{Args: []string{"plan"}, Identity: "false", IdentitySet: true, Subcommand: "plan", NeedsAuth: true}, ""},
		{"identity on a no-auth command", []string{"version", "--identity", "x"},
			Invocation{Args: []string{"version"}, Identity: "x", IdentitySet: true, Subcommand: "version"}, ""},
		{"terraform's own single-dash flags untouched", []string{"plan", "-var", "identity=x", "-identity"},
			Invocation{Args: []string{"plan", "-var", "identity=x", "-identity"}, Subcommand: "plan", NeedsAuth: true}, ""},
		{"identity without value at end", []string{"plan", "--identity"}, Invocation{}, "--identity needs a value"},
		{"identity followed by a flag", []string{"--identity", "-chdir=x", "plan"}, Invocation{}, "--identity needs a value"},
		{"identity= empty", []string{"plan", "--identity="}, Invocation{}, "--identity needs a value"},
		{"identity followed by an empty argument", []string{"--identity", ""}, Invocation{}, "--identity needs a value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseArgs(tt.args)
			if tt.wantErr != "" {
				if err == nil || err.Error()[:len(tt.wantErr)] != tt.wantErr {
					t.Fatalf("ParseArgs(%q) error = %v; want prefix %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseArgs(%q) error = %v", tt.args, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseArgs(%q) mismatch (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}

// FuzzParseArgs checks that any argument list parses without panicking,
// that terraform's arguments are the input minus tfauth's own flag, in
// order, and that a parsed --identity value is never empty.
func FuzzParseArgs(f *testing.F) {
	f.Add("plan\x00--identity\x00x\x00-out=p")
	f.Add("--identity=\x00apply")
	f.Add("-chdir=a\x00version\x00--identity")
	f.Add("")
	f.Fuzz(func(t *testing.T, joined string) {
		var args []string
		if joined != "" {
			args = strings.Split(joined, "\x00")
		}
		inv, err := ParseArgs(args)
		if err != nil {
			return
		}
		if inv.IdentitySet && inv.Identity == "" {
			t.Fatalf("ParseArgs(%q) set an empty identity", args)
		}
		j := 0
		for _, a := range args {
			if j < len(inv.Args) && inv.Args[j] == a {
				j++
			}
		}
		if j != len(inv.Args) {
			t.Fatalf("ParseArgs(%q).Args = %q is not an in-order subsequence of the input", args, inv.Args)
		}
		for _, a := range inv.Args {
			if a == identityFlag || strings.HasPrefix(a, identityFlag+"=") {
				t.Fatalf("ParseArgs(%q) left %q for terraform", args, a)
			}
		}
	})
}
