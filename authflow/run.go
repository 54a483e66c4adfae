package authflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Defaults for RunOptions.
const (
	DefaultConcurrency = 8
	DefaultTimeout     = 60 * time.Second
)

// RunOptions configures Run.
type RunOptions struct {
	// Getenv reads the wrapper's environment. Run reads nothing from the
	// process environment itself; only aws/ambient lets the AWS SDK load its
	// default chain the usual way. Nil means an empty environment.
	Getenv func(string) string
	// Concurrency bounds how many steps run at once (default 8).
	Concurrency int
	// Timeout is the deadline of the whole pipeline (default 60s).
	Timeout time.Duration
	// Logger receives a debug line per step (provider, role, endpoint,
	// retries), never a secret. Nil discards.
	Logger *slog.Logger
	// HTTPClient is used for OIDC token requests; nil means a plain client.
	HTTPClient *http.Client
}

// StepError reports why a target identity could not be authenticated.
type StepError struct {
	// Identity is the target identity that failed.
	Identity string
	// Step is the step that failed: a provider name, a role ARN, or the
	// identity name for aws/ambient and aws/user.
	Step string
	// Code is the AWS error code, when the failure came from AWS.
	Code string
	// Err is the cause, with every known secret redacted from its text.
	Err error
	// Via names the ancestor (provider or identity) whose step failed, when
	// the failure happened before Identity's own step; empty otherwise.
	Via string
	// viaProvider reports that Via is a provider, not an identity.
	viaProvider bool
	// Caller describes the calling principal of the failed step, when known:
	// an assumed-role ARN or an OIDC subject.
	Caller string
	// Endpoint is the endpoint the failed step called, when known.
	Endpoint string

	// audience and issuer come from the web-identity token, for hints.
	audience, issuer string
}

// Error says what failed, why, and what to check, on one line:
//
//	identity "prod": assume role ARN with web identity: AccessDenied: ...; hint: ...
//	identity "prod": its chain failed at provider "gh": ...
//
// The failing step (a provider, or a role ARN) is always named.
func (e *StepError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "identity %q: ", e.Identity)
	if e.Via != "" {
		what := "identity"
		if e.viaProvider {
			what = "provider"
		}
		fmt.Fprintf(&b, "its chain failed at %s %q: ", what, e.Via)
	}
	msg := ""
	if e.Err != nil {
		msg = e.Err.Error()
	}
	switch {
	case msg == "":
		fmt.Fprintf(&b, "%s failed", e.Step)
	case e.Step != "" && e.Step != e.Via && e.Step != e.Identity && !strings.Contains(msg, e.Step):
		// Name the role the failing step assumes when the cause does not.
		fmt.Fprintf(&b, "assume role %s: %s", e.Step, msg)
	default:
		b.WriteString(msg)
	}
	if h := e.Hint(); h != "" {
		b.WriteString("; hint: ")
		b.WriteString(h)
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *StepError) Unwrap() error { return e.Err }

// Hint suggests what to check for the failure, or returns "".
func (e *StepError) Hint() string {
	caller := e.Caller
	if caller == "" {
		caller = "the calling principal"
	}
	switch e.Code {
	case "AccessDenied", "AccessDeniedException":
		return "check the role's trust policy allows " + caller
	case "InvalidIdentityToken", "InvalidIdentityTokenException":
		h := "check the audience and the OIDC provider/issuer configured in IAM"
		if e.audience != "" || e.issuer != "" {
			h += fmt.Sprintf(" (token audience %q, issuer %q)", e.audience, e.issuer)
		}
		return h
	case "IDPRejectedClaim", "IDPRejectedClaimException":
		return "check the token's claims match the conditions of the role's trust policy for " + caller
	case "ExpiredToken", "ExpiredTokenException":
		return "the token or the parent credentials expired before use; re-run, and check the clock"
	case "ValidationError":
		return "check the role ARN, session name, duration (at most 1h when chaining roles), tags and source identity"
	case "RegionDisabledException":
		return "activate STS in this region for the account, or set principal.region"
	case "SignatureDoesNotMatch", "InvalidClientTokenId", "IncompleteSignature":
		return "check the access key id and secret of " + caller
	}
	if e.Code != "" {
		return ""
	}
	switch {
	case errors.Is(e.Err, context.DeadlineExceeded):
		return "the authentication deadline passed; raise options.timeout or check the endpoint " + e.endpointOrDefault()
	case errors.Is(e.Err, context.Canceled):
		return ""
	case isNetworkError(e.Err):
		return "check network access to " + e.endpointOrDefault() + " and the proxy settings"
	}
	return ""
}

