package authflow_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tfauth/tfauth/authflow"
	"github.com/tfauth/tfauth/internal/awsemu"
)

const (
	hubARN   = "arn:aws:iam::111111111111:role/hub"
	userARN  = "arn:aws:iam::111111111111:user/alice"
	userKey  = "AKIAALICEEXAMPLE0001"
	userSec  = "aliceSecretKey0000000000000000000000000/+="
	repoGlob = "repo:example/infra:*"
)

func spokeARN(name string) string { return "arn:aws:iam::222222222222:role/" + name }

// emuConfig trusts the emulator's OIDC subject on the hub and the spokes
// named, trusts the hub and alice on the spokes, and knows user alice.
func emuConfig(spokes ...string) awsemu.Config {
	cfg := awsemu.Config{
		Roles: []awsemu.Role{{ARN: hubARN, TrustOIDCSubjects: []string{repoGlob}, TrustPrincipals: []string{userARN}}},
		Users: []awsemu.User{{ARN: userARN, AccessKeyID: userKey, SecretAccessKey: userSec}},
	}
	for _, s := range spokes {
		cfg.Roles = append(cfg.Roles, awsemu.Role{
			ARN:               spokeARN(s),
			TrustPrincipals:   []string{hubARN, userARN},
			TrustOIDCSubjects: []string{repoGlob},
		})
	}
	return cfg
}

func startEmu(t testing.TB, cfg awsemu.Config) *awsemu.Emulator {
	t.Helper()
	e, err := awsemu.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

// env is a test environment: the emulator's, plus extras.
type env map[string]string

func emuEnv(e *awsemu.Emulator, extra ...string) env {
	m := env{}
	for k, v := range e.Env() {
		m[k] = v
	}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

func (m env) get(k string) string { return m[k] }

// config builds an authflow.Config from providers and identities.
func config(items ...any) *authflow.Config {
	cfg := &authflow.Config{Providers: map[string]*authflow.Provider{}, Identities: map[string]*authflow.Identity{}}
	for _, it := range items {
		switch v := it.(type) {
		case *authflow.Provider:
			cfg.Providers[v.Name] = v
		case *authflow.Identity:
			cfg.Identities[v.Name] = v
		}
	}
	return cfg
}

func ghProvider() *authflow.Provider {
	return &authflow.Provider{Name: "gh", Kind: authflow.KindGitHubOIDC, Region: "us-east-1"}
}

func viaProvider(name, prov, role string, required bool) *authflow.Identity {
	return &authflow.Identity{Name: name, Kind: authflow.KindAssumeRole, ViaProvider: prov, Required: required,
		Principal: authflow.Principal{AssumeRole: role}}
}

func viaIdentity(name, parent, role string, required bool) *authflow.Identity {
	return &authflow.Identity{Name: name, Kind: authflow.KindAssumeRole, ViaIdentity: parent, Required: required,
		Principal: authflow.Principal{AssumeRole: role}}
}

func plan(t testing.TB, cfg *authflow.Config, primary string) *authflow.Graph {
	t.Helper()
	g, err := authflow.Plan(cfg, primary)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// countingClient counts OIDC token requests.
type countingClient struct {
	n atomic.Int32
}

func (c *countingClient) client() *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		c.n.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// logBuffer collects debug log output for secret checks.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func opts(m env) authflow.RunOptions {
	return authflow.RunOptions{Getenv: m.get, Timeout: 20 * time.Second}
}

// calls counts the emulator's calls by action and by role.
func calls(e *awsemu.Emulator) map[string]int {
	n := map[string]int{}
	for _, c := range e.Calls() {
		n[c.Action]++
		n[c.Action+" "+c.RoleARN]++
		if c.ErrorCode != "" {
			n["error "+c.ErrorCode]++
		}
	}
	return n
}

// assertNoSecrets fails if any of the emulator's secrets appears in texts.
func assertNoSecrets(t *testing.T, e *awsemu.Emulator, texts ...string) {
	t.Helper()
	secrets := append(e.Secrets(), userKey)
	for _, text := range texts {
		for _, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("secret %.6s… leaked in %q", s, text)
			}
		}
	}
}

