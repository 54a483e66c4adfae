// Package awsemu is a local AWS emulator for tests and demos: an STS
// endpoint (awsQuery protocol), a GitHub-Actions-style OIDC token issuer and
// an S3 endpoint backed by gofakes3, each served over HTTP on 127.0.0.1.
//
// Every signed request is checked against its AWS Signature Version 4, so a
// test can prove which identity signed it. Real AWS SDKs reach the emulator
// through their endpoint settings; see [Emulator.Env].
package awsemu

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"gopkg.in/yaml.v3"
)

// Config describes the identities, trust rules and buckets of an emulator.
type Config struct {
	Roles   []Role     `yaml:"roles"`
	Users   []User     `yaml:"users"` // static IAM users (long-term keys)
	Buckets []Bucket   `yaml:"buckets"`
	OIDC    OIDCConfig `yaml:"oidc"`

	// S3TLS serves S3 over HTTPS with a self-signed certificate for
	// 127.0.0.1 (see [Emulator.S3CACertPEM]). Over HTTPS, recent AWS SDKs
	// upload with aws-chunked bodies and trailing checksums.
	S3TLS bool `yaml:"s3_tls"`

	// Logger receives debug records about requests; nil means silent.
	// Secrets are never logged.
	Logger *slog.Logger `yaml:"-"`
}

// Role is an IAM role that can be assumed through STS.
type Role struct {
	ARN string `yaml:"arn"`
	// TrustPrincipals lists role or user ARNs allowed to call AssumeRole.
	// A session of a trusted role counts, "arn:aws:iam::ACCOUNT:root"
	// trusts every principal of that account, and "*" any authenticated
	// principal.
	TrustPrincipals []string `yaml:"trust_principals"`
	// TrustOIDCSubjects are path.Match globs on the JWT "sub" claim; empty
	// means AssumeRoleWithWebIdentity is not trusted.
	TrustOIDCSubjects []string `yaml:"trust_oidc_subjects"`
	// TrustOIDCAudiences are the accepted "aud" values; default
	// ["sts.amazonaws.com"].
	TrustOIDCAudiences []string `yaml:"trust_oidc_audiences"`
	// ExternalID, when set, must be passed as ExternalId to AssumeRole.
	ExternalID string `yaml:"external_id"`
	// MaxSessionDuration caps DurationSeconds; default 1h.
	MaxSessionDuration time.Duration `yaml:"max_session_duration"`
}

// User is a static IAM user with long-term access keys.
type User struct {
	ARN             string `yaml:"arn"`
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
}

// Bucket is an S3 bucket created at start, with seeded objects.
type Bucket struct {
	Name    string            `yaml:"name"`
	Objects map[string]string `yaml:"objects"` // key -> content
}

// OIDCConfig configures the GitHub-style OIDC token issuer.
type OIDCConfig struct {
	// Subject is the "sub" claim of tokens fetched through the request URL;
	// default "repo:example/infra:ref:refs/heads/main".
	Subject string `yaml:"subject"`
	// RequestToken is the bearer token the request URL demands; default
	// random.
	RequestToken string `yaml:"request_token"`
}

// DefaultOIDCSubject is the subject of issued tokens when OIDCConfig.Subject
// is empty.
const DefaultOIDCSubject = "repo:example/infra:ref:refs/heads/main"

// DefaultOIDCAudience is the audience roles trust when
// Role.TrustOIDCAudiences is empty.
const DefaultOIDCAudience = "sts.amazonaws.com"

// Call records one STS request.
type Call struct {
	Time      time.Time `json:"time"`
	Action    string    `json:"action"`
	RoleARN   string    `json:"role_arn,omitempty"`
	CallerARN string    `json:"caller_arn,omitempty"` // "" when unsigned or not authenticated
	ErrorCode string    `json:"error_code,omitempty"` // "" on success
}

// S3Request records one S3 request.
type S3Request struct {
	Time         time.Time `json:"time"`
	Method       string    `json:"method"`
	Bucket       string    `json:"bucket,omitempty"`
	Key          string    `json:"key,omitempty"`
	Operation    string    `json:"operation"` // best effort, e.g. "PutObject"
	AccessKeyID  string    `json:"access_key_id,omitempty"`
	PrincipalARN string    `json:"principal_arn,omitempty"` // "" when not authenticated
	Status       int       `json:"status"`
}

