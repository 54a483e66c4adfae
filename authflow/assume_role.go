package authflow

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// DefaultSTSRegion is the STS region used when neither the identity nor any
// ancestor names one, for a role in the commercial partition (arn:aws:).
// Roles of other partitions use that partition's; see PartitionSTSRegion.
const DefaultSTSRegion = "us-east-1"

// PartitionSTSRegion returns the STS region to call for a role (or
// principal) ARN when none is configured: the first region of the ARN's
// partition (us-gov-west-1 for arn:aws-us-gov:, cn-north-1 for arn:aws-cn:),
// else DefaultSTSRegion.
func PartitionSTSRegion(arn string) string {
	partition, _, _ := strings.Cut(strings.TrimPrefix(arn, "arn:"), ":")
	switch partition {
	case "aws-us-gov":
		return "us-gov-west-1"
	case "aws-cn":
		return "cn-north-1"
	case "aws-iso":
		return "us-iso-east-1"
	case "aws-iso-b":
		return "us-isob-east-1"
	}
	return DefaultSTSRegion
}

// Session-name rules of STS: [\w+=,.@-], 2 to 64 characters.
const maxSessionName = 64

var (
	sessionNameInvalid = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^\w+=,.@-]`) })
	sessionNameValid   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w+=,.@-]{2,64}$`) })
)

// isFailFast reports whether an STS error code is one that retrying cannot
// fix. The SDK's standard retryer does not retry these either; checking them
// first makes that a guarantee (stscreds' web identity provider, for one,
// retries InvalidIdentityToken).
func isFailFast(code string) bool {
	switch code {
	case "AccessDenied", "AccessDeniedException", "ValidationError",
		"InvalidIdentityToken", "InvalidIdentityTokenException", "IDPRejectedClaim",
		"ExpiredToken", "ExpiredTokenException", "MalformedPolicyDocument",
		"PackedPolicyTooLarge", "RegionDisabledException":
		return true
	}
	return false
}

// stsFactory builds STS clients isolated from the user's AWS configuration:
// no shared files, no AWS_PROFILE, no environment keys. Only the SDK's
// endpoint, retry, FIPS/dual-stack and CA-bundle settings are honoured, read
// through Getenv.
//
// Hand-written: config.LoadDefaultConfig reads those settings too, but only
// from the process environment and together with AWS_PROFILE, which fails
// the load when it names a profile that is missing from the (empty) shared
// files.
type stsFactory struct {
	endpoint    string // AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL, or ""
	maxAttempts int
	mode        aws.RetryMode
	fips        aws.FIPSEndpointState
	dualStack   aws.DualStackEndpointState
	settingsErr error
	// httpClient builds the clients' HTTP client on first use, once: with
	// AWS_CA_BUNDLE that means reading the system pool and parsing the
	// bundle, which a run without STS steps never pays for.
	httpClient func() (*awshttp.BuildableClient, error)
	logger     logging.Logger
	retryer    aws.Retryer
}

// newSTSFactory reads the SDK settings from getenv. An invalid setting is
// reported by every STS step rather than ignored.
func newSTSFactory(getenv func(string) string, log *slog.Logger, red *redactor) *stsFactory {
	f := &stsFactory{}
	var errs []error
	if b, ok, err := envBool(getenv, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"); err != nil {
		errs = append(errs, err)
	} else if !ok || !b {
		f.endpoint = getenv("AWS_ENDPOINT_URL_STS")
		if f.endpoint == "" {
			f.endpoint = getenv("AWS_ENDPOINT_URL")
		}
	}
	if v := getenv("AWS_MAX_ATTEMPTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("invalid AWS_MAX_ATTEMPTS %q: need a positive integer", v))
		}
		f.maxAttempts = n
	}
	if v := getenv("AWS_RETRY_MODE"); v != "" {
		m, err := aws.ParseRetryMode(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("invalid AWS_RETRY_MODE: %w", err))
		}
		f.mode = m
	}
	if b, ok, err := envBool(getenv, "AWS_USE_FIPS_ENDPOINT"); err != nil {
		errs = append(errs, err)
	} else if ok && b {
		f.fips = aws.FIPSEndpointStateEnabled
	}
	if b, ok, err := envBool(getenv, "AWS_USE_DUALSTACK_ENDPOINT"); err != nil {
		errs = append(errs, err)
	} else if ok && b {
		f.dualStack = aws.DualStackEndpointStateEnabled
	}
	caBundle := getenv("AWS_CA_BUNDLE")
	f.httpClient = sync.OnceValues(func() (*awshttp.BuildableClient, error) { return newHTTPClient(caBundle) })
	f.settingsErr = errors.Join(errs...)
	f.logger = logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		log.Debug(red.text(fmt.Sprintf(format, v...)), "source", "aws-sdk", "class", string(c))
	})
	f.retryer = f.newRetryer()
	return f
}

