package authflow

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/config/bad")

const configTestdata = "../testdata/config"

func TestConfigLoadGood(t *testing.T) {
	t.Parallel()
	full := filepath.Join(configTestdata, "good", "full", "tfauth.yaml")
	atmos := filepath.Join(configTestdata, "good", "atmos", "atmos.yaml")
	tests := []struct {
		path string
		want *Config
	}{
		{full, &Config{
			File:      full,
			Terraform: TerraformSettings{Path: "/opt/terraform/1.8.5/terraform", Line: 3},
			Options:   Options{Concurrency: 4, Timeout: 90 * time.Second, UserProfiles: false},
			Providers: map[string]*Provider{
				"github": {Name: "github", Kind: KindGitHubOIDC, Region: "us-east-1", Audience: "sts.amazonaws.com", Line: 10},
				"gitlab": {Name: "gitlab", Kind: KindEnvToken, Region: "eu-west-1", TokenEnv: "GITLAB_OIDC_TOKEN", Line: 15},
				"irsa":   {Name: "irsa", Kind: KindFileToken, Line: 20},
			},
			Identities: map[string]*Identity{
				"core-network": {Name: "core-network", Kind: KindAssumeRole, Default: true, Required: true, ViaProvider: "github",
					Principal: Principal{AssumeRole: "arn:aws:iam::111111111111:role/core-network", SessionName: "ci", Duration: time.Hour},
					Region:    "us-east-1", Line: 23},
				"plat/prod": {Name: "plat/prod", Kind: KindAssumeRole, Required: true, ViaIdentity: "core-network",
					Principal: Principal{AssumeRole: "arn:aws:iam::222222222222:role/platform/deploy", ExternalID: "partner-1234",
						Region: "eu-central-1", Tags: map[string]string{"team": "platform", "cost-center": "42"}, SourceIdentity: "ci-bot"},
					Region: "eu-central-1", Line: 32},
				"Plat_Dev": {Name: "Plat_Dev", Kind: KindAssumeRole, ViaIdentity: "plat/prod",
					Principal: Principal{AssumeRole: "arn:aws-us-gov:iam::333333333333:role/dev"}, Region: "eu-central-1", Line: 42},
				"eks": {Name: "eks", Kind: KindAssumeRole, ViaProvider: "irsa",
					Principal: Principal{AssumeRole: "arn:aws:iam::444444444444:role/eks"}, Line: 47},
				"gitlab-ci": {Name: "gitlab-ci", Kind: KindAssumeRole, ViaProvider: "gitlab",
					Principal: Principal{AssumeRole: "arn:aws:iam::555555555555:role/gitlab"}, Region: "eu-west-1", Line: 52},
				"local": {Name: "local", Kind: KindAmbient, Principal: Principal{Region: "us-west-2"}, Region: "us-west-2", Line: 57},
				"me": {Name: "me", Kind: KindUser, Profile: "work", SessionDuration: 12 * time.Hour,
					Env: []EnvVar{{Key: "TF_VAR_owner", Value: "me"}}, Line: 61},
			},
		}},
		{atmos, &Config{
			File:    atmos,
			Options: Options{Concurrency: DefaultConcurrency, Timeout: DefaultTimeout, UserProfiles: true},
			Providers: map[string]*Provider{
				"github-oidc": {Name: "github-oidc", Kind: KindGitHubOIDC, Region: "us-east-1", Audience: "sts.us-east-1.amazonaws.com", Line: 36},
			},
			Identities: map[string]*Identity{
				"core-network": {Name: "core-network", Kind: KindAssumeRole, Default: true, Required: true, ViaProvider: "github-oidc",
					Principal: Principal{AssumeRole: "arn:aws:iam::111111111111:role/core-network"}, Region: "us-east-1",
					Env: []EnvVar{{Key: "AWS_SDK_LOAD_CONFIG", Value: "1"}}, Line: 48},
				"plat-prod": {Name: "plat-prod", Kind: KindAssumeRole, Required: true, ViaIdentity: "core-network",
					Principal:       Principal{AssumeRole: "arn:aws:iam::999999999999:role/ProductionAdmin", Region: "us-west-2"},
					SessionDuration: time.Hour, Region: "us-west-2", Line: 61},
				"base-admin": {Name: "base-admin", Kind: KindUser, Principal: Principal{Region: "eu-west-1"}, Region: "eu-west-1", Line: 71},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(filepath.Dir(tt.path)), func(t *testing.T) {
			t.Parallel()
			got, err := Load(tt.path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Load mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigParseInline(t *testing.T) {
	t.Parallel()
	const oidc = "auth:\n  providers:\n    gh: {kind: github/oidc, region: us-east-2}\n"
	tests := []struct {
		name, file, src string
		check           func(t *testing.T, c *Config)
	}{
		{"defaults", "tfauth.yaml", "auth:\n  identities:\n    ci: {kind: aws/ambient}\n", func(t *testing.T, c *Config) {
			want := Options{Concurrency: 8, Timeout: 60 * time.Second, UserProfiles: true}
			if c.Options != want {
				t.Errorf("Options = %+v; want %+v", c.Options, want)
			}
			if c.Terraform != (TerraformSettings{}) {
				t.Errorf("Terraform = %+v; want zero", c.Terraform)
			}
		}},
		{"leading document marker and trailing empty document", "tfauth.yaml", "---\nauth:\n  identities:\n    ci: {kind: aws/ambient}\n---\n", nil},
		{"audience default", "tfauth.yaml", oidc + "  identities:\n    ci: {kind: aws/assume-role, via: {provider: gh}, principal: {assume_role: 'arn:aws:iam::111111111111:role/ci'}}\n",
			func(t *testing.T, c *Config) {
				if got := c.Providers["gh"].Audience; got != DefaultAudience {
					t.Errorf("Audience = %q; want %q", got, DefaultAudience)
				}
				if got := c.Identities["ci"].Region; got != "us-east-2" {
					t.Errorf("Region = %q; want the provider's us-east-2", got)
				}
			}},
		{"region walks up the chain", "tfauth.yaml", oidc + `  identities:
    a: {kind: aws/assume-role, via: {provider: gh}, principal: {assume_role: 'arn:aws:iam::111111111111:role/a'}}
    b: {kind: aws/assume-role, via: {identity: a}, principal: {assume_role: 'arn:aws:iam::111111111111:role/b', region: eu-north-1}}
    c: {kind: aws/assume-role, via: {identity: b}, principal: {assume_role: 'arn:aws:iam::111111111111:role/c'}}
    d: {kind: aws/assume-role, via: {identity: c}, principal: {assume_role: 'arn:aws:iam::111111111111:role/d', region: ap-south-1}}
    u: {kind: aws/user}
`, func(t *testing.T, c *Config) {
			want := map[string]string{"a": "us-east-2", "b": "eu-north-1", "c": "eu-north-1", "d": "ap-south-1", "u": ""}
			for name, r := range want {
				if got := c.Identities[name].Region; got != r {
					t.Errorf("identity %s: Region = %q; want %q", name, got, r)
				}
			}
		}},
		{"anchors, merge keys and x- keys", "tfauth.yaml", `x-role: &role
  kind: aws/assume-role
  via: {provider: gh}
auth:
  providers:
    gh: {kind: github/oidc}
  identities:
    a:
      <<: *role
      principal: {assume_role: 'arn:aws:iam::111111111111:role/a'}
    b:
      <<: *role
      via: {identity: a}
      principal: {assume_role: 'arn:aws:iam::111111111111:role/b'}
`, func(t *testing.T, c *Config) {
			if a := c.Identities["a"]; a.Kind != KindAssumeRole || a.ViaProvider != "gh" {
				t.Errorf("a = %+v; want merged kind and via", a)
			}
			if b := c.Identities["b"]; b.ViaIdentity != "a" || b.ViaProvider != "" {
				t.Errorf("b via = %q/%q; want the explicit via.identity a to win over the merged one", b.ViaProvider, b.ViaIdentity)
			}
		}},
		{"atmos ignores other sections", "atmos.yaml", "terraform: {command: tofu}\noptions: 3\nschemas: {}\nauth:\n  identities:\n    CI: {kind: aws/ambient}\n",
			func(t *testing.T, c *Config) {
				if _, ok := c.Identities["CI"]; !ok {
					t.Errorf("identity CI missing; names must keep their case")
				}
				if c.Terraform.Path != "" || c.Options.Concurrency != DefaultConcurrency {
					t.Errorf("atmos.yaml terraform:/options: must be ignored, got %+v %+v", c.Terraform, c.Options)
				}
			}},
		{"relative terraform path", "/etc/proj/tfauth.yaml", "terraform: {path: bin/terraform}\nauth:\n  identities:\n    ci: {kind: aws/ambient}\n",
			func(t *testing.T, c *Config) {
				if want := filepath.FromSlash("/etc/proj/bin/terraform"); c.Terraform.Path != want {
					t.Errorf("Terraform.Path = %q; want %q", c.Terraform.Path, want)
				}
			}},
		{"yaml 1.1 booleans", "tfauth.yaml", "auth:\n  identities:\n    ci: {kind: aws/ambient, default: yes, required: on}\n",
			func(t *testing.T, c *Config) {
				if id := c.Identities["ci"]; !id.Default || !id.Required {
					t.Errorf("default/required = %v/%v; want true/true", id.Default, id.Required)
				}
			}},
		{"chained role at 1h", "tfauth.yaml", oidc + `  identities:
    a: {kind: aws/assume-role, via: {provider: gh}, principal: {assume_role: 'arn:aws:iam::111111111111:role/a', duration: 12h}}
    b: {kind: aws/assume-role, via: {identity: a}, principal: {assume_role: 'arn:aws:iam::111111111111:role/b', duration: 60m}}
    u: {kind: aws/user}
    c: {kind: aws/assume-role, via: {identity: u}, principal: {assume_role: 'arn:aws:iam::111111111111:role/c', duration: 12h, tags: {a: b}}}
`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse(tt.file, []byte(tt.src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

// TestValidateGolden parses every testdata/config/bad/<name>.yaml and
// compares the error text with <name>.golden. Cases named atmos-* are
// parsed as an atmos.yaml. Run with -update to rewrite the goldens.
func TestValidateGolden(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(configTestdata, "bad")
	cases, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 25 {
		t.Fatalf("found %d golden cases in %s; want at least 25", len(cases), dir)
	}
	for _, path := range cases {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			file := name + ".yaml"
			if strings.HasPrefix(name, "atmos-") {
				file = "atmos.yaml"
			}
			cfg, err := Parse(file, data)
			if err == nil {
				t.Fatalf("Parse succeeded with %d identities; want an error", len(cfg.Identities))
			}
			checkConfigErrors(t, file, err)
			got := err.Error() + "\n"
			golden := filepath.Join(dir, name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestValidateGolden -update)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// checkConfigErrors asserts err is a non-empty ConfigErrors for file,
// sorted by line, each entry with a message.
func checkConfigErrors(t *testing.T, file string, err error) {
	t.Helper()
	var list ConfigErrors
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("error %T %q is not a non-empty ConfigErrors", err, err)
	}
	var one *ConfigError
	if !errors.As(err, &one) {
		t.Errorf("errors.As(*ConfigError) failed on %q", err)
	}
	for i, e := range list {
		if e.File != file || e.Msg == "" {
			t.Errorf("entry %d = %+v; want File %q and a message", i, e, file)
		}
		if i > 0 && list[i-1].Line > e.Line {
			t.Errorf("entries not sorted by line: %d before %d", list[i-1].Line, e.Line)
		}
		if strings.Contains(e.Error(), "authflow.") || strings.Contains(e.Error(), "reflect") {
			t.Errorf("entry %d leaks Go names: %s", i, e)
		}
	}
}

func TestConfigErrorsNeverEchoSecrets(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"user-credentials", "env-token"} {
		data, err := os.ReadFile(filepath.Join(configTestdata, "bad", name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Parse(name+".yaml", data)
		if err == nil {
			t.Fatalf("%s: Parse succeeded; want an error", name)
		}
		for _, secret := range []string{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI", "eyJhbGciOiJSUzI1NiJ9"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error echoes secret material %q:\n%s", name, secret, err)
			}
		}
	}
}

func TestConfigErrorFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *ConfigError
		want string
	}{
		{&ConfigError{File: "tfauth.yaml", Line: 12, Column: 9, Msg: `identity "x": bad`, Hint: "fix it"}, `tfauth.yaml:12: identity "x": bad; fix it`},
		{&ConfigError{File: "/a/tfauth.yaml", Msg: "file is empty"}, "/a/tfauth.yaml: file is empty"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q; want %q", got, tt.want)
		}
	}
	list := ConfigErrors{tests[0].err, tests[1].err}
	if got, want := list.Error(), tests[0].want+"\n"+tests[1].want; got != want {
		t.Errorf("ConfigErrors.Error() = %q; want %q", got, want)
	}
}

func TestConfigLoadErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v; want fs.ErrNotExist", err)
	}
	big := filepath.Join(dir, "tfauth.yaml")
	if err := os.WriteFile(big, make([]byte, MaxConfigSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(big)
	var list ConfigErrors
	if !errors.As(err, &list) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Load(big) = %v; want a ConfigErrors about the size", err)
	}
}

// FuzzParse checks that Parse never panics, that failures are ConfigErrors,
// and that every accepted configuration can be planned for each identity.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"bad/*.yaml", "good/*/*.yaml"} {
		files, _ := filepath.Glob(filepath.Join(configTestdata, pattern))
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(filepath.Base(file), data)
		}
	}
	f.Add("tfauth.yaml", []byte("a: &a [*a]\nauth: *a\n"))
	f.Add("tfauth.yaml", []byte("auth: {identities: {a: {kind: aws/ambient, <<: {<<: {<<: {kind: x}}}}}}"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		file := "tfauth.yaml"
		if IsAtmosFile(name) {
			file = "atmos.yaml"
		}
		cfg, err := Parse(file, data)
		if err != nil {
			var list ConfigErrors
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %T %q is not a non-empty ConfigErrors", err, err)
			}
			for _, e := range list {
				if e.File != file || e.Msg == "" {
					t.Fatalf("bad entry %+v", e)
				}
			}
			return
		}
		if cfg == nil || len(cfg.Identities) == 0 {
			t.Fatalf("Parse returned %v with no error", cfg)
		}
		_, _ = Select(cfg, "")
		for name := range cfg.Identities {
			if _, err := Plan(cfg, name); err != nil {
				t.Fatalf("Plan(%q) on a valid config: %v", name, err)
			}
		}
	})
}

// TestConfigAdversarial checks that alias and merge-key bombs end quickly
// with an error or a result, never a hang or panic.
func TestConfigAdversarial(t *testing.T) {
	t.Parallel()
	var merge, seq strings.Builder
	merge.WriteString("x-0: &a0 {kind: aws/ambient}\n")
	seq.WriteString("x-0: &a0 [{key: A, value: b}]\n")
	for i := 1; i < 40; i++ {
		fmt.Fprintf(&merge, "x-%d: &a%d {<<: [", i, i)
		fmt.Fprintf(&seq, "x-%d: &a%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				merge.WriteString(", ")
				seq.WriteString(", ")
			}
			fmt.Fprintf(&merge, "*a%d", i-1)
			fmt.Fprintf(&seq, "*a%d", i-1)
		}
		merge.WriteString("]}\n")
		seq.WriteString("]\n")
	}
	merge.WriteString("auth:\n  identities:\n    ci: *a39\n")
	seq.WriteString("auth:\n  identities:\n    ci: {kind: aws/ambient, env: *a39}\n")
	for name, src := range map[string]string{
		"merge bomb":     merge.String(),
		"sequence bomb":  seq.String(),
		"self alias":     "a: &a [*a]\nauth: *a\n",
		"self merge":     "x-a: &a {<<: *a}\nauth: {identities: {ci: *a}}\n",
		"deep nesting":   strings.Repeat("[", 5000) + strings.Repeat("]", 5000),
		"many documents": strings.Repeat("---\na: 1\n", 1000),
	} {
		start := time.Now()
		_, _ = Parse("tfauth.yaml", []byte(src))
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: Parse took %v", name, d)
		}
	}
}

func TestConfigFmtDur(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		time.Second: "1s", 90 * time.Second: "1m30s", 10 * time.Minute: "10m", 15 * time.Minute: "15m",
		time.Hour: "1h", 90 * time.Minute: "1h30m", 12 * time.Hour: "12h", 10 * time.Hour: "10h",
	} {
		if got := fmtDur(d); got != want {
			t.Errorf("fmtDur(%v) = %q; want %q", d, got, want)
		}
	}
}