func (e *StepError) endpointOrDefault() string {
	if e.Endpoint != "" {
		return e.Endpoint
	}
	return "the endpoint"
}

// isNetworkError reports whether err is a transport failure rather than a
// reply from the server.
func isNetworkError(err error) bool {
	var (
		send   *smithyhttp.RequestSendError
		urlErr *url.Error
		netErr net.Error
	)
	if errors.As(err, &send) || errors.As(err, &urlErr) {
		return true
	}
	// A bare syscall.Errno is a net.Error too: without this check a missing
	// token file (ENOENT) would read as a network failure.
	if errors.As(err, &netErr) {
		_, errno := netErr.(syscall.Errno)
		return !errno
	}
	return false
}

// errorCode returns the AWS error code of err, or "".
func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// failure is the outcome of a failed step, shared by its descendants.
type failure struct {
	step     *Step
	label    string
	code     string
	caller   string
	endpoint string
	audience string
	issuer   string
	err      error
}

// outcome is what one step produced. It is written only by the step's own
// goroutine and read by others after the step's done channel is closed.
type outcome struct {
	// token and claims are set by provider steps.
	token  Secret
	claims tokenClaims
	region string
	// creds is set by identity steps.
	creds *Credentials
	fail  *failure
}

// runner holds the state of one Run.
type runner struct {
	getenv func(string) string
	log    *slog.Logger
	http   *http.Client
	red    *redactor
	sts    *stsFactory
}