// newHTTPClient returns the SDK's HTTP client, trusting the certificates of
// the PEM file caBundle besides the system's when caBundle is not "".
func newHTTPClient(caBundle string) (*awshttp.BuildableClient, error) {
	c := awshttp.NewBuildableClient()
	if caBundle == "" {
		return c, nil
	}
	pem, err := os.ReadFile(caBundle)
	if err != nil {
		return nil, fmt.Errorf("AWS_CA_BUNDLE: %w", err)
	}
	pool, _ := x509.SystemCertPool()
	if pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("AWS_CA_BUNDLE %s: no PEM certificates found", caBundle)
	}
	return c.WithTransportOptions(func(t *http.Transport) {
		if t.TLSClientConfig == nil {
			t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		t.TLSClientConfig.RootCAs = pool
	}), nil
}

// envBool parses an SDK boolean setting ("true"/"false", any case).
func envBool(getenv func(string) string, key string) (value, ok bool, err error) {
	v := getenv(key)
	switch {
	case v == "":
		return false, false, nil
	case strings.EqualFold(v, "true"):
		return true, true, nil
	case strings.EqualFold(v, "false"):
		return false, true, nil
	}
	return false, false, fmt.Errorf("invalid %s %q: need true or false", key, v)
}

// newRetryer builds the SDK's standard (or adaptive) retryer, shared by the
// run's clients so they share its retry budget, with the isFailFast codes never
// retried.
func (f *stsFactory) newRetryer() aws.Retryer {
	std := func(o *retry.StandardOptions) {
		if f.maxAttempts > 0 {
			o.MaxAttempts = f.maxAttempts
		}
		failFast := retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			if isFailFast(errorCode(err)) {
				return aws.FalseTernary
			}
			return aws.UnknownTernary
		})
		o.Retryables = append([]retry.IsErrorRetryable{failFast}, o.Retryables...)
	}
	if f.mode == aws.RetryModeAdaptive {
		return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
			o.StandardOptions = append(o.StandardOptions, std)
		})
	}
	return retry.NewStandard(std)
}

// client returns an STS client for region, signing with creds (nil for the
// unsigned AssumeRoleWithWebIdentity).
func (f *stsFactory) client(region string, creds aws.CredentialsProvider) (*sts.Client, error) {
	httpClient, err := f.httpClient()
	if err := errors.Join(f.settingsErr, err); err != nil {
		return nil, err
	}
	o := sts.Options{
		Region:        region,
		Credentials:   creds,
		Retryer:       f.retryer,
		HTTPClient:    httpClient,
		Logger:        f.logger,
		ClientLogMode: aws.LogRetries, // never LogRequest/LogResponse: bodies hold secrets
	}
	if f.endpoint != "" {
		o.BaseEndpoint = aws.String(f.endpoint)
	}
	o.EndpointOptions.UseFIPSEndpoint = f.fips
	o.EndpointOptions.UseDualStackEndpoint = f.dualStack
	return sts.New(o), nil
}

// describeEndpoint names the endpoint STS calls go to, for logs and hints.
func (f *stsFactory) describeEndpoint(region string) string {
	if f.endpoint != "" {
		return f.endpoint
	}
	suffix := "amazonaws.com"
	switch {
	case strings.HasPrefix(region, "cn-"):
		suffix = "amazonaws.com.cn"
	case strings.HasPrefix(region, "us-iso-"):
		suffix = "c2s.ic.gov"
	case strings.HasPrefix(region, "us-isob-"):
		suffix = "sc2s.sgov.gov"
	}
	return "https://sts." + region + "." + suffix
}

