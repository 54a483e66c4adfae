package awsemu

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	tokenPath = "/_apis/idtoken"
	jwksPath  = "/.well-known/jwks"
	// tokenLifetime is how long issued OIDC tokens are valid, like GitHub's.
	tokenLifetime = 10 * time.Minute
)

// MintToken returns an RS256 JWT from the issuer for audience and subject
// (the configured subject when empty), for env- or file-based token
// providers.
func (e *Emulator) MintToken(audience, subject string) (string, error) {
	if subject == "" {
		subject = e.oidcSubject
	}
	if audience == "" {
		return "", fmt.Errorf("awsemu: mint token: empty audience")
	}
	now := time.Now()
	claims := jwt.MapClaims{
		"iss": e.OIDCURL(),
		"aud": audience,
		"sub": subject,
		"iat": now.Unix(),
		"nbf": now.Add(-5 * time.Second).Unix(),
		"exp": now.Add(tokenLifetime).Unix(),
		"jti": newRequestID(),
	}
	// GitHub-style claims derived from a "repo:OWNER/NAME:ref:REF" subject.
	if rest, ok := strings.CutPrefix(subject, "repo:"); ok {
		repo, tail, _ := strings.Cut(rest, ":")
		claims["repository"] = repo
		owner, _, _ := strings.Cut(repo, "/")
		claims["repository_owner"] = owner
		if ref, ok := strings.CutPrefix(tail, "ref:"); ok {
			claims["ref"] = ref
		}
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = e.keyID
	s, err := tok.SignedString(e.signingKey)
	if err != nil {
		return "", fmt.Errorf("awsemu: mint token: %w", err)
	}
	e.addSecrets(s)
	return s, nil
}

func (e *Emulator) serveOIDC(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer":                                e.OIDCURL(),
			"jwks_uri":                              e.OIDCURL() + jwksPath,
			"subject_types_supported":               []string{"public", "pairwise"},
			"response_types_supported":              []string{"id_token"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"scopes_supported":                      []string{"openid"},
			"claims_supported":                      []string{"sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "repository", "repository_owner"},
		})
	case jwksPath:
		pub := e.signingKey.PublicKey
		writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
			"kty": "RSA",
			"alg": "RS256",
			"use": "sig",
			"kid": e.keyID,
			"n":   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e":   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		}}})
	case tokenPath:
		e.serveToken(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (e *Emulator) serveToken(w http.ResponseWriter, r *http.Request) {
	e.sleep(r.Context())
	if r.Method != http.MethodGet {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"message": "method not allowed"})
		return
	}
	if takeOne(&e.oidcFailLeft) {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"message": "injected failure"})
		return
	}
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(e.requestToken)) != 1 {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "bad or missing bearer token"})
		return
	}
	aud := r.URL.Query().Get("audience")
	if aud == "" {
		// GitHub's default audience is the URL of the repository owner.
		aud = "https://github.com"
		if rest, ok := strings.CutPrefix(e.oidcSubject, "repo:"); ok {
			owner, _, _ := strings.Cut(rest, "/")
			aud += "/" + owner
		}
	}
	jwtStr, err := e.MintToken(aud, "")
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"message": "cannot mint token"})
		return
	}
	e.log.Debug("oidc token issued", "audience", aud)
	writeJSON(w, http.StatusOK, map[string]string{"value": jwtStr})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
