package wrapper

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// awkward values: a quote, a space, a dollar, a backslash, a hash.
var testVars = []envVar{
	{Key: "AWS_PROFILE", Value: "core-network"},
	{Key: "AWS_CONFIG_FILE", Value: "/tmp/it's here/config"},
	{Key: "TFAUTH_SESSION_DIR", Value: `/tmp/a $HOME\b #c`},
	{Key: "AWS_SDK_LOAD_CONFIG", Value: "1"},
}

func TestWriteEnvBash(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := writeEnv(&b, "bash", testVars, []string{"AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN"}, ""); err != nil {
		t.Fatal(err)
	}
	want := `unset AWS_ACCESS_KEY_ID AWS_SESSION_TOKEN
export AWS_PROFILE='core-network'
export AWS_CONFIG_FILE='/tmp/it'\''s here/config'
export TFAUTH_SESSION_DIR='/tmp/a $HOME\b #c'
export AWS_SDK_LOAD_CONFIG='1'
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("bash (-want +got):\n%s", diff)
	}
	// A shell reads back exactly the values.
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	script := b.String() + `printf '%s|%s|%s|%s|%s\n' "$AWS_PROFILE" "$AWS_CONFIG_FILE" "$TFAUTH_SESSION_DIR" "$AWS_SDK_LOAD_CONFIG" "${AWS_ACCESS_KEY_ID-unset}"`
	cmd := exec.Command(sh, "-c", script)
	cmd.Env = []string{"AWS_ACCESS_KEY_ID=AKIASTRAY", "HOME=/home/x"}
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "core-network|/tmp/it's here/config|/tmp/a $HOME\\b #c|1|unset\n"; got != want {
		t.Errorf("sh read back %q; want %q", got, want)
	}
}

func TestWriteEnvDotenv(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	vars := append(testVars, envVar{Key: "NL", Value: "a\nb'c\"d\\"}, envVar{Key: "EMPTY"})
	if err := writeEnv(&b, "dotenv", vars, []string{"AWS_ACCESS_KEY_ID"}, ""); err != nil {
		t.Fatal(err)
	}
	want := `AWS_PROFILE=core-network
AWS_CONFIG_FILE="/tmp/it's here/config"
TFAUTH_SESSION_DIR='/tmp/a $HOME\b #c'
AWS_SDK_LOAD_CONFIG=1
NL="a\nb'c\"d\\"
EMPTY=
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("dotenv (-want +got):\n%s", diff)
	}
}

func TestWriteEnvJSON(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := writeEnv(&b, "json", testVars, []string{"AWS_ACCESS_KEY_ID"}, ""); err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("not a JSON object of strings: %v\n%s", err, b.String())
	}
	want := map[string]string{}
	for _, v := range testVars {
		want[v.Key] = v.Value
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("json (-want +got):\n%s", diff)
	}
}

func TestWriteEnvGitHub(t *testing.T) {
	t.Parallel()
	ghEnv := filepath.Join(t.TempDir(), "github_env")
	if err := os.WriteFile(ghEnv, []byte("EARLIER=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := append(append([]envVar(nil), testVars...),
		envVar{Key: "SOME_TOKEN", Value: "tok-line1\ntok-line2", Secret: true},
		envVar{Key: "OTHER_SECRET", Value: "s3cr3t-value", Secret: true})
	var stdout bytes.Buffer
	if err := writeEnv(&stdout, "github", vars, []string{"AWS_ACCESS_KEY_ID"}, ghEnv); err != nil {
		t.Fatal(err)
	}
	// Masks, one per line of each secret value, and nothing else on stdout.
	if got, want := stdout.String(), "::add-mask::tok-line1\n::add-mask::tok-line2\n::add-mask::s3cr3t-value\n"; got != want {
		t.Errorf("stdout %q; want %q", got, want)
	}
	b, err := os.ReadFile(ghEnv)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	// Appended after what was there; multi-line values in the delimiter form.
	re := regexp.MustCompile(`^EARLIER=1
AWS_PROFILE=core-network
AWS_CONFIG_FILE=/tmp/it's here/config
TFAUTH_SESSION_DIR=/tmp/a \$HOME\\b #c
AWS_SDK_LOAD_CONFIG=1
SOME_TOKEN<<(ghadelimiter_[0-9a-f]{24})
tok-line1
tok-line2
(ghadelimiter_[0-9a-f]{24})
OTHER_SECRET=s3cr3t-value
AWS_ACCESS_KEY_ID=
$`)
	m := re.FindStringSubmatch(got)
	if m == nil || m[1] != m[2] {
		t.Errorf("$GITHUB_ENV:\n%s", got)
	}
	if secretKey("AWS_PROFILE") || secretKey("AWS_SHARED_CREDENTIALS_FILE") || secretKey("TFAUTH_SESSION_DIR") || !secretKey("AWS_SESSION_TOKEN") || !secretKey("AWS_SECRET_ACCESS_KEY") {
		t.Error("secretKey: tfauth's variables are not secrets; tokens and keys are")
	}
}

func TestWriteEnvGitHubUnset(t *testing.T) {
	t.Parallel()
	err := writeEnv(&bytes.Buffer{}, "github", testVars, nil, "")
	if err == nil || !strings.Contains(err.Error(), "GITHUB_ENV") {
		t.Errorf("got %v; want an error naming $GITHUB_ENV", err)
	}
	err = writeEnv(&bytes.Buffer{}, "yaml", testVars, nil, "")
	if err == nil || !strings.Contains(err.Error(), `unknown format "yaml"`) {
		t.Errorf("got %v; want unknown format", err)
	}
	// The command refuses before authenticating.
	code, _, stderr := runTfauth(t, nil, "auth", "env", "--format", "github", "--config", writeConfig(t, treeConfig))
	if code != 1 || !strings.Contains(stderr, "GITHUB_ENV") {
		t.Errorf("auth env --format github without GITHUB_ENV: exit %d, stderr %q", code, stderr)
	}
}