// assumeRole runs an aws/assume-role step: AssumeRoleWithWebIdentity when
// the parent is a provider, AssumeRole signed by the parent's credentials
// when it is an identity.
func (r *runner) assumeRole(ctx context.Context, s *Step, parent *outcome, log *slog.Logger) (*Credentials, *failure) {
	id := s.Identity
	p := id.Principal
	if s.Parent == nil || parent == nil {
		return nil, r.fail(s, "", "", errors.New("aws/assume-role needs a parent provider or identity (via)"))
	}
	if p.AssumeRole == "" {
		return nil, r.fail(s, "", "", errors.New("principal.assume_role is empty"))
	}
	sessionName, err := roleSessionName(id)
	if err != nil {
		return nil, r.fail(s, "", "", err)
	}
	duration, err := durationSeconds(id)
	if err != nil {
		return nil, r.fail(s, "", "", err)
	}
	profileRegion := cmp.Or(p.Region, id.Region, parentRegion(parent))
	stsRegion := cmp.Or(profileRegion, PartitionSTSRegion(p.AssumeRole))
	endpoint := r.sts.describeEndpoint(stsRegion)

	if s.Parent.Provider != nil {
		caller := parent.claims.describe()
		fail := func(err error) *failure {
			f := r.fail(s, caller, endpoint, err)
			f.audience, f.issuer = parent.claims.audience, parent.claims.issuer
			return f
		}
		if p.ExternalID != "" || len(p.Tags) > 0 || p.SourceIdentity != "" {
			return nil, fail(errors.New("external_id, tags and source_identity cannot be used with a web identity; " +
				"AssumeRoleWithWebIdentity takes them from the token's claims"))
		}
		client, err := r.sts.client(stsRegion, nil)
		if err != nil {
			return nil, fail(err)
		}
		log.Debug("assume role with web identity", "role", p.AssumeRole, "session", sessionName, "region", stsRegion, "endpoint", endpoint)
		out, err := client.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
			RoleArn:          aws.String(p.AssumeRole),
			RoleSessionName:  aws.String(sessionName),
			WebIdentityToken: aws.String(parent.token.Reveal()),
			DurationSeconds:  duration,
		})
		if err != nil {
			return nil, fail(stsError("assume role "+p.AssumeRole+" with web identity", err))
		}
		creds, err := stsCredentials(out.Credentials, out.AssumedRoleUser, profileRegion)
		if err != nil {
			return nil, fail(err)
		}
		return creds, nil
	}

	pc := parent.creds
	caller := pc.ARN
	if caller == "" {
		caller = fmt.Sprintf("the principal of identity %q", s.Parent.Name())
	}
	duration = chainedDuration(duration, pc, log)
	client, err := r.sts.client(stsRegion, credentials.NewStaticCredentialsProvider(
		pc.AccessKeyID.Reveal(), pc.SecretAccessKey.Reveal(), pc.SessionToken.Reveal()))
	if err != nil {
		return nil, r.fail(s, caller, endpoint, err)
	}
	in := &sts.AssumeRoleInput{
		RoleArn:         aws.String(p.AssumeRole),
		RoleSessionName: aws.String(sessionName),
		DurationSeconds: duration,
	}
	if p.ExternalID != "" {
		in.ExternalId = aws.String(p.ExternalID)
	}
	if p.SourceIdentity != "" {
		in.SourceIdentity = aws.String(p.SourceIdentity)
	}
	for _, k := range slices.Sorted(maps.Keys(p.Tags)) {
		in.Tags = append(in.Tags, ststypes.Tag{Key: aws.String(k), Value: aws.String(p.Tags[k])})
	}
	log.Debug("assume role", "role", p.AssumeRole, "caller", caller, "session", sessionName, "region", stsRegion, "endpoint", endpoint)
	out, err := client.AssumeRole(ctx, in)
	if err != nil {
		return nil, r.fail(s, caller, endpoint, stsError("assume role "+p.AssumeRole, err))
	}
	creds, err := stsCredentials(out.Credentials, out.AssumedRoleUser, profileRegion)
	if err != nil {
		return nil, r.fail(s, caller, endpoint, err)
	}
	return creds, nil
}

