package awsemu_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/tfauth/tfauth/internal/awsemu"
)

const (
	hubRole     = "arn:aws:iam::111111111111:role/hub"
	spokeRole   = "arn:aws:iam::222222222222:role/spoke"
	extRole     = "arn:aws:iam::222222222222:role/ext"
	userRole    = "arn:aws:iam::333333333333:role/from-user"
	anyRole     = "arn:aws:iam::444444444444:role/path/any"
	acctRole    = "arn:aws:iam::999999999999:role/account-trust"
	oidcOnly    = "arn:aws:iam::555555555555:role/oidc-only"
	ciUser      = "arn:aws:iam::999999999999:user/ci"
	ciKeyID     = "AKIAEMULATORCI00001"
	ciSecret    = "ci/secret/key/for/tests/0000000000000000"
	stateBucket = "state"
)

func testConfig() awsemu.Config {
	return awsemu.Config{
		Roles: []awsemu.Role{
			{ARN: hubRole, TrustOIDCSubjects: []string{"repo:example/infra:*"}},
			{ARN: spokeRole, TrustPrincipals: []string{hubRole}},
			{ARN: extRole, TrustPrincipals: []string{hubRole}, ExternalID: "ext-123"},
			{ARN: userRole, TrustPrincipals: []string{ciUser}, MaxSessionDuration: 4 * time.Hour},
			{ARN: anyRole, TrustPrincipals: []string{"*"}, MaxSessionDuration: 2 * time.Hour},
			{ARN: acctRole, TrustPrincipals: []string{"arn:aws:iam::999999999999:root"}},
			{ARN: oidcOnly, TrustOIDCSubjects: []string{"repo:other/*"}, TrustOIDCAudiences: []string{"custom-aud"}},
		},
		Users: []awsemu.User{{ARN: ciUser, AccessKeyID: ciKeyID, SecretAccessKey: ciSecret}},
		Buckets: []awsemu.Bucket{
			{Name: stateBucket, Objects: map[string]string{"seed/hello.txt": "hello from the seed"}},
			{Name: "other"},
		},
	}
}

func startEmu(t *testing.T, cfg awsemu.Config) *awsemu.Emulator {
	t.Helper()
	e, err := awsemu.Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(e.Close)
	return e
}

// sdkConfig is an aws.Config isolated from the host's files and
// environment, with fast retries.
func sdkConfig(creds aws.CredentialsProvider) aws.Config {
	return aws.Config{
		Region:      "us-east-1",
		Credentials: creds,
		// The defaults of config.LoadDefaultConfig: checksums whenever the
		// operation supports them, on requests and responses.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxBackoff = 20 * time.Millisecond
			})
		},
	}
}

func stsClient(e *awsemu.Emulator, creds aws.CredentialsProvider) *sts.Client {
	return sts.NewFromConfig(sdkConfig(creds), func(o *sts.Options) {
		o.BaseEndpoint = aws.String(e.STSURL())
	})
}

func static(c *types.Credentials) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
}

func userCreds() aws.CredentialsProvider { return staticKeys(ciKeyID, ciSecret) }

func staticKeys(id, secret string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(id, secret, "")
}

// webIdentity assumes role with a fresh token for the default subject.
func webIdentity(t *testing.T, e *awsemu.Emulator, role, session string) *sts.AssumeRoleWithWebIdentityOutput {
	t.Helper()
	tok, err := e.MintToken("sts.amazonaws.com", "")
	if err != nil {
		t.Fatal(err)
	}
	out, err := stsClient(e, nil).AssumeRoleWithWebIdentity(context.Background(), &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(role), RoleSessionName: aws.String(session), WebIdentityToken: aws.String(tok),
	})
	if err != nil {
		t.Fatalf("AssumeRoleWithWebIdentity %s: %v", role, err)
	}
	return out
}

func assumeRole(t *testing.T, e *awsemu.Emulator, creds aws.CredentialsProvider, role, session string) *sts.AssumeRoleOutput {
	t.Helper()
	out, err := stsClient(e, creds).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String(role), RoleSessionName: aws.String(session),
	})
	if err != nil {
		t.Fatalf("AssumeRole %s: %v", role, err)
	}
	return out
}

// apiError returns the error code and HTTP status of err ("" and 0 for nil).
func apiError(t *testing.T, err error) (string, int) {
	t.Helper()
	if err == nil {
		return "", 0
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an API error: %v", err)
	}
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ae.ErrorCode(), status
}

func s3Client(e *awsemu.Emulator, creds aws.CredentialsProvider, hc aws.HTTPClient) *s3.Client {
	cfg := sdkConfig(creds)
	if hc == nil {
		hc = e.S3HTTPClient()
	}
	cfg.HTTPClient = hc
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(e.S3URL())
		o.UsePathStyle = true
	})
}

// recordingClient wraps an HTTP client and keeps every request's headers
// and every response's headers.
type recordingClient struct {
	inner *http.Client
	mu    sync.Mutex
	reqs  []http.Header
	resps []http.Header
}

func (c *recordingClient) Do(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.reqs = append(c.reqs, r.Header.Clone())
	c.mu.Unlock()
	resp, err := c.inner.Do(r)
	if err == nil {
		c.mu.Lock()
		c.resps = append(c.resps, resp.Header.Clone())
		c.mu.Unlock()
	}
	return resp, err
}