// LoadConfig reads a YAML Config from path, rejecting unknown fields.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("awsemu: read config: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("awsemu: %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig decodes a YAML Config, rejecting unknown fields.
func ParseConfig(data []byte) (Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("parse config: %w", err)
	}
	return cfg, nil
}

// Emulator is a running set of STS, OIDC and S3 servers. All methods are
// safe for concurrent use.
type Emulator struct {
	log *slog.Logger

	roles map[string]*roleState // by ARN
	users map[string]*userState // by access key ID

	oidcSubject  string
	requestToken string
	signingKey   *rsa.PrivateKey
	keyID        string

	stsSrv, oidcSrv, s3Srv *httptest.Server

	latency      atomic.Int64 // nanoseconds
	throttleLeft atomic.Int64
	oidcFailLeft atomic.Int64

	mu       sync.Mutex
	inFlight int // STS requests being served
	maxIn    int // the most at once since start or ResetInFlight
	denied   map[string]bool
	sessions map[string]*session // by access key ID
	calls    []Call
	s3Reqs   []S3Request
	secrets  []string
	s3Hook   func(S3Request)
}

type roleState struct {
	Role
	account string
	name    string // last path element of the role name
	id      string // AROA…
}

type userState struct {
	User
	account string
	id      string // AIDA…
}

// session is a set of temporary credentials issued by STS.
type session struct {
	accessKeyID, secret, token string
	expires                    time.Time
	role                       *roleState
	name                       string // RoleSessionName
	sourceIdentity             string
}

func (s *session) arn() string {
	return fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", s.role.account, s.role.name, s.name)
}

// Start validates cfg and starts the three servers on 127.0.0.1.
func Start(cfg Config) (*Emulator, error) {
	e := &Emulator{
		log:          cfg.Logger,
		roles:        make(map[string]*roleState),
		users:        make(map[string]*userState),
		denied:       make(map[string]bool),
		sessions:     make(map[string]*session),
		oidcSubject:  cfg.OIDC.Subject,
		requestToken: cfg.OIDC.RequestToken,
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.oidcSubject == "" {
		e.oidcSubject = DefaultOIDCSubject
	}
	if e.requestToken == "" {
		e.requestToken = randomString(40, alnum)
	}
	e.secrets = append(e.secrets, e.requestToken)

	for _, r := range cfg.Roles {
		acct, kind, name, err := parseIAMARN(r.ARN)
		if err != nil || kind != "role" {
			return nil, fmt.Errorf("awsemu: role %q: not a role ARN", r.ARN)
		}
		if _, dup := e.roles[r.ARN]; dup {
			return nil, fmt.Errorf("awsemu: role %q: defined twice", r.ARN)
		}
		if len(r.TrustOIDCAudiences) == 0 {
			r.TrustOIDCAudiences = []string{DefaultOIDCAudience}
		}
		if r.MaxSessionDuration == 0 {
			r.MaxSessionDuration = time.Hour
		}
		if r.MaxSessionDuration < time.Hour || r.MaxSessionDuration > 12*time.Hour {
			return nil, fmt.Errorf("awsemu: role %q: max_session_duration must be between 1h and 12h", r.ARN)
		}
		e.roles[r.ARN] = &roleState{Role: r, account: acct, name: name, id: "AROA" + randomString(17, upperAlnum)}
	}
	for _, u := range cfg.Users {
		acct, kind, _, err := parseIAMARN(u.ARN)
		if err != nil || kind != "user" {
			return nil, fmt.Errorf("awsemu: user %q: not a user ARN", u.ARN)
		}
		if u.AccessKeyID == "" || u.SecretAccessKey == "" {
			return nil, fmt.Errorf("awsemu: user %q: access_key_id and secret_access_key are required", u.ARN)
		}
		if _, dup := e.users[u.AccessKeyID]; dup {
			return nil, fmt.Errorf("awsemu: user %q: access key ID used twice", u.ARN)
		}
		e.users[u.AccessKeyID] = &userState{User: u, account: acct, id: "AIDA" + randomString(17, upperAlnum)}
		e.secrets = append(e.secrets, u.SecretAccessKey)
	}

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("awsemu: generate signing key: %w", err)
	}
	e.signingKey = key
	e.keyID = randomString(16, lowerHex)

	backend := s3mem.New()
	for _, b := range cfg.Buckets {
		if err := backend.CreateBucket(b.Name); err != nil {
			return nil, fmt.Errorf("awsemu: create bucket %q: %w", b.Name, err)
		}
		for k, v := range b.Objects {
			meta := map[string]string{"Content-Type": "application/octet-stream", "Last-Modified": time.Now().UTC().Format(http.TimeFormat)}
			if _, err := backend.PutObject(b.Name, k, meta, strings.NewReader(v), int64(len(v)), nil); err != nil {
				return nil, fmt.Errorf("awsemu: seed object %s/%s: %w", b.Name, k, err)
			}
		}
	}
	fake := gofakes3.New(backend, gofakes3.WithTimeSkewLimit(0))

	e.stsSrv = httptest.NewServer(http.HandlerFunc(e.serveSTS))
	e.oidcSrv = httptest.NewServer(http.HandlerFunc(e.serveOIDC))
	e.s3Srv = httptest.NewUnstartedServer(e.s3Handler(fake.Server()))
	if cfg.S3TLS {
		e.s3Srv.StartTLS()
	} else {
		e.s3Srv.Start()
	}
	return e, nil
}

