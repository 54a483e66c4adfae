package awsemu_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tfauth/tfauth/internal/awsemu"
)

func TestWebIdentityThenAssumeRoleChain(t *testing.T) {
	e := startEmu(t, testConfig())
	ctx := context.Background()

	// The SDK's own web identity provider, reading the token from a file.
	tok, err := e.MintToken("sts.amazonaws.com", "")
	if err != nil {
		t.Fatal(err)
	}
	hubProvider := stscreds.NewWebIdentityRoleProvider(stsClient(e, nil), hubRole,
		staticToken(tok), func(o *stscreds.WebIdentityRoleOptions) { o.RoleSessionName = "gha" })
	hubCreds := aws.NewCredentialsCache(hubProvider)

	spokeProvider := stscreds.NewAssumeRoleProvider(stsClient(e, hubCreds), spokeRole,
		func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = "chained" })
	spokeCreds := aws.NewCredentialsCache(spokeProvider)

	id, err := stsClient(e, spokeCreds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if got, want := aws.ToString(id.Arn), "arn:aws:sts::222222222222:assumed-role/spoke/chained"; got != want {
		t.Errorf("Arn = %q; want %q", got, want)
	}
	if got, want := aws.ToString(id.Account), "222222222222"; got != want {
		t.Errorf("Account = %q; want %q", got, want)
	}
	if !strings.HasPrefix(aws.ToString(id.UserId), "AROA") || !strings.HasSuffix(aws.ToString(id.UserId), ":chained") {
		t.Errorf("UserId = %q; want AROA…:chained", aws.ToString(id.UserId))
	}
	c, err := spokeCreds.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.AccessKeyID, "ASIA") || len(c.AccessKeyID) != 20 || len(c.SecretAccessKey) != 40 || len(c.SessionToken) < 200 {
		t.Errorf("credential shapes: key %d chars, secret %d, token %d", len(c.AccessKeyID), len(c.SecretAccessKey), len(c.SessionToken))
	}
	if d := time.Until(c.Expires); d < 14*time.Minute || d > 16*time.Minute {
		t.Errorf("expiry in %v; want ~15m (the provider's default duration)", d)
	}

	want := []awsemu.Call{
		{Action: "AssumeRoleWithWebIdentity", RoleARN: hubRole},
		{Action: "AssumeRole", RoleARN: spokeRole, CallerARN: "arn:aws:sts::111111111111:assumed-role/hub/gha"},
		{Action: "GetCallerIdentity", CallerARN: "arn:aws:sts::222222222222:assumed-role/spoke/chained"},
	}
	if diff := cmp.Diff(want, e.Calls(), cmpopts.IgnoreFields(awsemu.Call{}, "Time")); diff != "" {
		t.Errorf("Calls() mismatch (-want +got):\n%s", diff)
	}
	secrets := strings.Join(e.Secrets(), "\n")
	for _, s := range []string{tok, c.AccessKeyID, c.SecretAccessKey, c.SessionToken, e.OIDCRequestToken()} {
		if !strings.Contains(secrets, s) {
			t.Errorf("Secrets() lacks an issued secret of %d chars", len(s))
		}
	}
}

type staticToken string

func (s staticToken) GetIdentityToken() ([]byte, error) { return []byte(s), nil }

