package authflow

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

func TestSessionName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ identity, want string }{
		{"prod", "tfauth-prod"},
		{"core/network", "tfauth-core-network"},
		{"a b:c#d", "tfauth-a-b-c-d"},
		{"ok_+=,.@-", "tfauth-ok_+=,.@-"},
		{"ünï", "tfauth--n-"},
		{strings.Repeat("x", 100), "tfauth-" + strings.Repeat("x", 57)},
	} {
		got := SessionName(tc.identity)
		if got != tc.want {
			t.Errorf("SessionName(%q) = %q; want %q", tc.identity, got, tc.want)
		}
		if !sessionNameValid().MatchString(got) {
			t.Errorf("SessionName(%q) = %q; not valid for STS", tc.identity, got)
		}
	}
}

func TestRoleSessionNameConfigured(t *testing.T) {
	t.Parallel()
	id := &Identity{Name: "x", Principal: Principal{SessionName: "ci-run"}}
	if got, err := roleSessionName(id); err != nil || got != "ci-run" {
		t.Errorf("roleSessionName = %q, %v", got, err)
	}
	id.Principal.SessionName = "bad name"
	if _, err := roleSessionName(id); err == nil {
		t.Error("an invalid configured session name was accepted")
	}
}

func TestDurationSeconds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		principal, session time.Duration
		want               int32
		err                bool
	}{
		{0, 0, 0, false},
		{2 * time.Hour, time.Hour, 7200, false},
		{0, 30 * time.Minute, 1800, false},
		{time.Minute, 0, 0, true},
		{13 * time.Hour, 0, 0, true},
	} {
		got, err := durationSeconds(&Identity{SessionDuration: tc.session, Principal: Principal{Duration: tc.principal}})
		if (err != nil) != tc.err {
			t.Errorf("durationSeconds(%v, %v) error = %v", tc.principal, tc.session, err)
			continue
		}
		var g int32
		if got != nil {
			g = *got
		}
		if g != tc.want {
			t.Errorf("durationSeconds(%v, %v) = %d; want %d", tc.principal, tc.session, g, tc.want)
		}
	}
}

func TestFailFastRetryer(t *testing.T) {
	t.Parallel()
	f := newSTSFactory(func(string) string { return "" }, discardLogger(), newRedactor())
	for code, want := range map[string]bool{
		"Throttling":            true,
		"IDPCommunicationError": false, // retried by the STS client's own wrapper, not the base retryer
		"AccessDenied":          false,
		"ValidationError":       false,
		"InvalidIdentityToken":  false,
	} {
		err := &smithy.GenericAPIError{Code: code, Message: "m"}
		if got := f.retryer.IsErrorRetryable(err); got != want {
			t.Errorf("retryable(%s) = %v; want %v", code, got, want)
		}
	}
}

func TestSTSSettings(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"AWS_ENDPOINT_URL":     "http://generic",
		"AWS_ENDPOINT_URL_STS": "http://sts",
		"AWS_MAX_ATTEMPTS":     "7",
	}
	f := newSTSFactory(func(k string) string { return env[k] }, discardLogger(), newRedactor())
	if f.endpoint != "http://sts" || f.retryer.MaxAttempts() != 7 || f.settingsErr != nil {
		t.Errorf("endpoint %q, attempts %d, err %v", f.endpoint, f.retryer.MaxAttempts(), f.settingsErr)
	}
	env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "TRUE"
	if f := newSTSFactory(func(k string) string { return env[k] }, discardLogger(), newRedactor()); f.endpoint != "" {
		t.Errorf("endpoint %q; want none when ignored", f.endpoint)
	}
	env["AWS_MAX_ATTEMPTS"] = "many"
	env["AWS_RETRY_MODE"] = "eager"
	f = newSTSFactory(func(k string) string { return env[k] }, discardLogger(), newRedactor())
	if _, err := f.client("us-east-1", nil); err == nil ||
		!strings.Contains(err.Error(), "AWS_MAX_ATTEMPTS") || !strings.Contains(err.Error(), "AWS_RETRY_MODE") {
		t.Errorf("client error = %v; want both bad settings reported", err)
	}
}

