package wrapper

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// runTfauth runs tfauth's command line in-process with env (plus a HOME
// and TMPDIR of its own) and returns the exit code and both streams.
func runTfauth(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	tmp := t.TempDir()
	base := []string{"HOME=" + tmp, "TMPDIR=" + tmp, "PATH=/usr/bin:/bin"}
	var out, errOut bytes.Buffer
	code = Main(Process{
		Args:   append([]string{"tfauth"}, args...),
		Env:    append(base, env...),
		Stdout: &out,
		Stderr: &errOut,
	})
	return code, out.String(), errOut.String()
}

// writeConfig writes a tfauth.yaml into a new directory and returns its path.
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tfauth.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// treeConfig has a provider with a chain two deep, an unused provider and
// two standalone identities.
const treeConfig = `auth:
  providers:
    gh:
      kind: github/oidc
      region: us-east-1
    spare:
      kind: tfauth/env-token
      spec: {env: CI_TOKEN}
  identities:
    hub:
      kind: aws/assume-role
      default: true
      required: true
      via: {provider: gh}
      principal: {assume_role: "arn:aws:iam::111111111111:role/hub"}
    spoke:
      kind: aws/assume-role
      required: true
      via: {identity: hub}
      principal: {assume_role: "arn:aws:iam::222222222222:role/spoke", region: eu-west-1}
    audit:
      kind: aws/assume-role
      via: {identity: spoke}
      principal: {assume_role: "arn:aws:iam::333333333333:role/audit"}
    ops:
      kind: aws/assume-role
      via: {provider: gh}
      principal: {assume_role: "arn:aws:iam::444444444444:role/ops"}
    laptop:
      kind: aws/user
    ambient:
      kind: aws/ambient
`

func TestAuthListText(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, treeConfig)
	code, stdout, stderr := runTfauth(t, nil, "auth", "list", "--config", cfg)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	want := "configuration: " + cfg + `
provider gh (github/oidc, us-east-1)
├── hub (aws/assume-role arn:aws:iam::111111111111:role/hub, us-east-1) [primary, required]
│   └── spoke (aws/assume-role arn:aws:iam::222222222222:role/spoke, eu-west-1) [required]
│       └── audit (aws/assume-role arn:aws:iam::333333333333:role/audit, eu-west-1)
└── ops (aws/assume-role arn:aws:iam::444444444444:role/ops, us-east-1)
provider spare (tfauth/env-token)
ambient (aws/ambient)
laptop (aws/user)
primary: hub (default: true)
`
	if diff := cmp.Diff(want, stdout); diff != "" {
		t.Errorf("auth list (-want +got):\n%s", diff)
	}
}

