// Package authflow turns an Atmos-compatible `auth:` configuration into
// authenticated AWS profiles: it loads and validates the configuration,
// plans the graph of authentication steps for the primary and every
// required identity, runs that graph against STS and OIDC issuers, and
// writes the resulting profiles into private shared-credentials files.
//
// Data flows one way, each stage a plain function:
//
//	Load → Select → Plan → Run → Write → Env
package authflow

import (
	"fmt"
	"time"
)

// Provider kinds.
const (
	// KindGitHubOIDC fetches a GitHub Actions OIDC token.
	KindGitHubOIDC = "github/oidc"
	// KindEnvToken reads a web-identity token from an environment variable
	// named in the provider's spec (GitLab id_tokens, CircleCI).
	KindEnvToken = "tfauth/env-token"
	// KindFileToken reads a web-identity token from a file (EKS IRSA,
	// Kubernetes projected tokens); default $AWS_WEB_IDENTITY_TOKEN_FILE.
	KindFileToken = "tfauth/file-token"
)

// Identity kinds.
const (
	// KindAssumeRole assumes an IAM role through a provider or another identity.
	KindAssumeRole = "aws/assume-role"
	// KindAmbient uses whatever the AWS SDK's default chain finds in the
	// wrapper's own environment.
	KindAmbient = "aws/ambient"
	// KindUser uses static keys from the user's environment or a named
	// profile of the user's own shared files.
	KindUser = "aws/user"
)

// Config is a loaded and validated tfauth configuration.
type Config struct {
	// File is the path the configuration was read from.
	File string
	// Terraform holds settings about the real terraform binary.
	Terraform TerraformSettings
	// Options holds tfauth's own pipeline settings.
	Options Options
	// Providers and Identities are keyed by their exact, case-preserved names.
	Providers  map[string]*Provider
	Identities map[string]*Identity
}

// TerraformSettings locates the real terraform.
type TerraformSettings struct {
	// Path is an explicit path to the real terraform, or empty.
	Path string
	// Line is where Path was set in File (0 when unset).
	Line int
}

// Options are tfauth's own knobs, outside the Atmos schema.
type Options struct {
	// Concurrency bounds how many authentication steps run at once (default 8).
	Concurrency int
	// Timeout bounds the whole authentication pipeline (default 60s).
	Timeout time.Duration
	// UserProfiles, when true (the default), carries the user's own
	// non-colliding profiles into the generated shared files.
	UserProfiles bool
}

// Provider is an entry of auth.providers.
type Provider struct {
	Name   string
	Kind   string
	Region string
	// Audience is the OIDC audience for github/oidc (default sts.amazonaws.com).
	Audience string
	// TokenEnv names the environment variable holding the token (tfauth/env-token).
	TokenEnv string
	// TokenFile is the token file path (tfauth/file-token); empty means
	// $AWS_WEB_IDENTITY_TOKEN_FILE at run time.
	TokenFile string
	// Line is the line of the provider's name in the configuration file.
	Line int
}

// Identity is an entry of auth.identities.
type Identity struct {
	Name     string
	Kind     string
	Default  bool
	Required bool
	// ViaProvider and ViaIdentity name the parent step; at most one is set,
	// and neither for standalone kinds (aws/ambient, aws/user).
	ViaProvider string
	ViaIdentity string
	Principal   Principal
	// Profile is, for aws/user, the user's own profile to read keys from;
	// empty means the environment (AWS_ACCESS_KEY_ID and friends).
	Profile string
	// Region is the region to record in the profile, when known.
	Region string
	// SessionDuration is session.duration, when set.
	SessionDuration time.Duration
	// Env is the identity's env: list, in order.
	Env []EnvVar
	// Line is the line of the identity's name in the configuration file.
	Line int
}

// Principal holds the aws/assume-role principal settings.
type Principal struct {
	AssumeRole     string
	SessionName    string
	ExternalID     string
	Duration       time.Duration
	Region         string
	Tags           map[string]string
	SourceIdentity string
}

// EnvVar is one key/value pair of an identity's env: list.
type EnvVar struct {
	Key   string
	Value string
}

// Secret holds a sensitive string. Every formatting path prints a redacted
// form, so a stray %v or %+v cannot leak it; Reveal returns the value.
type Secret struct{ v string }

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{v: s} }

// Reveal returns the secret value. Call it only where the value is written
// to its destination (an HTTP request, a 0600 credentials file).
func (s Secret) Reveal() string { return s.v }

// Empty reports whether the secret is empty.
func (s Secret) Empty() bool { return s.v == "" }

// String returns a redacted form.
func (s Secret) String() string {
	if s.v == "" {
		return ""
	}
	return "[redacted]"
}

// GoString returns a redacted form for %#v.
func (s Secret) GoString() string { return s.String() }

// Format implements fmt.Formatter so every verb prints the redacted form.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// MarshalText returns the redacted form, so encoders cannot leak the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Credentials are AWS credentials for one identity.
type Credentials struct {
	AccessKeyID     Secret
	SecretAccessKey Secret
	SessionToken    Secret
	// Expiration is zero for credentials that do not expire.
	Expiration time.Time
	// Region is the region to record in the profile, or empty.
	Region string
	// ARN is the principal's ARN when known (assumed-role ARN from STS).
	ARN string
}

// Step is one distinct node of the authentication graph: a provider, or an
// identity whose parent is Parent (nil for providers and standalone kinds).
// Steps are keyed by name, so identities sharing a chain share its steps.
type Step struct {
	// Key is unique in the graph: "provider/<name>" or "identity/<name>".
	Key      string
	Provider *Provider
	Identity *Identity
	Parent   *Step
}

// Name returns the provider's or identity's name.
func (s *Step) Name() string {
	if s.Provider != nil {
		return s.Provider.Name
	}
	return s.Identity.Name
}

// Graph is the plan of one run: every step needed by the primary and the
// required identities, each once.
type Graph struct {
	// Primary is the primary identity's name.
	Primary string
	// Targets are the identities to write as profiles: the primary first,
	// then the other required identities sorted by name.
	Targets []string
	// Steps holds every step, parents before children.
	Steps []*Step
	// ByKey indexes Steps.
	ByKey map[string]*Step
}

// Results is the outcome of running a Graph.
type Results struct {
	// Primary is the primary identity's name.
	Primary string
	// Profiles holds the credentials of every target identity that
	// succeeded (intermediate identities that are not targets are left out).
	Profiles map[string]*Credentials
	// Failures holds the error of every target identity that failed.
	Failures map[string]error
	// Order lists the succeeded target identities: primary first, then sorted.
	Order []string
}