// Run authenticates every step of g. A step runs once however many
// identities share it, starts as soon as its parent finished, and runs
// concurrently with independent steps, at most opts.Concurrency at a time.
// Run returns an error only when the primary identity failed (a *StepError,
// together with the Results of the others); a failed secondary is recorded
// in Results.Failures and left out of Results.Profiles and Results.Order.
func Run(ctx context.Context, g *Graph, opts RunOptions) (*Results, error) {
	if g == nil {
		return nil, errors.New("run: nil graph")
	}
	if err := checkGraph(g); err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	if opts.Getenv == nil {
		opts.Getenv = func(string) string { return "" }
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()

	red := newRedactor()
	red.add(NewSecret(opts.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN")))
	r := &runner{
		getenv: opts.Getenv,
		log:    opts.Logger,
		http:   opts.HTTPClient,
		red:    red,
	}
	r.sts = newSTSFactory(opts.Getenv, opts.Logger, red)

	outs := make(map[*Step]*outcome, len(g.Steps))
	done := make(map[*Step]chan struct{}, len(g.Steps))
	for _, s := range g.Steps {
		outs[s] = &outcome{}
		done[s] = make(chan struct{})
	}
	sem := make(chan struct{}, opts.Concurrency)
	start := time.Now()
	var wg sync.WaitGroup
	for _, s := range g.Steps {
		wg.Go(func() {
			defer close(done[s])
			out := outs[s]
			if p := s.Parent; p != nil {
				<-done[p] // the parent's goroutine honours ctx, so this ends
				if pf := outs[p].fail; pf != nil {
					out.fail = pf
					return
				}
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				out.fail = r.fail(s, "", "", ctx.Err())
				return
			}
			defer func() { <-sem }()
			var parent *outcome
			if s.Parent != nil {
				parent = outs[s.Parent]
			}
			r.runStep(ctx, s, parent, out)
		})
	}
	wg.Wait()
	r.log.Debug("authentication finished", "steps", len(g.Steps), "elapsed", time.Since(start))
	return collect(g, outs)
}

// checkGraph verifies every step has a name and its parent is in the graph
// before it.
func checkGraph(g *Graph) error {
	seen := make(map[*Step]bool, len(g.Steps))
	for _, s := range g.Steps {
		if s == nil || (s.Provider == nil) == (s.Identity == nil) {
			return errors.New("malformed step: exactly one of provider and identity must be set")
		}
		if seen[s] {
			return fmt.Errorf("step %q is planned twice", s.Key)
		}
		if s.Parent != nil && !seen[s.Parent] {
			return fmt.Errorf("step %q: parent %q is not planned before it", s.Key, s.Parent.Key)
		}
		seen[s] = true
	}
	return nil
}

// collect turns the step outcomes into Results.
func collect(g *Graph, outs map[*Step]*outcome) (*Results, error) {
	res := &Results{
		Primary:  g.Primary,
		Profiles: make(map[string]*Credentials),
		Failures: make(map[string]error),
	}
	var primaryErr error
	for _, name := range g.Targets {
		var serr *StepError
		s := g.ByKey["identity/"+name]
		out := outs[s]
		switch {
		case s == nil || out == nil:
			serr = &StepError{Identity: name, Step: name, Err: errors.New("identity was not planned")}
		case out.fail != nil:
			f := out.fail
			serr = &StepError{
				Identity: name, Step: f.label, Code: f.code, Err: f.err,
				Caller: f.caller, Endpoint: f.endpoint,
				audience: f.audience, issuer: f.issuer,
			}
			if f.step != s {
				serr.Via = f.step.Name()
				serr.viaProvider = f.step.Provider != nil
			}
		case out.creds == nil:
			serr = &StepError{Identity: name, Step: name, Err: errors.New("step produced no credentials")}
		}
		if serr != nil {
			res.Failures[name] = serr
			if name == g.Primary {
				primaryErr = serr
			}
			continue
		}
		if _, dup := res.Profiles[name]; dup {
			continue
		}
		res.Profiles[name] = out.creds
		res.Order = append(res.Order, name)
	}
	if primaryErr != nil {
		return res, primaryErr
	}
	return res, nil
}

// stepLabel is how a step is named in errors: a provider name, a role ARN,
// or the identity name.
func stepLabel(s *Step) string {
	if s.Identity != nil && s.Identity.Kind == KindAssumeRole && s.Identity.Principal.AssumeRole != "" {
		return s.Identity.Principal.AssumeRole
	}
	return s.Name()
}

// fail builds the failure of step s, redacting every known secret from err.
func (r *runner) fail(s *Step, caller, endpoint string, err error) *failure {
	return &failure{
		step:     s,
		label:    stepLabel(s),
		code:     errorCode(err),
		caller:   caller,
		endpoint: endpoint,
		err:      r.red.wrap(err),
	}
}

// runStep runs one step whose parent (if any) succeeded.
func (r *runner) runStep(ctx context.Context, s *Step, parent *outcome, out *outcome) {
	start := time.Now()
	log := r.log.With("step", s.Key)
	if p := s.Provider; p != nil {
		log.Debug("step start", "kind", p.Kind)
		tok, err := r.providerToken(ctx, p, log)
		if err != nil {
			endpoint := ""
			if p.Kind == KindGitHubOIDC {
				endpoint = oidcEndpoint(r.getenv("ACTIONS_ID_TOKEN_REQUEST_URL"))
			}
			out.fail = r.fail(s, "", endpoint, err)
			log.Debug("step failed", "elapsed", time.Since(start), "error", out.fail.err)
			return
		}
		r.red.add(tok)
		out.token = tok
		out.claims = parseClaims(tok)
		out.region = p.Region
		log.Debug("step done", "elapsed", time.Since(start), "subject", out.claims.subject, "audience", out.claims.audience)
		return
	}

	id := s.Identity
	log.Debug("step start", "kind", id.Kind)
	var (
		creds *Credentials
		err   error
	)
	switch id.Kind {
	case KindAssumeRole:
		creds, out.fail = r.assumeRole(ctx, s, parent, log)
	case KindAmbient:
		creds, err = r.ambient(ctx, id)
	case KindUser:
		creds, err = r.user(ctx, id)
	default:
		err = fmt.Errorf("unsupported identity kind %q", id.Kind)
	}
	if err != nil {
		out.fail = r.fail(s, "", "", err)
	}
	if out.fail != nil {
		log.Debug("step failed", "elapsed", time.Since(start), "code", out.fail.code, "error", out.fail.err)
		return
	}
	r.red.add(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)
	out.creds = creds
	attrs := []any{"elapsed", time.Since(start), "region", creds.Region}
	if creds.ARN != "" {
		attrs = append(attrs, "arn", creds.ARN)
	}
	if !creds.Expiration.IsZero() {
		attrs = append(attrs, "expires", creds.Expiration)
	}
	log.Debug("step done", attrs...)
}

// providerToken obtains the web-identity token of provider p.
func (r *runner) providerToken(ctx context.Context, p *Provider, log *slog.Logger) (Secret, error) {
	switch p.Kind {
	case KindGitHubOIDC:
		return r.githubToken(ctx, p, log)
	case KindEnvToken:
		return envToken(p, r.getenv)
	case KindFileToken:
		return fileToken(p, r.getenv)
	default:
		return Secret{}, fmt.Errorf("unsupported provider kind %q", p.Kind)
	}
}

// redactor removes every secret seen during a run from error texts.
type redactor struct {
	mu      sync.Mutex
	secrets []string
}

// minSecretLen keeps tiny values (which would blank out ordinary words)
// from being treated as secrets; real keys and tokens are far longer.
const minSecretLen = 6

// Patterns of secret-looking strings redacted even when not registered:
// JWTs (OIDC tokens), AWS access key ids, the values of credential keys in
// JSON ("SecretAccessKey":"…", as in credential_process output that an SDK
// error quotes) and INI or key=value form (aws_secret_access_key = …), and
// long base64 runs (secret keys, session tokens).
var (
	jwtPattern   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`) })
	keyIDPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}\b`) })
	// jsonKeyPattern matches "key": "value" for a credential key, the quotes
	// possibly backslash-escaped (JSON quoted inside a %q string); group 1
	// is everything up to the value's opening quote.
	jsonKeyPattern = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)(\\?"` + credentialKeys + `\\?"\s*:\s*\\?")(?:[^"\\]|\\[^"])*`)
	})
	// iniKeyPattern matches key = value (or key: value for the unambiguous
	// AWS names, not for a bare "token"); group 1 is up to the value. A
	// value starting with '[' is left alone: it is already [redacted].
	iniKeyPattern = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)(\b(?:` + awsCredentialKeys + `)[ \t]*[=:][ \t]*|\btoken[ \t]*=[ \t]*)(?:"[^"]*"|'[^']*'|[^\s"',;&)}\][][^\s"',;&)}\]]*)`)
	})
	// base64RunPattern matches candidates for longBase64; see there.
	base64RunPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[A-Za-z0-9/+=]{40,}`) })
)