// stsCredentials converts an STS reply.
func stsCredentials(c *ststypes.Credentials, u *ststypes.AssumedRoleUser, region string) (*Credentials, error) {
	if c == nil || aws.ToString(c.AccessKeyId) == "" || aws.ToString(c.SecretAccessKey) == "" {
		return nil, errors.New("STS reply has no credentials")
	}
	creds := &Credentials{
		AccessKeyID:     NewSecret(aws.ToString(c.AccessKeyId)),
		SecretAccessKey: NewSecret(aws.ToString(c.SecretAccessKey)),
		SessionToken:    NewSecret(aws.ToString(c.SessionToken)),
		Expiration:      aws.ToTime(c.Expiration),
		Region:          region,
	}
	if u != nil {
		creds.ARN = aws.ToString(u.Arn)
	}
	return creds, nil
}

// parentRegion is the region its parent step recorded.
func parentRegion(parent *outcome) string {
	if parent.creds != nil {
		return parent.creds.Region
	}
	return parent.region
}

// roleSessionName returns the configured session name (which must be valid)
// or tfauth-<identity> made valid.
func roleSessionName(id *Identity) (string, error) {
	if n := id.Principal.SessionName; n != "" {
		if !sessionNameValid().MatchString(n) {
			return "", fmt.Errorf("principal.session_name %q must be 2-64 characters of [A-Za-z0-9_+=,.@-]", n)
		}
		return n, nil
	}
	return SessionName(id.Name), nil
}

// SessionName returns the default role session name of an identity:
// "tfauth-<identity>" with characters STS rejects replaced by "-", cut to 64.
func SessionName(identity string) string {
	n := sessionNameInvalid().ReplaceAllString("tfauth-"+identity, "-")
	if len(n) > maxSessionName {
		n = n[:maxSessionName]
	}
	return n
}

// durationSeconds returns principal.duration, else session.duration, in
// seconds, or nil for the STS default (1h).
func durationSeconds(id *Identity) (*int32, error) {
	d := id.Principal.Duration
	if d == 0 {
		d = id.SessionDuration
	}
	if d == 0 {
		return nil, nil
	}
	if d < 15*time.Minute || d > 12*time.Hour {
		return nil, fmt.Errorf("session duration %s is outside STS's 15m to 12h", d)
	}
	return aws.Int32(int32(d / time.Second)), nil
}

// chainedDuration caps a requested duration at one hour when the parent's
// credentials are a session (they carry a session token): AWS refuses
// longer sessions for roles assumed with role credentials. Validation
// rejects such durations under an aws/assume-role parent; an aws/ambient or
// aws/user parent may or may not be a session, which only the run knows,
// so there the duration is lowered rather than failed.
func chainedDuration(d *int32, parent *Credentials, log *slog.Logger) *int32 {
	limit := int32(roleChainLimit / time.Second)
	if d == nil || *d <= limit || parent.SessionToken.Empty() {
		return d
	}
	log.Debug("lowering the session duration to 1h: the parent credentials are a session, and AWS caps role chaining at one hour",
		"requested", time.Duration(*d)*time.Second)
	return aws.Int32(limit)
}

// stsError rewrites an SDK error in a few words, "op: Code: message
// (request ID x, n attempts)", instead of the SDK's layered text, keeping
// the SDK error as the cause for errors.As.
func stsError(op string, err error) error {
	var (
		api      smithy.APIError
		attempts *retry.MaxAttemptsError
		resp     *awshttp.ResponseError
		send     *smithyhttp.RequestSendError
	)
	var extra []string
	if errors.As(err, &resp) && resp.ServiceRequestID() != "" {
		extra = append(extra, "request ID "+resp.ServiceRequestID())
	}
	if errors.As(err, &attempts) {
		if attempts.Attempt == 1 {
			extra = append(extra, "1 attempt")
		} else {
			extra = append(extra, fmt.Sprintf("%d attempts", attempts.Attempt))
		}
	}
	suffix := ""
	if len(extra) > 0 {
		suffix = " (" + strings.Join(extra, ", ") + ")"
	}
	switch {
	case errors.As(err, &api):
		return &causeError{msg: fmt.Sprintf("%s: %s: %s%s", op, api.ErrorCode(), api.ErrorMessage(), suffix), err: err}
	case errors.As(err, &send):
		return &causeError{msg: fmt.Sprintf("%s: cannot reach STS: %v%s", op, send.Err, suffix), err: err}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// causeError is an error with its own text and an underlying cause.
type causeError struct {
	msg string
	err error
}

func (e *causeError) Error() string { return e.msg }
func (e *causeError) Unwrap() error { return e.err }
