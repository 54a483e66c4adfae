package awsemu_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/tfauth/tfauth/internal/awsemu"
)

func TestParseConfig(t *testing.T) {
	good := `
roles:
  - arn: arn:aws:iam::111111111111:role/a
    trust_oidc_subjects: ["repo:x/*"]
    max_session_duration: 2h
users:
  - {arn: "arn:aws:iam::999999999999:user/u", access_key_id: AKIA1, secret_access_key: s}
buckets:
  - name: b
    objects: {k: v}
oidc: {subject: "repo:x/y:ref:refs/heads/main", request_token: t}
s3_tls: true
`
	cfg, err := awsemu.ParseConfig([]byte(good))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	if cfg.Roles[0].MaxSessionDuration != 2*time.Hour || cfg.Users[0].AccessKeyID != "AKIA1" ||
		cfg.Buckets[0].Objects["k"] != "v" || cfg.OIDC.RequestToken != "t" || !cfg.S3TLS {
		t.Errorf("ParseConfig = %+v", cfg)
	}
	for _, bad := range []string{"rolez: []", "roles: [{arn: x, trust: y}]", "roles: {}"} {
		if _, err := awsemu.ParseConfig([]byte(bad)); err == nil {
			t.Errorf("ParseConfig(%q) succeeded; want an error", bad)
		}
	}
	if _, err := awsemu.LoadConfig("/nonexistent/emulator.yaml"); err == nil {
		t.Error("LoadConfig of a missing file succeeded")
	}
}

// TestDemoConfig checks examples/hub-spoke/emulator.yaml: every role is
// reachable by web identity with the default subject, the hub can chain
// into the spokes, and the seeded plat-prod state has the outputs the demo
// reads.
func TestDemoConfig(t *testing.T) {
	cfg, err := awsemu.LoadConfig("../../examples/hub-spoke/emulator.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := startEmu(t, cfg)
	ctx := context.Background()
	roles := []string{
		"arn:aws:iam::111111111111:role/core-network",
		"arn:aws:iam::222222222222:role/plat-prod",
		"arn:aws:iam::333333333333:role/plat-staging",
	}
	for _, r := range roles {
		out := webIdentity(t, e, r, "demo")
		if !strings.HasSuffix(aws.ToString(out.AssumedRoleUser.Arn), "/demo") {
			t.Errorf("%s: Arn %q", r, aws.ToString(out.AssumedRoleUser.Arn))
		}
	}
	hub := static(webIdentity(t, e, roles[0], "hub").Credentials)
	prod := assumeRole(t, e, hub, roles[1], "prod")
	if got := aws.ToString(prod.AssumedRoleUser.Arn); got != "arn:aws:sts::222222222222:assumed-role/plat-prod/prod" {
		t.Errorf("chained Arn %q", got)
	}
	user := cfg.Users[0]
	id, err := stsClient(e, staticKeys(user.AccessKeyID, user.SecretAccessKey)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != "arn:aws:iam::999999999999:user/ci" {
		t.Errorf("GetCallerIdentity as the ci user: %v %v", aws.ToString(id.Arn), err)
	}

	obj, err := s3Client(e, static(prod.Credentials), nil).GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String("plat-prod-tfstate"), Key: aws.String("platform/terraform.tfstate")})
	if err != nil {
		t.Fatalf("GetObject plat-prod state: %v", err)
	}
	raw, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	var state struct {
		Version int
		Lineage string
		Outputs map[string]struct{ Value string }
	}
	if err := json.Unmarshal(raw, &state); err != nil {
		t.Fatalf("seeded state is not JSON: %v", err)
	}
	if state.Version != 4 || state.Lineage == "" || state.Outputs["vpc_id"].Value != "vpc-0prod" || state.Outputs["account"].Value != "222222222222" {
		t.Errorf("seeded state = %+v", state)
	}
	list, err := s3Client(e, static(prod.Credentials), nil).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("core-network-tfstate")})
	if err != nil || len(list.Contents) != 0 {
		t.Errorf("core-network-tfstate: %d objects, err %v; want empty", len(list.Contents), err)
	}
}

func TestEnv(t *testing.T) {
	e := startEmu(t, testConfig())
	env := e.Env()
	want := map[string]string{
		"AWS_ENDPOINT_URL_STS":           e.STSURL(),
		"AWS_ENDPOINT_URL_S3":            e.S3URL(),
		"AWS_STS_ENDPOINT":               e.STSURL(),
		"AWS_S3_ENDPOINT":                e.S3URL(),
		"GITHUB_ACTIONS":                 "true",
		"ACTIONS_ID_TOKEN_REQUEST_URL":   e.OIDCRequestURL(),
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": e.OIDCRequestToken(),
		"AWS_REGION":                     "us-east-1",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("Env()[%s] = %q; want %q", k, env[k], v)
		}
	}
	for _, u := range []string{e.STSURL(), e.S3URL(), e.OIDCURL()} {
		if !strings.HasPrefix(u, "http://127.0.0.1:") {
			t.Errorf("URL %q is not on 127.0.0.1", u)
		}
	}
}