// Names of credential keys whose values are redacted wherever they appear:
// the AWS SDKs' JSON and shared-file spellings, matched case-insensitively.
const (
	awsCredentialKeys = `aws_secret_access_key|aws_session_token|aws_access_key_id|SecretAccessKey|SessionToken|AccessKeyId`
	credentialKeys    = `(?:` + awsCredentialKeys + `|Token)`
)

// redacted replaces every secret in a text.
const redacted = "[redacted]"

func newRedactor() *redactor { return &redactor{} }

// add registers secrets to redact.
func (r *redactor) add(ss ...Secret) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range ss {
		if v := s.Reveal(); len(v) >= minSecretLen {
			r.secrets = append(r.secrets, v)
		}
	}
}

// text returns s with every registered secret and secret-looking string
// replaced by [redacted].
func (r *redactor) text(s string) string {
	r.mu.Lock()
	secrets := r.secrets
	r.mu.Unlock()
	for _, v := range secrets {
		s = strings.ReplaceAll(s, v, redacted)
	}
	return redactPatterns(s)
}

// redactPatterns replaces secret-looking strings in s: JWTs, access key
// ids, the values of credential keys and long base64 runs.
func redactPatterns(s string) string {
	s = jwtPattern().ReplaceAllString(s, redacted)
	s = keyIDPattern().ReplaceAllString(s, redacted)
	s = jsonKeyPattern().ReplaceAllString(s, "${1}"+redacted)
	s = iniKeyPattern().ReplaceAllString(s, "${1}"+redacted)
	return longBase64(s)
}

// longBase64 redacts runs of 40 or more base64 characters that look like a
// secret access key or a session token: mixing upper case, lower case and
// digits. Runs that are parts of names are left alone: those following
// ':' '.' '-' '_' '@' '~' '%' '$' or '\' (ARN resources such as
// ":role/LongRoleName", host names, file names), and absolute paths (a run
// starting with '/' that has another '/'). Hex digests (no upper case) and
// UUIDs (dashes) never match.
func longBase64(s string) string {
	locs := base64RunPattern().FindAllStringIndex(s, -1)
	if locs == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, l := range locs {
		run := s[l[0]:l[1]]
		if l[0] > 0 && strings.IndexByte(`:.-_@~%$\`, s[l[0]-1]) >= 0 {
			continue
		}
		if strings.HasPrefix(run, "/") && strings.Count(run, "/") > 1 {
			continue
		}
		if !strings.ContainsAny(run, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") ||
			!strings.ContainsAny(run, "abcdefghijklmnopqrstuvwxyz") ||
			!strings.ContainsAny(run, "0123456789") {
			continue
		}
		b.WriteString(s[last:l[0]])
		b.WriteString(redacted)
		last = l[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// wrap returns err with a redacted text; errors.Is and errors.As still see
// the original chain.
func (r *redactor) wrap(err error) error {
	if err == nil {
		return nil
	}
	return &causeError{msg: r.text(err.Error()), err: err}
}