func TestStepErrorHints(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  *StepError
		want string
	}{
		{&StepError{Code: "AccessDenied", Caller: "arn:aws:sts::1:assumed-role/hub/s"}, "check the role's trust policy allows arn:aws:sts::1:assumed-role/hub/s"},
		{&StepError{Code: "AccessDenied"}, "check the role's trust policy allows the calling principal"},
		{&StepError{Code: "InvalidIdentityToken"}, "check the audience and the OIDC provider/issuer configured in IAM"},
		{&StepError{Code: "ExpiredToken"}, "expired"},
		{&StepError{Code: "ValidationError"}, "at most 1h when chaining roles"},
		{&StepError{Code: "SomethingElse"}, ""},
		{&StepError{Err: context.DeadlineExceeded, Endpoint: "https://sts.x"}, "raise options.timeout"},
		{&StepError{Err: fmt.Errorf("post: %w", fakeNetErr{}), Endpoint: "https://sts.x"}, "check network access to https://sts.x"},
		{&StepError{Err: fmt.Errorf("read: %w", &fs.PathError{Op: "open", Path: "/t", Err: syscall.ENOENT})}, ""},
	} {
		got := tc.err.Hint()
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("Hint(%+v) = %q; want %q", tc.err, got, tc.want)
		}
	}
}

func TestRedactor(t *testing.T) {
	t.Parallel()
	r := newRedactor()
	r.add(NewSecret("supersecretvalue"), NewSecret("ab")) // too short to redact
	in := errors.New("failed with supersecretvalue and eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln and AKIAIOSFODNN7EXAMPLE, ab")
	got := r.wrap(in).Error()
	want := "failed with [redacted] and [redacted] and [redacted], ab"
	if got != want {
		t.Errorf("redacted = %q; want %q", got, want)
	}
	if !errors.Is(r.wrap(in), in) {
		t.Error("redacted error does not unwrap to its cause")
	}
}

// Secrets of the redaction tests, shaped like real ones.
const (
	testSecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testToken     = "IQoJb3JpZ2luX2VjEHYaCXVzLWVhc3QtMSJHMEUCIQDexampleexampleexample0123456789+/abcdefXYZ=="
	testKeyID     = "ASIAEXAMPLEPROC00001"
)

// TestRedactPatterns checks that credential values are redacted even when
// no secret is registered, in the forms errors quote them.
func TestRedactPatterns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{
			"processcreds output",
			`process provider error: parse failed of process output: {"Version":1,"AccessKeyId":"` + testKeyID + `","SecretAccessKey":"` + testSecretKey + `","SessionToken":"` + testToken + `","Expiration":"garbage"}`,
			`process provider error: parse failed of process output: {"Version":1,"AccessKeyId":"[redacted]","SecretAccessKey":"[redacted]","SessionToken":"[redacted]","Expiration":"garbage"}`,
		},
		{
			"escaped JSON",
			`output "{\"secretAccessKey\": \"short-secret\", \"token\":\"opaque-tok\"}"`,
			`output "{\"secretAccessKey\": \"[redacted]\", \"token\":\"[redacted]\"}"`,
		},
		{
			"JSON Token key with escaped slash",
			`{"Token":"abc\/def","Expiration":"x"}`,
			`{"Token":"[redacted]","Expiration":"x"}`,
		},
		{
			"INI form",
			"[p]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key=short/secret\naws_session_token = 'quoted'\nregion = us-east-1",
			"[p]\naws_access_key_id = [redacted]\naws_secret_access_key=[redacted]\naws_session_token = [redacted]\nregion = us-east-1",
		},
		{
			"environment and query string",
			"AWS_SECRET_ACCESS_KEY=s3cr3t AWS_SESSION_TOKEN: tok123 GET /x?token=abc&audience=sts",
			"AWS_SECRET_ACCESS_KEY=[redacted] AWS_SESSION_TOKEN: [redacted] GET /x?token=[redacted]&audience=sts",
		},
		{
			"bare base64 runs",
			"secret " + testSecretKey + ", token (" + testToken + ")",
			"secret [redacted], token ([redacted])",
		},
		{
			"names and ids kept",
			"assume role arn:aws:iam::111111111111:role/OrganizationAccountAccessRoleForProduction2024 as " +
				"arn:aws-us-gov:sts::111111111111:assumed-role/Hub/tfauth-hub (request ID 9f1c2e4a-0b3d-4c5e-8f6a-7b8c9d0e1f2a); " +
				"open /home/Runner/work/Infra2024/terraform/environments/Production/config; " +
				"GET https://sts.us-east-1.amazonaws.com/Some/Long/Path/Segment2024/ABCDEFghijkl; " +
				"commit 0123456789abcdef0123456789abcdef01234567; token file C:\\Users\\Alice\\AppData\\Local\\Temp\\tok; " +
				"the request token is rejected; session token: has characters outside [A-Za-z0-9/+=]",
			"",
		},
	} {
		want := tc.want
		if want == "" {
			want = tc.in
		}
		if got := newRedactor().text(tc.in); got != want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, want)
		}
	}
}