func TestSignatureVerification(t *testing.T) {
	e := startEmu(t, testConfig())
	hub := webIdentity(t, e, hubRole, "gha").Credentials
	expiring := webIdentity(t, e, hubRole, "soon").Credentials
	if !e.ExpireSession(*expiring.AccessKeyId) {
		t.Fatal("ExpireSession: session not found")
	}
	tamper := func(s string) string { return s[:len(s)-1] + string("AB"[boolInt(s[len(s)-1] == 'A')]) }

	tests := []struct {
		name       string
		creds      aws.CredentialsProvider
		wantCode   string
		wantStatus int
		wantARN    string
	}{
		{"static user", userCreds(), "", 200, ciUser},
		{"role session", static(hub), "", 200, "arn:aws:sts::111111111111:assumed-role/hub/gha"},
		{"tampered session secret", credentials.NewStaticCredentialsProvider(*hub.AccessKeyId, tamper(*hub.SecretAccessKey), *hub.SessionToken), "SignatureDoesNotMatch", 403, ""},
		{"tampered user secret", credentials.NewStaticCredentialsProvider(ciKeyID, tamper(ciSecret), ""), "SignatureDoesNotMatch", 403, ""},
		{"session token mismatch", credentials.NewStaticCredentialsProvider(*hub.AccessKeyId, *hub.SecretAccessKey, tamper(*hub.SessionToken)), "InvalidClientTokenId", 403, ""},
		{"session token missing", credentials.NewStaticCredentialsProvider(*hub.AccessKeyId, *hub.SecretAccessKey, ""), "InvalidClientTokenId", 403, ""},
		{"another session's token", credentials.NewStaticCredentialsProvider(*hub.AccessKeyId, *hub.SecretAccessKey, *expiring.SessionToken), "InvalidClientTokenId", 403, ""},
		{"token on a static key", credentials.NewStaticCredentialsProvider(ciKeyID, ciSecret, *hub.SessionToken), "InvalidClientTokenId", 403, ""},
		{"unknown key", credentials.NewStaticCredentialsProvider("ASIAUNKNOWNUNKNOWN1", ciSecret, "x"), "InvalidClientTokenId", 403, ""},
		{"expired session", static(expiring), "ExpiredToken", 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := stsClient(e, tt.creds).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			code, status := apiError(t, err)
			if code != tt.wantCode || (err != nil && status != tt.wantStatus) {
				t.Fatalf("GetCallerIdentity error = %q (HTTP %d); want %q (HTTP %d); err: %v", code, status, tt.wantCode, tt.wantStatus, err)
			}
			if err == nil && aws.ToString(out.Arn) != tt.wantARN {
				t.Errorf("Arn = %q; want %q", aws.ToString(out.Arn), tt.wantARN)
			}
			// Error messages must not carry secrets.
			if err != nil {
				for _, s := range e.Secrets() {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error message leaks a secret: %v", err)
					}
				}
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestAssumeRoleRules(t *testing.T) {
	e := startEmu(t, testConfig())
	hub := static(webIdentity(t, e, hubRole, "gha").Credentials)
	e.DenyRole(anyRole)
	e.DenyRole(anyRole) // idempotent
	e.AllowRole(anyRole)
	unknownRole := "arn:aws:iam::222222222222:role/unknown"

	tests := []struct {
		name     string
		creds    aws.CredentialsProvider
		in       sts.AssumeRoleInput
		wantCode string
		wantARN  string
	}{
		{"trusted role session", hub, sts.AssumeRoleInput{RoleArn: aws.String(spokeRole)}, "", "arn:aws:sts::222222222222:assumed-role/spoke/s1"},
		{"untrusted user", userCreds(), sts.AssumeRoleInput{RoleArn: aws.String(spokeRole)}, "AccessDenied", ""},
		{"trusted user", userCreds(), sts.AssumeRoleInput{RoleArn: aws.String(userRole)}, "", "arn:aws:sts::333333333333:assumed-role/from-user/s1"},
		{"untrusted role session", hub, sts.AssumeRoleInput{RoleArn: aws.String(userRole)}, "AccessDenied", ""},
		{"wildcard trust, role path", hub, sts.AssumeRoleInput{RoleArn: aws.String(anyRole)}, "", "arn:aws:sts::444444444444:assumed-role/any/s1"},
		{"account root trust", userCreds(), sts.AssumeRoleInput{RoleArn: aws.String(acctRole)}, "", "arn:aws:sts::999999999999:assumed-role/account-trust/s1"},
		{"account root trust, other account", hub, sts.AssumeRoleInput{RoleArn: aws.String(acctRole)}, "AccessDenied", ""},
		{"unknown role", hub, sts.AssumeRoleInput{RoleArn: aws.String(unknownRole)}, "AccessDenied", ""},
		{"external id missing", hub, sts.AssumeRoleInput{RoleArn: aws.String(extRole)}, "AccessDenied", ""},
		{"external id wrong", hub, sts.AssumeRoleInput{RoleArn: aws.String(extRole), ExternalId: aws.String("nope")}, "AccessDenied", ""},
		{"external id right", hub, sts.AssumeRoleInput{RoleArn: aws.String(extRole), ExternalId: aws.String("ext-123")}, "", "arn:aws:sts::222222222222:assumed-role/ext/s1"},
		{"duration below 900", userCreds(), sts.AssumeRoleInput{RoleArn: aws.String(userRole), DurationSeconds: aws.Int32(899)}, "ValidationError", ""},
		{"duration up to role max", userCreds(), sts.AssumeRoleInput{RoleArn: aws.String(userRole), DurationSeconds: aws.Int32(4 * 3600)}, "", "arn:aws:sts::333333333333:assumed-role/from-user/s1"},
		{"duration above role max", userCreds(), sts.AssumeRoleInput{RoleArn: aws.String(userRole), DurationSeconds: aws.Int32(4*3600 + 1)}, "ValidationError", ""},
		{"chained duration above 1h", hub, sts.AssumeRoleInput{RoleArn: aws.String(anyRole), DurationSeconds: aws.Int32(3601)}, "ValidationError", ""},
		{"unchained duration above 1h", userCreds(), sts.AssumeRoleInput{RoleArn: aws.String(anyRole), DurationSeconds: aws.Int32(7200)}, "", "arn:aws:sts::444444444444:assumed-role/any/s1"},
		{"session name too short", hub, sts.AssumeRoleInput{RoleArn: aws.String(spokeRole), RoleSessionName: aws.String("a")}, "ValidationError", ""},
		{"session name bad chars", hub, sts.AssumeRoleInput{RoleArn: aws.String(spokeRole), RoleSessionName: aws.String("has space")}, "ValidationError", ""},
		{"session name too long", hub, sts.AssumeRoleInput{RoleArn: aws.String(spokeRole), RoleSessionName: aws.String(strings.Repeat("x", 65))}, "ValidationError", ""},
		{"session name all allowed chars", hub, sts.AssumeRoleInput{RoleArn: aws.String(spokeRole), RoleSessionName: aws.String("a_Z9+=,.@-")}, "", "arn:aws:sts::222222222222:assumed-role/spoke/a_Z9+=,.@-"},
		{"source identity bad", hub, sts.AssumeRoleInput{RoleArn: aws.String(spokeRole), SourceIdentity: aws.String("aws:me")}, "ValidationError", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if in.RoleSessionName == nil {
				in.RoleSessionName = aws.String("s1")
			}
			out, err := stsClient(e, tt.creds).AssumeRole(context.Background(), &in)
			code, status := apiError(t, err)
			if code != tt.wantCode {
				t.Fatalf("AssumeRole error = %q; want %q; err: %v", code, tt.wantCode, err)
			}
			if wantStatus := map[string]int{"AccessDenied": 403, "ValidationError": 400}[code]; status != wantStatus {
				t.Errorf("HTTP status = %d; want %d", status, wantStatus)
			}
			if err != nil {
				return
			}
			if got := aws.ToString(out.AssumedRoleUser.Arn); got != tt.wantARN {
				t.Errorf("AssumedRoleUser.Arn = %q; want %q", got, tt.wantARN)
			}
			id, err := stsClient(e, static(out.Credentials)).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatalf("GetCallerIdentity with issued credentials: %v", err)
			}
			if got := aws.ToString(id.Arn); got != tt.wantARN {
				t.Errorf("GetCallerIdentity Arn = %q; want %q", got, tt.wantARN)
			}
			if tt.in.DurationSeconds != nil {
				want := time.Duration(*tt.in.DurationSeconds) * time.Second
				if d := time.Until(*out.Credentials.Expiration); d > want || d < want-time.Minute {
					t.Errorf("expires in %v; want %v", d, want)
				}
			}
		})
	}
}

func TestSourceIdentityPropagates(t *testing.T) {
	e := startEmu(t, testConfig())
	ctx := context.Background()
	out, err := stsClient(e, userCreds()).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(anyRole), RoleSessionName: aws.String("s0"), SourceIdentity: aws.String("alice@example.com"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.SourceIdentity); got != "alice@example.com" {
		t.Errorf("SourceIdentity = %q; want it echoed", got)
	}
	// A chained session keeps it, and may not change it.
	out2, err := stsClient(e, static(out.Credentials)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(anyRole), RoleSessionName: aws.String("s2")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out2.SourceIdentity); got != "alice@example.com" {
		t.Errorf("chained SourceIdentity = %q; want inherited", got)
	}
	_, err = stsClient(e, static(out.Credentials)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(anyRole), RoleSessionName: aws.String("s3"), SourceIdentity: aws.String("mallory")})
	if code, _ := apiError(t, err); code != "AccessDenied" {
		t.Errorf("changing SourceIdentity: error %q; want AccessDenied", code)
	}
}