func TestRunOIDCThreeSpokes(t *testing.T) {
	t.Parallel()
	e := startEmu(t, emuConfig("a", "b", "c"))
	cfg := config(ghProvider(),
		viaProvider("a", "gh", spokeARN("a"), false),
		viaProvider("b", "gh", spokeARN("b"), true),
		viaProvider("c", "gh", spokeARN("c"), true),
	)
	var cc countingClient
	var logs logBuffer
	o := opts(emuEnv(e))
	o.HTTPClient = cc.client()
	o.Logger = logs.logger()
	res, err := authflow.Run(t.Context(), plan(t, cfg, "a"), o)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, res.Order); diff != "" {
		t.Errorf("Order (-want +got):\n%s", diff)
	}
	if len(res.Failures) != 0 {
		t.Errorf("Failures = %v", res.Failures)
	}
	if got := cc.n.Load(); got != 1 {
		t.Errorf("OIDC token requests = %d; want 1 (one provider step)", got)
	}
	n := calls(e)
	for _, s := range []string{"a", "b", "c"} {
		if got := n["AssumeRoleWithWebIdentity "+spokeARN(s)]; got != 1 {
			t.Errorf("AssumeRoleWithWebIdentity %s: %d calls; want 1", s, got)
		}
		c := res.Profiles[s]
		if want := "arn:aws:sts::222222222222:assumed-role/" + s + "/tfauth-" + s; c.ARN != want {
			t.Errorf("%s: ARN = %q; want %q", s, c.ARN, want)
		}
		if c.Region != "us-east-1" || c.Expiration.IsZero() || c.SessionToken.Empty() {
			t.Errorf("%s: region %q, expiration %v, token empty %v", s, c.Region, c.Expiration, c.SessionToken.Empty())
		}
	}
	if len(e.Calls()) != 3 {
		t.Errorf("STS calls = %d; want 3", len(e.Calls()))
	}
	if !strings.Contains(logs.String(), "assume role with web identity") {
		t.Errorf("no debug line per step in logs:\n%s", logs.String())
	}
	assertNoSecrets(t, e, logs.String(), fmt.Sprintf("%v %+v %#v", res, res.Profiles, res.Profiles["a"]))
}

// stsRequest is an STS request seen by stsRecorder.
type stsRequest struct {
	// Form is the request's form (Action, RoleArn, DurationSeconds...).
	Form url.Values
	// Scope is the SigV4 credential scope's region, "" when unsigned.
	Region string
}

// stsRecorder is a proxy in front of the emulator's STS that records what
// tfauth sends: point AWS_ENDPOINT_URL_STS at URL.
type stsRecorder struct {
	URL  string
	mu   sync.Mutex
	reqs []stsRequest
}

func newSTSRecorder(t *testing.T, e *awsemu.Emulator) *stsRecorder {
	t.Helper()
	target, err := url.Parse(e.STSURL())
	if err != nil {
		t.Fatal(err)
	}
	rec := &stsRecorder{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		req := stsRequest{Form: form}
		// Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/sts/aws4_request, ...
		if _, cred, ok := strings.Cut(r.Header.Get("Authorization"), "Credential="); ok {
			if parts := strings.Split(cred, "/"); len(parts) > 2 {
				req.Region = parts[2]
			}
		}
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, req)
		rec.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	rec.URL = srv.URL
	return rec
}

// requests returns the requests recorded so far.
func (rec *stsRecorder) requests() []stsRequest {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]stsRequest(nil), rec.reqs...)
}

// TestRunSTSRegionByPartition checks that, with no region configured, a
// GovCloud or China role is assumed through its partition's STS region,
// not us-east-1.
func TestRunSTSRegionByPartition(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ partition, region string }{
		{"aws", "us-east-1"},
		{"aws-us-gov", "us-gov-west-1"},
		{"aws-cn", "cn-north-1"},
	} {
		t.Run(tc.partition, func(t *testing.T) {
			t.Parallel()
			hub := "arn:" + tc.partition + ":iam::111111111111:role/hub"
			spoke := "arn:" + tc.partition + ":iam::222222222222:role/spoke"
			e := startEmu(t, awsemu.Config{Roles: []awsemu.Role{
				{ARN: hub, TrustOIDCSubjects: []string{repoGlob}},
				{ARN: spoke, TrustPrincipals: []string{"arn:aws:iam::111111111111:root"}},
			}})
			rec := newSTSRecorder(t, e)
			var logs logBuffer
			o := opts(emuEnv(e, "AWS_ENDPOINT_URL_STS", rec.URL))
			o.Logger = logs.logger()
			cfg := config(&authflow.Provider{Name: "gh", Kind: authflow.KindGitHubOIDC}, // no region
				viaProvider("hub", "gh", hub, false),
				viaIdentity("spoke", "hub", spoke, false))
			res, err := authflow.Run(t.Context(), plan(t, cfg, "spoke"), o)
			if err != nil {
				t.Fatal(err)
			}
			reqs := rec.requests()
			if len(reqs) != 2 || reqs[0].Form.Get("Action") != "AssumeRoleWithWebIdentity" || reqs[1].Form.Get("Action") != "AssumeRole" {
				t.Fatalf("requests = %+v; want web identity then AssumeRole", reqs)
			}
			if reqs[1].Region != tc.region {
				t.Errorf("AssumeRole signed for region %q; want %q", reqs[1].Region, tc.region)
			}
			if want := "region=" + tc.region; strings.Count(logs.String(), want) < 2 {
				t.Errorf("logs do not show both steps calling %s:\n%s", want, logs.String())
			}
			if r := res.Profiles["spoke"].Region; r != "" {
				t.Errorf("profile region = %q; want none (nothing configured)", r)
			}
		})
	}
}