func TestPartitionSTSRegion(t *testing.T) {
	t.Parallel()
	f := newSTSFactory(func(string) string { return "" }, discardLogger(), newRedactor())
	for _, tc := range []struct{ arn, region, endpoint string }{
		{"arn:aws:iam::111111111111:role/a", "us-east-1", "https://sts.us-east-1.amazonaws.com"},
		{"arn:aws-us-gov:iam::111111111111:role/a", "us-gov-west-1", "https://sts.us-gov-west-1.amazonaws.com"},
		{"arn:aws-us-gov:sts::111111111111:assumed-role/a/s", "us-gov-west-1", "https://sts.us-gov-west-1.amazonaws.com"},
		{"arn:aws-cn:iam::111111111111:role/a", "cn-north-1", "https://sts.cn-north-1.amazonaws.com.cn"},
		{"arn:aws-iso:iam::111111111111:role/a", "us-iso-east-1", "https://sts.us-iso-east-1.c2s.ic.gov"},
		{"", "us-east-1", "https://sts.us-east-1.amazonaws.com"},
		{"not an arn", "us-east-1", "https://sts.us-east-1.amazonaws.com"},
	} {
		got := PartitionSTSRegion(tc.arn)
		if got != tc.region {
			t.Errorf("PartitionSTSRegion(%q) = %q; want %q", tc.arn, got, tc.region)
		}
		if e := f.describeEndpoint(got); e != tc.endpoint {
			t.Errorf("describeEndpoint(%q) = %q; want %q", got, e, tc.endpoint)
		}
	}
}

// testCA returns a self-signed CA certificate and its PEM encoding.
func testCA(t *testing.T) (*x509.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "tfauth test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// rootCAs returns the root pool of an STS client's transport.
func rootCAs(t *testing.T, c *sts.Client) *x509.CertPool {
	t.Helper()
	b, ok := c.Options().HTTPClient.(*awshttp.BuildableClient)
	if !ok {
		t.Fatalf("HTTP client is %T; want the SDK's buildable client", c.Options().HTTPClient)
	}
	if tc := b.GetTransport().TLSClientConfig; tc != nil {
		return tc.RootCAs
	}
	return nil
}

// TestSTSCABundle checks that AWS_CA_BUNDLE is trusted by the STS clients,
// read when the first client is made (not before) and only once per
// factory.
func TestSTSCABundle(t *testing.T) {
	t.Parallel()
	ca, caPEM := testCA(t)
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	getenv := func(k string) string {
		if k == "AWS_CA_BUNDLE" {
			return bundle
		}
		return ""
	}
	f := newSTSFactory(getenv, discardLogger(), newRedactor())
	// The bundle appears only after the factory is made: it is read lazily.
	if err := os.WriteFile(bundle, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	c1, err := f.client("us-east-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(bundle); err != nil {
		t.Fatal(err)
	}
	c2, err := f.client("eu-west-1", nil)
	if err != nil {
		t.Fatalf("second client: %v; the bundle was read again", err)
	}
	pool := rootCAs(t, c1)
	if pool == nil {
		t.Fatal("no RootCAs on the STS transport")
	}
	if rootCAs(t, c2) != pool {
		t.Error("the two clients have different root pools; want one built once")
	}
	if _, err := ca.Verify(x509.VerifyOptions{Roots: pool}); err != nil {
		t.Errorf("the bundle's CA is not trusted: %v", err)
	}

	// Without AWS_CA_BUNDLE the system roots apply (no RootCAs); a missing
	// bundle fails every client.
	if c, err := newSTSFactory(func(string) string { return "" }, discardLogger(), newRedactor()).client("us-east-1", nil); err != nil || rootCAs(t, c) != nil {
		t.Errorf("no bundle: client error %v, custom roots %v", err, err == nil && rootCAs(t, c) != nil)
	}
	missing := newSTSFactory(getenv, discardLogger(), newRedactor())
	if _, err := missing.client("us-east-1", nil); err == nil || !strings.Contains(err.Error(), "AWS_CA_BUNDLE") {
		t.Errorf("missing bundle: client error = %v; want one naming AWS_CA_BUNDLE", err)
	}
}