func TestDenyRole(t *testing.T) {
	e := startEmu(t, testConfig())
	ctx := context.Background()
	hub := static(webIdentity(t, e, hubRole, "gha").Credentials)
	e.DenyRole(spokeRole)
	_, err := stsClient(e, hub).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(spokeRole), RoleSessionName: aws.String("s0")})
	if code, status := apiError(t, err); code != "AccessDenied" || status != 403 {
		t.Errorf("AssumeRole of denied role: %q HTTP %d; want AccessDenied 403", code, status)
	}
	e.DenyRole(hubRole)
	tok, _ := e.MintToken("sts.amazonaws.com", "")
	_, err = stsClient(e, nil).AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(hubRole), RoleSessionName: aws.String("s0"), WebIdentityToken: aws.String(tok)})
	if code, status := apiError(t, err); code != "AccessDenied" || status != 403 {
		t.Errorf("AssumeRoleWithWebIdentity of denied role: %q HTTP %d; want AccessDenied 403", code, status)
	}
	// Already issued credentials keep working: only assuming is denied.
	if _, err := stsClient(e, hub).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("GetCallerIdentity with a denied role's existing session: %v", err)
	}
	e.AllowRole(spokeRole)
	if _, err := stsClient(e, hub).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(spokeRole), RoleSessionName: aws.String("s0")}); err != nil {
		t.Errorf("AssumeRole after AllowRole: %v", err)
	}
}