// Close stops all servers.
func (e *Emulator) Close() {
	e.stsSrv.Close()
	e.oidcSrv.Close()
	e.s3Srv.Close()
}

// STSURL is the base URL of the STS endpoint.
func (e *Emulator) STSURL() string { return e.stsSrv.URL }

// S3URL is the base URL of the S3 endpoint (path-style addressing).
func (e *Emulator) S3URL() string { return e.s3Srv.URL }

// OIDCURL is the issuer URL, also the "iss" claim of issued tokens.
func (e *Emulator) OIDCURL() string { return e.oidcSrv.URL }

// OIDCRequestURL is the value for ACTIONS_ID_TOKEN_REQUEST_URL. It already
// contains a query, since clients append "&audience=...".
func (e *Emulator) OIDCRequestURL() string { return e.oidcSrv.URL + tokenPath + "?api-version=2.0" }

// OIDCRequestToken is the value for ACTIONS_ID_TOKEN_REQUEST_TOKEN.
func (e *Emulator) OIDCRequestToken() string { return e.requestToken }

// S3CACertPEM returns the PEM certificate to trust for the S3 endpoint when
// Config.S3TLS is set (e.g. via SSL_CERT_FILE), or nil.
func (e *Emulator) S3CACertPEM() []byte {
	c := e.s3Srv.Certificate()
	if c == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// S3HTTPClient returns an HTTP client that trusts the S3 endpoint, also
// when Config.S3TLS is set.
func (e *Emulator) S3HTTPClient() *http.Client { return e.s3Srv.Client() }

// Env returns the environment that points AWS SDKs, terraform's S3 backend
// (1.5 reads AWS_S3_ENDPOINT/AWS_STS_ENDPOINT, later versions
// AWS_ENDPOINT_URL_*) and GitHub OIDC clients at the emulator.
func (e *Emulator) Env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL_STS":           e.STSURL(),
		"AWS_ENDPOINT_URL_S3":            e.S3URL(),
		"AWS_STS_ENDPOINT":               e.STSURL(),
		"AWS_S3_ENDPOINT":                e.S3URL(),
		"GITHUB_ACTIONS":                 "true",
		"ACTIONS_ID_TOKEN_REQUEST_URL":   e.OIDCRequestURL(),
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": e.OIDCRequestToken(),
		"AWS_REGION":                     "us-east-1",
	}
}

// SetLatency adds d to every STS and OIDC token request.
func (e *Emulator) SetLatency(d time.Duration) { e.latency.Store(int64(d)) }

// MaxInFlight returns the highest number of STS requests served at once
// since start or the last [Emulator.ResetInFlight]. A request counts from
// its arrival, through the configured latency, until its reply is written,
// so with [Emulator.SetLatency] it shows how many requests a client keeps
// open at the same time.
func (e *Emulator) MaxInFlight() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.maxIn
}

// ResetInFlight starts MaxInFlight afresh: from the number of STS requests
// being served right now (0 when the emulator is idle).
func (e *Emulator) ResetInFlight() {
	e.mu.Lock()
	e.maxIn = e.inFlight
	e.mu.Unlock()
}

// enterSTS counts an STS request in flight and returns the function that
// ends it; calls after the first do nothing.
func (e *Emulator) enterSTS() (leave func()) {
	e.mu.Lock()
	e.inFlight++
	e.maxIn = max(e.maxIn, e.inFlight)
	e.mu.Unlock()
	return sync.OnceFunc(func() {
		e.mu.Lock()
		e.inFlight--
		e.mu.Unlock()
	})
}

