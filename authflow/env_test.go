package authflow_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tfauth/tfauth/authflow"
)

func TestEnv(t *testing.T) {
	t.Parallel()
	base := []string{
		"PATH=/usr/bin",
		"AWS_ACCESS_KEY_ID=AKIASTRAY",
		"AWS_SECRET_ACCESS_KEY=stray",
		"AWS_ACCESS_KEY=AKIASTRAY",
		"AWS_SECRET_KEY=stray",
		"AWS_SESSION_TOKEN=stray",
		"AWS_SECURITY_TOKEN=stray",
		"AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/token",
		"AWS_ROLE_ARN=arn:aws:iam::1:role/x",
		"AWS_ROLE_SESSION_NAME=x",
		"AWS_DEFAULT_PROFILE=x",
		"AWS_CREDENTIAL_EXPIRATION=2030-01-01T00:00:00Z",
		"AWS_PROFILE=user",
		"AWS_REGION=us-west-1",
		"TF_VAR_x=1",
		"HOME=/home/u",
		"TF_VAR_x=2",
		"AWS_CONFIG_FILE=/home/u/.aws/config",
		"NOVALUE",
	}
	f := authflow.Files{Credentials: "/run/tfauth-1/credentials", Config: "/run/tfauth-1/config"}
	res := &authflow.Results{Primary: "prod", Profiles: map[string]*authflow.Credentials{"prod": {Region: "eu-west-1"}}}
	got := authflow.Env(base, f, res, "/run/tfauth-1")
	want := []string{
		"PATH=/usr/bin",
		"HOME=/home/u",
		"TF_VAR_x=2",
		"NOVALUE",
		"AWS_SHARED_CREDENTIALS_FILE=/run/tfauth-1/credentials",
		"AWS_CONFIG_FILE=/run/tfauth-1/config",
		"AWS_PROFILE=prod",
		"AWS_SDK_LOAD_CONFIG=1",
		"AWS_REGION=eu-west-1",
		"AWS_DEFAULT_REGION=eu-west-1",
		"TFAUTH_SESSION_DIR=/run/tfauth-1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Env (-want +got):\n%s", diff)
	}
	if base[1] != "AWS_ACCESS_KEY_ID=AKIASTRAY" {
		t.Error("Env modified base")
	}
}

func TestEnvUnknownRegionKeepsUsers(t *testing.T) {
	t.Parallel()
	res := &authflow.Results{Primary: "p", Profiles: map[string]*authflow.Credentials{"p": {}}}
	got := authflow.Env([]string{"AWS_REGION=us-west-1", "AWS_DEFAULT_REGION=us-west-2"}, authflow.Files{}, res, "/d")
	joined := strings.Join(got, "\n")
	for _, want := range []string{"AWS_REGION=us-west-1", "AWS_DEFAULT_REGION=us-west-2", "AWS_PROFILE=p"} {
		if !strings.Contains(joined, want) {
			t.Errorf("Env = %q; want %s", got, want)
		}
	}
	seen := map[string]bool{}
	for _, kv := range got {
		k, _, _ := strings.Cut(kv, "=")
		if seen[k] {
			t.Errorf("duplicate %s in %q", k, got)
		}
		seen[k] = true
	}
}