func TestWebIdentityTokenChecks(t *testing.T) {
	e := startEmu(t, testConfig())
	other := startEmu(t, testConfig()) // a different issuer and key
	good, _ := e.MintToken("sts.amazonaws.com", "")
	wrongAud, _ := e.MintToken("not-sts", "")
	wrongSub, _ := e.MintToken("sts.amazonaws.com", "repo:evil/infra:ref:refs/heads/main")
	foreign, _ := other.MintToken("sts.amazonaws.com", "")
	customAud, _ := e.MintToken("custom-aud", "repo:other/x")
	parts := strings.Split(good, ".")
	// Same header and payload, signature of another token.
	badSig := parts[0] + "." + parts[1] + "." + strings.Split(wrongAud, ".")[2]

	tests := []struct {
		name, role, token, wantCode string
	}{
		{"good", hubRole, good, ""},
		{"bad signature", hubRole, badSig, "InvalidIdentityToken"},
		{"other issuer", hubRole, foreign, "InvalidIdentityToken"},
		{"wrong audience", hubRole, wrongAud, "InvalidIdentityToken"},
		{"wrong subject", hubRole, wrongSub, "AccessDenied"},
		{"garbage", hubRole, "not.a.jwt", "InvalidIdentityToken"},
		{"role does not trust web identity", spokeRole, good, "AccessDenied"},
		{"custom audience and subject", oidcOnly, customAud, ""},
		{"custom role rejects default audience", oidcOnly, good, "InvalidIdentityToken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := stsClient(e, nil).AssumeRoleWithWebIdentity(context.Background(), &sts.AssumeRoleWithWebIdentityInput{
				RoleArn: aws.String(tt.role), RoleSessionName: aws.String("gha"), WebIdentityToken: aws.String(tt.token)})
			code, status := apiError(t, err)
			if code != tt.wantCode {
				t.Fatalf("error = %q; want %q; err: %v", code, tt.wantCode, err)
			}
			if code == "InvalidIdentityToken" && status != 400 {
				t.Errorf("HTTP status = %d; want 400", status)
			}
			if err == nil && !strings.HasSuffix(aws.ToString(out.AssumedRoleUser.Arn), "/gha") {
				t.Errorf("Arn = %q", aws.ToString(out.AssumedRoleUser.Arn))
			}
			if err != nil && strings.Contains(err.Error(), tt.token) {
				t.Errorf("error echoes the token")
			}
		})
	}
}