// TestRunChainedDurationFromSession checks a 2h role chained from aws/user
// credentials: long-term keys get 2h, session credentials (which AWS caps
// at 1h when chaining) get 1h instead of a ValidationError.
func TestRunChainedDurationFromSession(t *testing.T) {
	t.Parallel()
	const long = "arn:aws:iam::222222222222:role/long"
	cfgEmu := emuConfig()
	cfgEmu.Roles = append(cfgEmu.Roles, awsemu.Role{ARN: long, TrustPrincipals: []string{hubARN, userARN}, MaxSessionDuration: 12 * time.Hour})
	e := startEmu(t, cfgEmu)
	rec := newSTSRecorder(t, e)

	// A session of the hub role, as a CI job's ambient credentials would be.
	hubRes, err := authflow.Run(t.Context(), plan(t, config(ghProvider(), viaProvider("hub", "gh", hubARN, false)), "hub"), opts(emuEnv(e)))
	if err != nil {
		t.Fatal(err)
	}
	hub := hubRes.Profiles["hub"]

	for _, tc := range []struct {
		name     string
		env      []string
		duration string
		lasts    time.Duration
	}{
		{"long-term keys", []string{"AWS_ACCESS_KEY_ID", userKey, "AWS_SECRET_ACCESS_KEY", userSec}, "7200", 2 * time.Hour},
		{"session", []string{"AWS_ACCESS_KEY_ID", hub.AccessKeyID.Reveal(), "AWS_SECRET_ACCESS_KEY", hub.SecretAccessKey.Reveal(),
			"AWS_SESSION_TOKEN", hub.SessionToken.Reveal()}, "3600", time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(rec.requests())
			spoke := viaIdentity("long", "me", long, false)
			spoke.Principal.Duration = 2 * time.Hour
			cfg := config(&authflow.Identity{Name: "me", Kind: authflow.KindUser}, spoke)
			var logs logBuffer
			o := opts(emuEnv(e, append([]string{"AWS_ENDPOINT_URL_STS", rec.URL}, tc.env...)...))
			o.Logger = logs.logger()
			start := time.Now()
			res, err := authflow.Run(t.Context(), plan(t, cfg, "long"), o)
			if err != nil {
				t.Fatal(err)
			}
			reqs := rec.requests()[before:]
			if len(reqs) != 1 || reqs[0].Form.Get("DurationSeconds") != tc.duration {
				t.Errorf("requests = %+v; want one AssumeRole with DurationSeconds %s", reqs, tc.duration)
			}
			if got := res.Profiles["long"].Expiration.Sub(start); got < tc.lasts-time.Minute || got > tc.lasts+time.Minute {
				t.Errorf("session lasts %v; want %v", got, tc.lasts)
			}
			if lowered := strings.Contains(logs.String(), "lowering the session duration to 1h"); lowered != (tc.lasts == time.Hour) {
				t.Errorf("debug line about lowering the duration present = %v:\n%s", lowered, logs.String())
			}
		})
	}
}

func TestRunChainSignedByHub(t *testing.T) {
	t.Parallel()
	e := startEmu(t, emuConfig("s1", "s2"))
	cfg := config(ghProvider(),
		viaProvider("hub", "gh", hubARN, false),
		viaIdentity("s1", "hub", spokeARN("s1"), true),
		viaIdentity("s2", "hub", spokeARN("s2"), true),
	)
	res, err := authflow.Run(t.Context(), plan(t, cfg, "s1"), opts(emuEnv(e)))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"s1", "s2"}, res.Order); diff != "" {
		t.Errorf("Order (-want +got):\n%s", diff)
	}
	if _, ok := res.Profiles["hub"]; ok {
		t.Error("the intermediate hub (not a target) got a profile")
	}
	hubSession := "arn:aws:sts::111111111111:assumed-role/hub/tfauth-hub"
	n := 0
	for _, c := range e.Calls() {
		switch c.Action {
		case "AssumeRoleWithWebIdentity":
			n++
			if c.RoleARN != hubARN {
				t.Errorf("web identity call for %s; want only the hub", c.RoleARN)
			}
		case "AssumeRole":
			if c.CallerARN != hubSession {
				t.Errorf("AssumeRole %s signed by %q; want %q", c.RoleARN, c.CallerARN, hubSession)
			}
		}
	}
	if n != 1 {
		t.Errorf("hub assumed %d times; want once", n)
	}
	if got := calls(e)["AssumeRole"]; got != 2 {
		t.Errorf("AssumeRole calls = %d; want 2", got)
	}
}

func TestRunSecondaryDeniedOnlyItFails(t *testing.T) {
	t.Parallel()
	e := startEmu(t, emuConfig("ok", "bad"))
	e.DenyRole(spokeARN("bad"))
	cfg := config(ghProvider(),
		viaProvider("hub", "gh", hubARN, true),
		viaIdentity("ok", "hub", spokeARN("ok"), true),
		viaIdentity("bad", "hub", spokeARN("bad"), true),
	)
	res, err := authflow.Run(t.Context(), plan(t, cfg, "hub"), opts(emuEnv(e)))
	if err != nil {
		t.Fatalf("Run: %v; want success, the primary is fine", err)
	}
	if diff := cmp.Diff([]string{"hub", "ok"}, res.Order); diff != "" {
		t.Errorf("Order (-want +got):\n%s", diff)
	}
	var se *authflow.StepError
	if !errors.As(res.Failures["bad"], &se) || se.Code != "AccessDenied" || se.Step != spokeARN("bad") {
		t.Fatalf("Failures[bad] = %#v; want a StepError AccessDenied on the spoke", res.Failures["bad"])
	}
	if want := "arn:aws:sts::111111111111:assumed-role/hub/tfauth-hub"; se.Caller != want ||
		!strings.Contains(se.Error(), "check the role's trust policy allows "+want) {
		t.Errorf("error %q does not name the calling principal %s", se.Error(), want)
	}
	if calls(e)["error AccessDenied"] != 1 {
		t.Errorf("AccessDenied was retried: %v", e.Calls())
	}
	if len(res.Failures) != 1 {
		t.Errorf("Failures = %v; want only bad", res.Failures)
	}
}

