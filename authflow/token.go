package authflow

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxTokenSize bounds how much of a token file or response is read.
const maxTokenSize = 1 << 20

// envToken reads the web-identity token of a tfauth/env-token provider from
// the environment variable the provider names.
func envToken(p *Provider, getenv func(string) string) (Secret, error) {
	if p.TokenEnv == "" {
		return Secret{}, errors.New("the tfauth/env-token provider names no environment variable; set its spec.env")
	}
	tok := strings.TrimSpace(getenv(p.TokenEnv))
	if tok == "" {
		return Secret{}, fmt.Errorf("environment variable %s is unset or empty; export the CI's OIDC token there (e.g. GitLab id_tokens)", p.TokenEnv)
	}
	return NewSecret(tok), nil
}

// fileToken reads the web-identity token of a tfauth/file-token provider from
// its file, by default $AWS_WEB_IDENTITY_TOKEN_FILE.
func fileToken(p *Provider, getenv func(string) string) (Secret, error) {
	path := p.TokenFile
	if path == "" {
		path = getenv("AWS_WEB_IDENTITY_TOKEN_FILE")
	}
	if path == "" {
		return Secret{}, errors.New("file-token provider has no token file and AWS_WEB_IDENTITY_TOKEN_FILE is unset")
	}
	f, err := os.Open(path)
	if err != nil {
		return Secret{}, fmt.Errorf("read the web identity token: %w; check the provider's spec.file (default: $AWS_WEB_IDENTITY_TOKEN_FILE)", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxTokenSize+1))
	if err != nil {
		return Secret{}, fmt.Errorf("read token file %s: %w", path, err)
	}
	if len(b) > maxTokenSize {
		return Secret{}, fmt.Errorf("token file %s is larger than %d bytes", path, maxTokenSize)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return Secret{}, fmt.Errorf("token file %s is empty", path)
	}
	return NewSecret(tok), nil
}

// tokenClaims are the non-secret claims of a web-identity token, used in log
// lines and error hints.
type tokenClaims struct {
	subject  string
	audience string
	issuer   string
}

// parseClaims reads the claims of a JWT without verifying it (STS verifies
// it): the base64url-decoded JSON of its middle segment. An opaque or
// malformed token gives empty claims; a claim of the wrong type is left
// empty. The audience may be one string or a list, joined with ",".
func parseClaims(tok Secret) tokenClaims {
	parts := strings.Split(tok.Reveal(), ".")
	if len(parts) != 3 {
		return tokenClaims{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return tokenClaims{}
	}
	var raw struct {
		Subject  json.RawMessage `json:"sub"`
		Issuer   json.RawMessage `json:"iss"`
		Audience json.RawMessage `json:"aud"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil {
		return tokenClaims{}
	}
	var c tokenClaims
	_ = json.Unmarshal(raw.Subject, &c.subject)
	_ = json.Unmarshal(raw.Issuer, &c.issuer)
	var aud []string
	if json.Unmarshal(raw.Audience, &c.audience) != nil && json.Unmarshal(raw.Audience, &aud) == nil {
		c.audience = strings.Join(aud, ",")
	}
	return c
}

// describe names the token's principal for hints: its subject and issuer.
func (c tokenClaims) describe() string {
	if c.subject == "" {
		return ""
	}
	if c.issuer == "" {
		return fmt.Sprintf("OIDC subject %q", c.subject)
	}
	return fmt.Sprintf("OIDC subject %q of issuer %s", c.subject, c.issuer)
}