// Throttle makes the next n STS requests fail with 400 Throttling.
func (e *Emulator) Throttle(n int) { e.throttleLeft.Store(int64(n)) }

// DenyRole makes AssumeRole and AssumeRoleWithWebIdentity of arn fail with
// 403 AccessDenied.
func (e *Emulator) DenyRole(arn string) {
	e.mu.Lock()
	e.denied[arn] = true
	e.mu.Unlock()
}

// AllowRole undoes DenyRole.
func (e *Emulator) AllowRole(arn string) {
	e.mu.Lock()
	delete(e.denied, arn)
	e.mu.Unlock()
}

// FailOIDC makes the next n OIDC token requests fail with HTTP 500.
func (e *Emulator) FailOIDC(n int) { e.oidcFailLeft.Store(int64(n)) }

// ExpireSession makes the issued credentials with this access key ID
// expired from now on. It reports whether such a session exists.
func (e *Emulator) ExpireSession(accessKeyID string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.sessions[accessKeyID]
	if ok {
		s.expires = time.Now().Add(-time.Second)
	}
	return ok
}

// ExpireAllSessions expires every issued credential and returns how many.
func (e *Emulator) ExpireAllSessions() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.sessions {
		s.expires = time.Now().Add(-time.Second)
	}
	return len(e.sessions)
}

// Calls returns every STS request so far, oldest first.
func (e *Emulator) Calls() []Call {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Call(nil), e.calls...)
}

// S3Requests returns every S3 request so far, oldest first.
func (e *Emulator) S3Requests() []S3Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]S3Request(nil), e.s3Reqs...)
}

// OnS3Request registers f to be called after each S3 request (one hook;
// nil removes it). f must not call back into the emulator's S3 endpoint.
func (e *Emulator) OnS3Request(f func(S3Request)) {
	e.mu.Lock()
	e.s3Hook = f
	e.mu.Unlock()
}

// Secrets returns every secret known so far: issued access key IDs, secret
// keys and session tokens, issued OIDC JWTs, the OIDC request token and the
// static users' secret access keys. Tests use it to assert none leaked.
func (e *Emulator) Secrets() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.secrets...)
}

func (e *Emulator) addSecrets(s ...string) {
	e.mu.Lock()
	e.secrets = append(e.secrets, s...)
	e.mu.Unlock()
}

func (e *Emulator) recordCall(c Call) {
	e.mu.Lock()
	e.calls = append(e.calls, c)
	e.mu.Unlock()
}

func (e *Emulator) recordS3(r S3Request) {
	e.mu.Lock()
	e.s3Reqs = append(e.s3Reqs, r)
	hook := e.s3Hook
	e.mu.Unlock()
	if hook != nil {
		hook(r)
	}
}

// sleep waits for the configured latency or until ctx is done.
func (e *Emulator) sleep(ctx context.Context) {
	d := time.Duration(e.latency.Load())
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// takeOne decrements a fault counter and reports whether a fault is due.
func takeOne(c *atomic.Int64) bool {
	for {
		n := c.Load()
		if n <= 0 {
			return false
		}
		if c.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// parseIAMARN splits arn:aws:iam::ACCOUNT:KIND/PATH/NAME.
func parseIAMARN(arn string) (account, kind, name string, err error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || len(parts[4]) != 12 {
		return "", "", "", fmt.Errorf("malformed IAM ARN %q", arn)
	}
	res := parts[5]
	slash := strings.IndexByte(res, '/')
	if slash <= 0 || slash == len(res)-1 {
		return "", "", "", fmt.Errorf("malformed IAM ARN %q", arn)
	}
	kind = res[:slash]
	name = res[strings.LastIndexByte(res, '/')+1:]
	return parts[4], kind, name, nil
}

const (
	alnum      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	lowerHex   = "0123456789abcdef"
	secretSet  = alnum + "/+"
)

// randomString returns n characters drawn uniformly from set.
func randomString(n int, set string) string {
	out := make([]byte, 0, n)
	limit := 256 - 256%len(set) // rejection sampling keeps it uniform
	buf := make([]byte, n+16)
	for len(out) < n {
		_, _ = rand.Read(buf) // crypto/rand.Read never fails on supported platforms
		for _, c := range buf {
			if int(c) < limit && len(out) < n {
				out = append(out, set[int(c)%len(set)])
			}
		}
	}
	return string(out)
}