func TestRunPrimaryDenied(t *testing.T) {
	t.Parallel()
	e := startEmu(t, emuConfig("prod", "dev"))
	e.DenyRole(spokeARN("prod"))
	cfg := config(ghProvider(),
		viaProvider("prod", "gh", spokeARN("prod"), false),
		viaProvider("dev", "gh", spokeARN("dev"), true),
	)
	res, err := authflow.Run(t.Context(), plan(t, cfg, "prod"), opts(emuEnv(e)))
	var se *authflow.StepError
	if !errors.As(err, &se) {
		t.Fatalf("Run error = %v; want a *StepError", err)
	}
	if se.Identity != "prod" || se.Code != "AccessDenied" || se.Via != "" {
		t.Errorf("StepError = %+v", se)
	}
	msg := err.Error()
	for _, want := range []string{`identity "prod"`, spokeARN("prod"), "AccessDenied",
		`check the role's trust policy allows OIDC subject "repo:example/infra:ref:refs/heads/main"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if res == nil || res.Profiles["dev"] == nil {
		t.Errorf("secondary dev should still succeed: %+v", res)
	}
	assertNoSecrets(t, e, msg)
}

func TestRunAncestorFailureNamed(t *testing.T) {
	t.Parallel()
	e := startEmu(t, emuConfig("s1"))
	e.DenyRole(hubARN)
	cfg := config(ghProvider(),
		viaProvider("hub", "gh", hubARN, false),
		viaIdentity("s1", "hub", spokeARN("s1"), false),
	)
	_, err := authflow.Run(t.Context(), plan(t, cfg, "s1"), opts(emuEnv(e)))
	var se *authflow.StepError
	if !errors.As(err, &se) || se.Via != "hub" || se.Step != hubARN || se.Code != "AccessDenied" {
		t.Fatalf("Run error = %#v; want the ancestor hub named", err)
	}
	if !strings.Contains(err.Error(), `identity "s1": its chain failed at identity "hub": assume role `+hubARN+` with web identity: AccessDenied`) {
		t.Errorf("error %q does not say which ancestor failed", err)
	}
	if calls(e)["AssumeRole"] != 0 {
		t.Error("the spoke was attempted although its hub failed")
	}
}

func TestRunThrottlingRecovered(t *testing.T) {
	t.Parallel()
	e := startEmu(t, emuConfig("a"))
	e.Throttle(1)
	cfg := config(ghProvider(), viaProvider("a", "gh", spokeARN("a"), false))
	var logs logBuffer
	o := opts(emuEnv(e))
	o.Logger = logs.logger()
	if _, err := authflow.Run(t.Context(), plan(t, cfg, "a"), o); err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, c := range e.Calls() {
		codes = append(codes, c.ErrorCode)
	}
	if diff := cmp.Diff([]string{"Throttling", ""}, codes); diff != "" {
		t.Errorf("call error codes (-want +got):\n%s", diff)
	}
	if !strings.Contains(logs.String(), "retrying request") {
		t.Errorf("retry not logged:\n%s", logs.String())
	}
}

func TestRunInvalidIdentityTokenNotRetried(t *testing.T) {
	t.Parallel()
	e := startEmu(t, emuConfig("a"))
	tok, err := e.MintToken("not-sts", "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config(&authflow.Provider{Name: "gl", Kind: authflow.KindEnvToken, TokenEnv: "CI_JOB_JWT"},
		viaProvider("a", "gl", spokeARN("a"), false))
	_, err = authflow.Run(t.Context(), plan(t, cfg, "a"), opts(emuEnv(e, "CI_JOB_JWT", tok)))
	var se *authflow.StepError
	if !errors.As(err, &se) || se.Code != "InvalidIdentityToken" {
		t.Fatalf("Run error = %v; want InvalidIdentityToken", err)
	}
	if got := len(e.Calls()); got != 1 {
		t.Errorf("STS calls = %d; want 1 (InvalidIdentityToken is not retried)", got)
	}
	if !strings.Contains(err.Error(), `check the audience and the OIDC provider/issuer configured in IAM (token audience "not-sts"`) {
		t.Errorf("error %q lacks the audience hint", err)
	}
	assertNoSecrets(t, e, err.Error())
}

func TestRunDeadline(t *testing.T) {
	t.Parallel()
	e := startEmu(t, emuConfig("a"))
	e.SetLatency(5 * time.Second)
	cfg := config(ghProvider(), viaProvider("a", "gh", spokeARN("a"), false))
	o := opts(emuEnv(e))
	o.Timeout = 200 * time.Millisecond
	start := time.Now()
	_, err := authflow.Run(t.Context(), plan(t, cfg, "a"), o)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Run took %v; want about the 200ms deadline", took)
	}
	var se *authflow.StepError
	if !errors.As(err, &se) || !errors.Is(err, context.DeadlineExceeded) || se.Step != "gh" || se.Via != "gh" {
		t.Fatalf("Run error = %v; want the provider gh's deadline", err)
	}
	if !strings.Contains(err.Error(), "raise options.timeout") {
		t.Errorf("error %q lacks the timeout hint", err)
	}
}

func TestRunCancelled(t *testing.T) {
	t.Parallel()
	e := startEmu(t, emuConfig("a"))
	e.SetLatency(5 * time.Second)
	cfg := config(ghProvider(), viaProvider("a", "gh", spokeARN("a"), false))
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := authflow.Run(ctx, plan(t, cfg, "a"), opts(emuEnv(e)))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run error = %v; want context.Canceled", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("cancelled Run took %v", took)
	}
}

// TestRunConcurrency checks the bound on steps running at once: ten spokes
// behind one provider, each held open by the emulator's latency, keep
// exactly Concurrency STS requests in flight (8 by default).
func TestRunConcurrency(t *testing.T) {
	t.Parallel()
	// The latency only has to outlast starting the waiting steps' requests,
	// which a loaded machine may delay; the count itself is not timed.
	const n, latency = 10, 300 * time.Millisecond
	var spokes []string
	items := []any{ghProvider()}
	for i := range n {
		s := fmt.Sprintf("s%02d", i)
		spokes = append(spokes, s)
		items = append(items, viaProvider(s, "gh", spokeARN(s), true))
	}
	for _, tc := range []struct {
		name        string
		concurrency int
		want        int
	}{
		{"default", 0, authflow.DefaultConcurrency},
		{"2", 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := startEmu(t, emuConfig(spokes...))
			e.SetLatency(latency)
			o := opts(emuEnv(e))
			o.Concurrency = tc.concurrency
			start := time.Now()
			res, err := authflow.Run(t.Context(), plan(t, config(items...), "s00"), o)
			if err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			if len(res.Order) != n {
				t.Fatalf("%d profiles; want %d", len(res.Order), n)
			}
			if got := e.MaxInFlight(); got != tc.want {
				t.Errorf("%d STS requests in flight at most; want exactly %d", got, tc.want)
			}
			if got := len(e.Calls()); got != n {
				t.Errorf("%d STS calls; want %d, one per spoke", got, n)
			}
			// No bound on the time, which a loaded machine stretches: the
			// count above already fails both an unbounded and a serial run.
			t.Logf("%d spokes, concurrency %d: %v (one round trip: %v)", n, tc.want, took, latency)
		})
	}
}

func TestRunTokenProviders(t *testing.T) {
	t.Parallel()
	e := startEmu(t, emuConfig("a", "b"))
	tok, err := e.MintToken("sts.amazonaws.com", "")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		prov *authflow.Provider
		env  []string
	}{
		{"env-token", &authflow.Provider{Name: "p", Kind: authflow.KindEnvToken, TokenEnv: "MY_TOKEN"}, []string{"MY_TOKEN", tok}},
		{"file-token", &authflow.Provider{Name: "p", Kind: authflow.KindFileToken, TokenFile: file}, nil},
		{"file-token from AWS_WEB_IDENTITY_TOKEN_FILE", &authflow.Provider{Name: "p", Kind: authflow.KindFileToken},
			[]string{"AWS_WEB_IDENTITY_TOKEN_FILE", file}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config(tc.prov, viaProvider("a", "p", spokeARN("a"), false))
			res, err := authflow.Run(t.Context(), plan(t, cfg, "a"), opts(emuEnv(e, tc.env...)))
			if err != nil {
				t.Fatal(err)
			}
			if res.Profiles["a"] == nil {
				t.Fatal("no profile")
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		cfg := config(&authflow.Provider{Name: "p", Kind: authflow.KindEnvToken, TokenEnv: "MISSING"},
			viaProvider("a", "p", spokeARN("a"), false))
		_, err := authflow.Run(t.Context(), plan(t, cfg, "a"), opts(emuEnv(e)))
		if err == nil || !strings.Contains(err.Error(), "MISSING is unset or empty") {
			t.Errorf("Run error = %v", err)
		}
	})
}

func TestRunUser(t *testing.T) {
	t.Parallel()
	e := startEmu(t, emuConfig("a"))
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials")
	if err := os.WriteFile(creds, []byte("[alice]\naws_access_key_id = "+userKey+"\naws_secret_access_key = "+userSec+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "config")
	if err := os.WriteFile(conf, []byte("[profile alice]\nregion = eu-west-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		profile string
		env     []string
		region  string
	}{
		{"env", "", []string{"AWS_ACCESS_KEY_ID", userKey, "AWS_SECRET_ACCESS_KEY", userSec, "AWS_REGION", "eu-central-1"}, "eu-central-1"},
		{"profile", "alice", []string{"AWS_SHARED_CREDENTIALS_FILE", creds, "AWS_CONFIG_FILE", conf,
			"AWS_ACCESS_KEY_ID", "AKIAOTHEREXAMPLE0002", "AWS_SECRET_ACCESS_KEY", "wrong"}, "eu-west-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(e.Calls())
			cfg := config(
				&authflow.Identity{Name: "me", Kind: authflow.KindUser, Profile: tc.profile, Required: true},
				viaIdentity("a", "me", spokeARN("a"), false),
			)
			m := emuEnv(e, tc.env...)
			delete(m, "AWS_REGION")
			for i := 0; i+1 < len(tc.env); i += 2 {
				m[tc.env[i]] = tc.env[i+1]
			}
			res, err := authflow.Run(t.Context(), plan(t, cfg, "a"), opts(m))
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Profiles["me"]; got == nil || got.AccessKeyID.Reveal() != userKey || got.Region != tc.region {
				t.Errorf("user profile = %+v; want alice's keys in %s", got, tc.region)
			}
			if got := res.Profiles["a"].Region; got != tc.region {
				t.Errorf("spoke region = %q; want the parent's %q", got, tc.region)
			}
			c := e.Calls()[before:]
			if len(c) != 1 || c[0].Action != "AssumeRole" || c[0].CallerARN != userARN {
				t.Errorf("calls = %+v; want one AssumeRole signed by alice", c)
			}
		})
	}
	t.Run("missing profile", func(t *testing.T) {
		cfg := config(&authflow.Identity{Name: "me", Kind: authflow.KindUser, Profile: "nobody"})
		_, err := authflow.Run(t.Context(), plan(t, cfg, "me"), opts(emuEnv(e, "AWS_SHARED_CREDENTIALS_FILE", creds, "AWS_CONFIG_FILE", conf)))
		if err == nil || !strings.Contains(err.Error(), `profile "nobody"`) {
			t.Errorf("Run error = %v", err)
		}
	})
}

// TestRunIsolatedFromUserConfig runs with a stray AWS_PROFILE, environment
// keys and shared files in both the wrapper's and the process environment:
// none may reach the STS clients, which must still honour the endpoint.
func TestRunIsolatedFromUserConfig(t *testing.T) {
	e := startEmu(t, emuConfig("a"))
	stray := map[string]string{
		"AWS_PROFILE":                 "does-not-exist",
		"AWS_DEFAULT_PROFILE":         "does-not-exist",
		"AWS_CONFIG_FILE":             filepath.Join(t.TempDir(), "missing"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(t.TempDir(), "missing"),
		"AWS_ACCESS_KEY_ID":           "AKIASTRAYEXAMPLE0003",
		"AWS_SECRET_ACCESS_KEY":       "stray",
	}
	for k, v := range stray {
		t.Setenv(k, v)
	}
	cfg := config(ghProvider(),
		viaProvider("hub", "gh", hubARN, false),
		viaIdentity("a", "hub", spokeARN("a"), false))
	for _, tc := range []struct {
		name string
		env  env
	}{
		{"AWS_ENDPOINT_URL_STS", emuEnv(e)},
		{"AWS_ENDPOINT_URL", emuEnv(e, "AWS_ENDPOINT_URL_STS", "", "AWS_ENDPOINT_URL", e.STSURL())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range stray {
				tc.env[k] = v
			}
			before := len(e.Calls())
			if _, err := authflow.Run(t.Context(), plan(t, cfg, "a"), opts(tc.env)); err != nil {
				t.Fatal(err)
			}
			c := e.Calls()[before:]
			if len(c) != 2 || c[1].CallerARN != "arn:aws:sts::111111111111:assumed-role/hub/tfauth-hub" {
				t.Errorf("calls = %+v; want web identity then AssumeRole signed by the hub", c)
			}
		})
	}
	t.Run("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", func(t *testing.T) {
		// The real STS is never reached: TestMain sends every request for
		// a non-loopback address to a proxy port that refuses.
		m := emuEnv(e, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
		o := opts(m)
		o.Timeout = 3 * time.Second
		before := len(e.Calls())
		_, err := authflow.Run(t.Context(), plan(t, cfg, "a"), o)
		if err == nil {
			t.Fatal("Run succeeded; want a failure reaching the real STS")
		}
		if !strings.Contains(err.Error(), "proxyconnect") {
			t.Errorf("error %q was not the test proxy's refusal: the request may have left the machine", err)
		}
		if got := len(e.Calls()) - before; got != 0 {
			t.Errorf("%d calls reached the emulator; the endpoint setting was not ignored", got)
		}
		if !strings.Contains(err.Error(), "https://sts.us-east-1.amazonaws.com") {
			t.Errorf("error %q does not name the regional endpoint", err)
		}
	})
}

func TestRunAmbient(t *testing.T) {
	e := startEmu(t, emuConfig("a"))
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           userKey,
		"AWS_SECRET_ACCESS_KEY":       userSec,
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_REGION":                  "ap-south-1",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
	cfg := config(&authflow.Identity{Name: "amb", Kind: authflow.KindAmbient},
		viaIdentity("a", "amb", spokeARN("a"), false))
	res, err := authflow.Run(t.Context(), plan(t, cfg, "a"), opts(emuEnv(e)))
	if err != nil {
		t.Fatal(err)
	}
	c := e.Calls()
	if len(c) != 1 || c[0].CallerARN != userARN {
		t.Errorf("calls = %+v; want AssumeRole signed by the ambient user", c)
	}
	if got := res.Profiles["a"].Region; got != "ap-south-1" {
		t.Errorf("region = %q; want the ambient region", got)
	}
}

// TestRunAmbientProcessCredsNoSecrets runs an aws/ambient identity whose
// AWS_PROFILE has a credential_process printing valid keys with a bad
// Expiration: the SDK's error quotes the whole process output, and none of
// the secrets in it may reach the error.
func TestRunAmbientProcessCredsNoSecrets(t *testing.T) {
	skipOnWindows(t)
	const (
		keyID  = "ASIAPROCEXAMPLE00001"
		secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYPROCSECRET"
		token  = "IQoJb3JpZ2luX2VjEPROCTOKEN/0123456789+abcdefghijklmnopqrstuvwxyzABCDEF=="
	)
	dir := t.TempDir()
	script := filepath.Join(dir, "creds.sh")
	out := fmt.Sprintf(`{"Version":1,"AccessKeyId":"%s","SecretAccessKey":"%s","SessionToken":"%s","Expiration":"garbage"}`, keyID, secret, token)
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho '"+out+"'\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "config")
	if err := os.WriteFile(conf, []byte("[profile proc]\ncredential_process = "+script+"\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"AWS_PROFILE":                 "proc",
		"AWS_CONFIG_FILE":             conf,
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_ACCESS_KEY_ID":           "",
		"AWS_SECRET_ACCESS_KEY":       "",
		"AWS_SESSION_TOKEN":           "",
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
	var logs logBuffer
	o := opts(env{})
	o.Logger = logs.logger()
	cfg := config(&authflow.Identity{Name: "amb", Kind: authflow.KindAmbient})
	res, err := authflow.Run(t.Context(), plan(t, cfg, "amb"), o)
	if err == nil {
		t.Fatal("Run succeeded; want the credential_process output rejected")
	}
	if !strings.Contains(err.Error(), "process") || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("error %q does not show the redacted process output", err)
	}
	for _, text := range []string{err.Error(), fmt.Sprintf("%v %+v", res.Failures, res), logs.String()} {
		for _, s := range []string{keyID, secret, token, "wJalrXUtnFEMI", "IQoJb3JpZ2lu"} {
			if strings.Contains(text, s) {
				t.Errorf("secret %.6s… leaked in %q", s, text)
			}
		}
	}
}

// TestRunNoSecretsInErrors runs failing scenarios and checks that no secret
// of the emulator shows in errors, results or debug logs.
func TestRunNoSecretsInErrors(t *testing.T) {
	t.Parallel()
	e := startEmu(t, emuConfig("a", "b"))
	e.DenyRole(spokeARN("b"))
	expired, err := e.MintToken("wrong-audience", "")
	if err != nil {
		t.Fatal(err)
	}
	var logs logBuffer
	var texts []string
	for _, tc := range []struct {
		cfg     *authflow.Config
		primary string
		env     env
	}{
		{config(ghProvider(), viaProvider("hub", "gh", hubARN, false), viaIdentity("b", "hub", spokeARN("b"), false)), "b", emuEnv(e)},
		{config(&authflow.Provider{Name: "t", Kind: authflow.KindEnvToken, TokenEnv: "T"}, viaProvider("a", "t", spokeARN("a"), false)), "a", emuEnv(e, "T", expired)},
		{config(ghProvider(), viaProvider("a", "gh", spokeARN("a"), false)), "a", emuEnv(e, "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "wrong-request-token-123")},
		{config(&authflow.Identity{Name: "me", Kind: authflow.KindUser}, viaIdentity("a", "me", spokeARN("a"), false)), "a",
			emuEnv(e, "AWS_ACCESS_KEY_ID", userKey, "AWS_SECRET_ACCESS_KEY", "wrong-secret-key-456")},
	} {
		o := opts(tc.env)
		o.Logger = logs.logger()
		res, err := authflow.Run(t.Context(), plan(t, tc.cfg, tc.primary), o)
		if err == nil {
			t.Errorf("scenario %s: Run succeeded; want a failure", tc.primary)
			continue
		}
		texts = append(texts, err.Error(), fmt.Sprintf("%v %+v %#v", err, res, res))
		for _, f := range res.Failures {
			texts = append(texts, f.Error())
		}
	}
	texts = append(texts, logs.String())
	assertNoSecrets(t, e, texts...)
	for _, s := range []string{"wrong-request-token-123", "wrong-secret-key-456"} {
		for _, text := range texts {
			if strings.Contains(text, s) {
				t.Errorf("%s leaked in %q", s, text)
			}
		}
	}
}

func TestRunOIDCRetries(t *testing.T) {
	t.Parallel()
	e := startEmu(t, emuConfig("a"))
	cfg := config(ghProvider(), viaProvider("a", "gh", spokeARN("a"), false))
	t.Run("5xx retried", func(t *testing.T) {
		e.FailOIDC(2)
		var cc countingClient
		o := opts(emuEnv(e))
		o.HTTPClient = cc.client()
		if _, err := authflow.Run(t.Context(), plan(t, cfg, "a"), o); err != nil {
			t.Fatal(err)
		}
		if got := cc.n.Load(); got != 3 {
			t.Errorf("token requests = %d; want 3", got)
		}
	})
	t.Run("4xx not retried", func(t *testing.T) {
		var cc countingClient
		o := opts(emuEnv(e, "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "bad-request-token"))
		o.HTTPClient = cc.client()
		_, err := authflow.Run(t.Context(), plan(t, cfg, "a"), o)
		if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "id-token: write") {
			t.Errorf("Run error = %v; want a 401 with the permissions hint", err)
		}
		if got := cc.n.Load(); got != 1 {
			t.Errorf("token requests = %d; want 1", got)
		}
	})
	t.Run("missing variables", func(t *testing.T) {
		m := emuEnv(e)
		delete(m, "ACTIONS_ID_TOKEN_REQUEST_URL")
		_, err := authflow.Run(t.Context(), plan(t, cfg, "a"), opts(m))
		if err == nil || !strings.Contains(err.Error(), "permissions: id-token: write") {
			t.Errorf("Run error = %v; want the permissions hint", err)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		var cc countingClient
		o := opts(emuEnv(e, "ACTIONS_ID_TOKEN_REQUEST_URL", "http://127.0.0.1:1/token?api-version=2.0"))
		o.HTTPClient = cc.client()
		_, err := authflow.Run(t.Context(), plan(t, cfg, "a"), o)
		if err == nil || !strings.Contains(err.Error(), "hint: check network access to http://127.0.0.1:1/token") {
			t.Errorf("Run error = %v; want the endpoint hint", err)
		}
		if got := cc.n.Load(); got != 4 {
			t.Errorf("token requests = %d; want 4 (network errors are retried)", got)
		}
	})
	t.Run("plain http to a remote host", func(t *testing.T) {
		m := emuEnv(e, "ACTIONS_ID_TOKEN_REQUEST_URL", "http://token.example.com/x?api-version=2.0")
		_, err := authflow.Run(t.Context(), plan(t, cfg, "a"), opts(m))
		if err == nil || !strings.Contains(err.Error(), "must use https") {
			t.Errorf("Run error = %v; want https required", err)
		}
	})
}

// BenchmarkRun measures the pipeline's wall time for N required identities
// behind one OIDC provider with 20 ms of emulator latency per request, next
// to the floor (chain depth × latency) and the floor under the concurrency
// bound. The "sequential" case (concurrency 1) is the one-at-a-time cost.
func BenchmarkRun(b *testing.B) {
	const latency = 20 * time.Millisecond
	for _, c := range []struct {
		n, concurrency int
		name           string
	}{
		{1, 0, "identities=1"},
		{10, 0, "identities=10"},
		{50, 0, "identities=50"},
		{10, 1, "identities=10/sequential"},
	} {
		b.Run(c.name, func(b *testing.B) {
			n := c.n
			var spokes []string
			items := []any{ghProvider()}
			for i := range n {
				s := fmt.Sprintf("s%02d", i)
				spokes = append(spokes, s)
				items = append(items, viaProvider(s, "gh", spokeARN(s), true))
			}
			e := startEmu(b, emuConfig(spokes...))
			e.SetLatency(latency)
			g := plan(b, config(items...), "s00")
			o := opts(emuEnv(e))
			if c.concurrency > 0 {
				o.Concurrency = c.concurrency
			}
			conc := o.Concurrency
			if conc == 0 {
				conc = authflow.DefaultConcurrency
			}
			b.ResetTimer()
			start := time.Now()
			for b.Loop() {
				res, err := authflow.Run(b.Context(), g, o)
				if err != nil || len(res.Order) != n {
					b.Fatalf("Run: %v, %d profiles", err, len(res.Order))
				}
			}
			wall := time.Since(start) / time.Duration(b.N)
			b.ReportMetric(float64(wall.Milliseconds()), "wall-ms/run")
			b.ReportMetric(float64((2 * latency).Milliseconds()), "floor-ms/run")
			// With at most conc steps at once the spokes run in waves.
			waves := (n + conc - 1) / conc
			b.ReportMetric(float64((time.Duration(1+waves) * latency).Milliseconds()), "bounded-floor-ms/run")
		})
	}
}

func TestRunRejectsMalformedGraph(t *testing.T) {
	t.Parallel()
	if _, err := authflow.Run(t.Context(), nil, authflow.RunOptions{}); err == nil {
		t.Error("Run accepted a nil graph")
	}
	p := &authflow.Step{Key: "provider/gh", Provider: ghProvider()}
	orphan := &authflow.Step{Key: "identity/a", Identity: viaProvider("a", "gh", spokeARN("a"), false), Parent: p}
	for name, steps := range map[string][]*authflow.Step{
		"parent missing": {orphan},
		"planned twice":  {p, p},
	} {
		g := &authflow.Graph{Primary: "a", Targets: []string{"a"}, Steps: steps, ByKey: map[string]*authflow.Step{}}
		if _, err := authflow.Run(t.Context(), g, authflow.RunOptions{}); err == nil {
			t.Errorf("%s: Run accepted the graph", name)
		}
	}
}