func TestThrottle(t *testing.T) {
	tests := []struct {
		name      string
		throttle  int
		wantErr   string
		wantCodes []string
	}{
		{"retryer recovers", 1, "", []string{"Throttling", ""}},
		{"retries exhausted", 5, "Throttling", []string{"Throttling", "Throttling", "Throttling"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startEmu(t, testConfig())
			e.Throttle(tt.throttle)
			_, err := stsClient(e, userCreds()).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			if code, _ := apiError(t, err); code != tt.wantErr {
				t.Fatalf("error = %q; want %q", code, tt.wantErr)
			}
			var codes []string
			for _, c := range e.Calls() {
				codes = append(codes, c.ErrorCode)
			}
			if diff := cmp.Diff(tt.wantCodes, codes); diff != "" {
				t.Errorf("recorded error codes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	// A latency far above any scheduling delay of a loaded machine, so that
	// the call after SetLatency(0) is told apart from one that still pays it.
	const latency = 2 * time.Second
	e := startEmu(t, testConfig())
	e.SetLatency(latency)
	start := time.Now()
	if _, err := stsClient(e, userCreds()).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < latency {
		t.Errorf("call took %v; want at least the %v latency", d, latency)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := stsClient(e, userCreds()).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("with a 100ms deadline: %v; want DeadlineExceeded", err)
	}
	e.SetLatency(0)
	start = time.Now()
	if _, err := stsClient(e, userCreds()).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d >= latency/2 {
		t.Errorf("call took %v after SetLatency(0); want well under the %v latency removed", d, latency)
	}
}

// TestMaxInFlight checks the count of STS requests served at once: n
// requests held open by the latency count n, requests one after another
// count 1, and ResetInFlight starts again from the requests being served.
func TestMaxInFlight(t *testing.T) {
	t.Parallel()
	e := startEmu(t, testConfig())
	if got := e.MaxInFlight(); got != 0 {
		t.Fatalf("MaxInFlight() = %d before any request; want 0", got)
	}
	call := func() error {
		_, err := stsClient(e, userCreds()).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		return err
	}
	concurrently := func(n int) {
		t.Helper()
		errs := make(chan error, n)
		for range n {
			go func() { errs <- call() }()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
	}

	// A latency far longer than it takes to start the requests on a
	// loaded machine: all of them are served at the same time.
	e.SetLatency(time.Second)
	const n = 5
	concurrently(n)
	if got := e.MaxInFlight(); got != n {
		t.Errorf("MaxInFlight() = %d after %d concurrent requests; want %d", got, n, n)
	}

	// Failed requests count as well: they are served like any other.
	e.ResetInFlight()
	e.Throttle(3)
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			_, err := stsClient(e, userCreds()).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{},
				func(o *sts.Options) { o.RetryMaxAttempts = 1 })
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err == nil {
			t.Error("a throttled request succeeded")
		}
	}
	if got := e.MaxInFlight(); got != 3 {
		t.Errorf("MaxInFlight() = %d after 3 concurrent throttled requests; want 3", got)
	}

	// Idle: a reset starts from 0, and requests in sequence never overlap,
	// even though each next one starts as soon as the reply is read.
	e.ResetInFlight()
	if got := e.MaxInFlight(); got != 0 {
		t.Errorf("MaxInFlight() = %d after a reset while idle; want 0", got)
	}
	e.SetLatency(0)
	for range 20 {
		if err := call(); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.MaxInFlight(); got != 1 {
		t.Errorf("MaxInFlight() = %d after requests in sequence; want 1", got)
	}

	// A reset while requests are served starts from those.
	e.ResetInFlight()
	e.SetLatency(time.Second)
	done := make(chan error, 2)
	for range 2 {
		go func() { done <- call() }()
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.MaxInFlight() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	e.ResetInFlight()
	if got := e.MaxInFlight(); got != 2 {
		t.Errorf("MaxInFlight() = %d after a reset with 2 requests being served; want 2", got)
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	e.ResetInFlight()
	if got := e.MaxInFlight(); got != 0 {
		t.Errorf("MaxInFlight() = %d after a reset once they ended; want 0", got)
	}
}

// TestConcurrentUse runs with -race: many identities authenticate at once
// while faults are toggled.
func TestConcurrentUse(t *testing.T) {
	e := startEmu(t, testConfig())
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.SetLatency(time.Duration(i%3) * time.Millisecond)
			e.DenyRole(extRole)
			_ = e.Secrets()
			tok, err := e.MintToken("sts.amazonaws.com", "")
			if err != nil {
				errs <- err
				return
			}
			ctx := context.Background()
			hub, err := stsClient(e, nil).AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
				RoleArn: aws.String(hubRole), RoleSessionName: aws.String(fmt.Sprintf("w%d", i)), WebIdentityToken: aws.String(tok)})
			if err != nil {
				errs <- err
				return
			}
			id, err := stsClient(e, static(hub.Credentials)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				errs <- err
				return
			}
			if want := fmt.Sprintf("arn:aws:sts::111111111111:assumed-role/hub/w%d", i); aws.ToString(id.Arn) != want {
				errs <- fmt.Errorf("Arn = %q; want %q", aws.ToString(id.Arn), want)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(e.Calls()); got != 32 {
		t.Errorf("%d calls recorded; want 32", got)
	}
}

func TestStartRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  awsemu.Config
		want string
	}{
		{"role ARN", awsemu.Config{Roles: []awsemu.Role{{ARN: "arn:aws:iam::1:role/x"}}}, "not a role ARN"},
		{"user ARN as role", awsemu.Config{Roles: []awsemu.Role{{ARN: ciUser}}}, "not a role ARN"},
		{"duplicate role", awsemu.Config{Roles: []awsemu.Role{{ARN: hubRole}, {ARN: hubRole}}}, "defined twice"},
		{"user without keys", awsemu.Config{Users: []awsemu.User{{ARN: ciUser}}}, "required"},
		{"max duration", awsemu.Config{Roles: []awsemu.Role{{ARN: hubRole, MaxSessionDuration: 13 * time.Hour}}}, "between 1h and 12h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := awsemu.Start(tt.cfg)
			if err == nil {
				e.Close()
				t.Fatal("Start succeeded; want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q; want it to contain %q", err, tt.want)
			}
		})
	}
}