func TestAuthListJSON(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, treeConfig)
	tests := []struct {
		name        string
		env, args   []string
		primary     string
		source      string
		wantErrText string
	}{
		{"default", nil, nil, "hub", "default", ""},
		{"TFAUTH_IDENTITY", []string{"TFAUTH_IDENTITY=audit"}, nil, "audit", "TFAUTH_IDENTITY", ""},
		{"ATMOS_IDENTITY", []string{"ATMOS_IDENTITY=ops"}, nil, "ops", "ATMOS_IDENTITY", ""},
		{"flag beats env", []string{"TFAUTH_IDENTITY=audit"}, []string{"--identity", "laptop"}, "laptop", "--identity", ""},
		{"unknown", []string{"TFAUTH_IDENTITY=nope"}, nil, "", "", "nope"},
		{"turned off", []string{"TFAUTH_IDENTITY=false"}, nil, "", "", "turned off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"auth", "list", "-o", "json", "--config", cfg}, tt.args...)
			code, stdout, stderr := runTfauth(t, tt.env, args...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			// Decoded into a generic map, so a renamed or dropped field fails.
			var got map[string]any
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, stdout)
			}
			for _, k := range []string{"config", "primary", "primary_source", "primary_error", "required", "tree"} {
				if _, ok := got[k]; !ok {
					t.Errorf("field %q missing", k)
				}
			}
			if got["config"] != cfg || got["primary"] != tt.primary || got["primary_source"] != tt.source {
				t.Errorf("config %v, primary %v from %v; want %s, %q from %q", got["config"], got["primary"], got["primary_source"], cfg, tt.primary, tt.source)
			}
			if e, _ := got["primary_error"].(string); !strings.Contains(e, tt.wantErrText) || (tt.wantErrText == "") != (e == "") {
				t.Errorf("primary_error %q; want it to mention %q", e, tt.wantErrText)
			}
			if diff := cmp.Diff([]any{"hub", "spoke"}, got["required"]); diff != "" {
				t.Errorf("required (-want +got):\n%s", diff)
			}
			// The tree: gh > hub > spoke > audit, gh > ops; spare; the
			// standalone identities; only the primary marked primary.
			var shape func(nodes []any) []string
			shape = func(nodes []any) []string {
				var out []string
				for _, n := range nodes {
					m := n.(map[string]any)
					s := m["type"].(string) + ":" + m["name"].(string)
					if m["primary"] == true {
						s += "*"
					}
					children, ok := m["children"].([]any)
					if !ok {
						t.Errorf("%s: children is %v; want an array, even when empty", s, m["children"])
					}
					if len(children) > 0 {
						s += "(" + strings.Join(shape(children), " ") + ")"
					}
					out = append(out, s)
				}
				return out
			}
			mark := func(name string) string {
				if name == tt.primary {
					return name + "*"
				}
				return name
			}
			want := "provider:gh(identity:" + mark("hub") + "(identity:" + mark("spoke") + "(identity:" + mark("audit") + ")) identity:" + mark("ops") + ") " +
				"provider:spare identity:" + mark("ambient") + " identity:" + mark("laptop")
			if got := strings.Join(shape(got["tree"].([]any)), " "); got != want {
				t.Errorf("tree\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestAuthListNeedsConfig(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runTfauth(t, nil, "auth", "list", "--config", filepath.Join(t.TempDir(), "missing.yaml"))
	if code != 1 || stdout != "" || !strings.Contains(stderr, "missing.yaml") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 naming the missing file", code, stdout, stderr)
	}
	code, _, stderr = runTfauth(t, nil, "auth", "list", "-o", "yaml", "--config", writeConfig(t, treeConfig))
	if code != 1 || !strings.Contains(stderr, `unknown output format "yaml"`) {
		t.Errorf("-o yaml: exit %d, stderr %q", code, stderr)
	}
}

func TestAuthValidate(t *testing.T) {
	t.Parallel()
	t.Run("valid", func(t *testing.T) {
		t.Parallel()
		cfg := writeConfig(t, treeConfig)
		// The global --config, before the command, and TFAUTH_CONFIG work too.
		for _, run := range [][]string{
			{"auth", "validate", "--config", cfg},
			{"--config", cfg, "auth", "validate"},
			{"auth", "--config=" + cfg, "validate"},
		} {
			code, stdout, stderr := runTfauth(t, nil, run...)
			want := cfg + ": valid: 2 providers, 6 identities (2 required), primary hub (default: true)\n"
			if code != 0 || stdout != want || stderr != "" {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want 0, %q", run, code, stdout, stderr, want)
			}
		}
		code, stdout, _ := runTfauth(t, []string{"TFAUTH_CONFIG=" + cfg}, "auth", "validate")
		if code != 0 || !strings.HasPrefix(stdout, cfg+": valid: ") {
			t.Errorf("TFAUTH_CONFIG: exit %d, stdout %q", code, stdout)
		}
	})
	t.Run("problems", func(t *testing.T) {
		t.Parallel()
		cfg := writeConfig(t, `auth:
  providers:
    gh: {kind: github/oidc}
  identities:
    a:
      kind: aws/assume-role
      default: true
      via: {provider: nope}
      principal: {assume_role: "arn:aws:iam::111111111111:role/a"}
    b:
      kind: aws/assume-role
      default: true
      via: {provider: gh}
      principal: {assume_rol: "arn:aws:iam::111111111111:role/b"}
`)
		code, stdout, stderr := runTfauth(t, nil, "auth", "validate", "--config", cfg)
		if code != 1 || stdout != "" {
			t.Fatalf("exit %d, stdout %q; want 1 and nothing on stdout", code, stdout)
		}
		lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
		if len(lines) < 4 || !strings.HasPrefix(lines[0], "tfauth: error: "+cfg+": ") || !strings.Contains(lines[0], "problems") {
			t.Fatalf("stderr:\n%s\nwant a count line and a line per problem", stderr)
		}
		for _, want := range []string{cfg + ":8: ", cfg + ":14: ", "default: true"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
		}
		for _, l := range lines[1:] {
			if !strings.HasPrefix(l, cfg+":") {
				t.Errorf("problem line %q does not start with file:line", l)
			}
		}
	})
	t.Run("no config", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		code, _, stderr := runTfauth(t, []string{"XDG_CONFIG_HOME=" + dir}, "auth", "validate")
		if code != 1 || !strings.Contains(stderr, "no tfauth configuration found") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
}

func TestAuthCommandUsage(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"list", "validate", "whoami", "env", "exec", "logout"} {
		code, stdout, stderr := runTfauth(t, nil, "auth", cmd, "--help")
		if code != 0 || !strings.HasPrefix(stdout, "usage: tfauth auth "+cmd) || stderr != "" {
			t.Errorf("auth %s --help: exit %d, stdout %q, stderr %q", cmd, code, stdout, stderr)
		}
		if !strings.Contains(usage, "tfauth auth "+cmd) {
			t.Errorf("tfauth help does not list auth %s", cmd)
		}
	}
	code, _, stderr := runTfauth(t, nil, "auth", "frob")
	if code != 1 || !strings.Contains(stderr, `unknown auth command "frob"`) {
		t.Errorf("auth frob: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runTfauth(t, nil, "auth", "exec", "--config", writeConfig(t, treeConfig))
	if code != 1 || !strings.Contains(stderr, "no command given") {
		t.Errorf("auth exec without a command: exit %d, stderr %q", code, stderr)
	}
}

func TestAuthExecNotFound(t *testing.T) {
	t.Parallel()
	// Authentication turned off: the lookup alone decides, in the
	// command's PATH, and a missing program is 127 as in a shell.
	code, _, stderr := runTfauth(t, nil, "auth", "exec", "--identity=false", "--", "no-such-program-tfauth")
	if code != 127 || !strings.Contains(stderr, "no-such-program-tfauth") {
		t.Errorf("exit %d, stderr %q; want 127 naming the program", code, stderr)
	}
}

func TestAuthLogout(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	kept := filepath.Join(tmp, "tfauth.env", "env-123")
	if err := os.MkdirAll(kept, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(kept, "credentials"), []byte("[x]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(tmp, "unrelated")
	if err := os.Mkdir(other, 0o700); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := Main(Process{Args: []string{"tfauth", "auth", "logout"}, Env: []string{"TMPDIR=" + tmp, "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(kept, "credentials")},
		Stdout: &out, Stderr: &errOut})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "removed "+kept+" (profiles left by `tfauth auth env`)") {
		t.Errorf("stdout %q does not name %s", out.String(), kept)
	}
	if _, err := os.Stat(filepath.Join(tmp, "tfauth.env")); !os.IsNotExist(err) {
		t.Errorf("tfauth.env still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("an unrelated directory was touched: %v", err)
	}
	if !strings.Contains(errOut.String(), "unset AWS_PROFILE") {
		t.Errorf("stderr %q; want the hint to unset the variables of the removed profiles", errOut.String())
	}
	out.Reset()
	Main(Process{Args: []string{"tfauth", "auth", "logout"}, Env: []string{"TMPDIR=" + tmp}, Stdout: &out, Stderr: &errOut})
	if out.String() != "nothing to remove\n" {
		t.Errorf("second logout: %q", out.String())
	}
}
