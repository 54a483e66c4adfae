package awsemu_test

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/golang-jwt/jwt/v5"
)

// fetchToken does what GitHub's toolkit does: GET the request URL with
// "&audience=" appended and a bearer token.
func fetchToken(t *testing.T, url, bearer string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Value string `json:"value"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Value
}

func TestOIDCTokenRequest(t *testing.T) {
	e := startEmu(t, testConfig())
	url := e.OIDCRequestURL() + "&audience=sts.amazonaws.com"
	if !strings.Contains(e.OIDCRequestURL(), "?") {
		t.Fatalf("OIDCRequestURL %q has no query", e.OIDCRequestURL())
	}
	tests := []struct {
		name       string
		bearer     string
		wantStatus int
	}{
		{"good", "bearer " + e.OIDCRequestToken(), 200},
		{"capitalised scheme", "Bearer " + e.OIDCRequestToken(), 200},
		{"missing", "", 401},
		{"wrong token", "bearer " + e.OIDCRequestToken() + "x", 401},
		{"wrong scheme", "Basic " + e.OIDCRequestToken(), 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, tok := fetchToken(t, url, tt.bearer)
			if status != tt.wantStatus {
				t.Fatalf("status %d; want %d", status, tt.wantStatus)
			}
			if status != 200 {
				return
			}
			// The fetched token is accepted by STS.
			out, err := stsClient(e, nil).AssumeRoleWithWebIdentity(context.Background(), &sts.AssumeRoleWithWebIdentityInput{
				RoleArn: aws.String(hubRole), RoleSessionName: aws.String("gha"), WebIdentityToken: aws.String(tok)})
			if err != nil {
				t.Fatalf("AssumeRoleWithWebIdentity with fetched token: %v", err)
			}
			if got := aws.ToString(out.SubjectFromWebIdentityToken); got != "repo:example/infra:ref:refs/heads/main" {
				t.Errorf("SubjectFromWebIdentityToken = %q", got)
			}
		})
	}
}

func TestOIDCDiscoveryAndClaims(t *testing.T) {
	cfg := testConfig()
	cfg.OIDC.Subject = "repo:acme/net:environment:prod"
	cfg.OIDC.RequestToken = "fixed-request-token"
	e := startEmu(t, cfg)
	if e.OIDCRequestToken() != "fixed-request-token" {
		t.Errorf("OIDCRequestToken = %q; want the configured one", e.OIDCRequestToken())
	}

	var disco struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	getJSON(t, e.OIDCURL()+"/.well-known/openid-configuration", &disco)
	if disco.Issuer != e.OIDCURL() {
		t.Errorf("issuer = %q; want %q", disco.Issuer, e.OIDCURL())
	}
	var jwks struct {
		Keys []struct{ Kty, Kid, N, E, Alg string } `json:"keys"`
	}
	getJSON(t, disco.JWKSURI, &jwks)
	if len(jwks.Keys) != 1 || jwks.Keys[0].Kty != "RSA" || jwks.Keys[0].Alg != "RS256" {
		t.Fatalf("JWKS = %+v; want one RSA RS256 key", jwks)
	}
	k := jwks.Keys[0]
	n, _ := base64.RawURLEncoding.DecodeString(k.N)
	ex, _ := base64.RawURLEncoding.DecodeString(k.E)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(ex).Int64())}

	// Without an audience parameter GitHub uses the owner's URL.
	status, tok := fetchToken(t, e.OIDCRequestURL(), "bearer fixed-request-token")
	if status != 200 {
		t.Fatalf("token request: %d", status)
	}
	claims := jwt.MapClaims{}
	parsed, err := jwt.ParseWithClaims(tok, claims, func(tk *jwt.Token) (any, error) {
		if tk.Header["kid"] != k.Kid {
			t.Errorf("kid %v; want %q", tk.Header["kid"], k.Kid)
		}
		return pub, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(e.OIDCURL()), jwt.WithAudience("https://github.com/acme"))
	if err != nil || !parsed.Valid {
		t.Fatalf("token does not verify against the JWKS: %v", err)
	}
	if claims["sub"] != "repo:acme/net:environment:prod" || claims["repository"] != "acme/net" || claims["jti"] == "" {
		t.Errorf("claims = %v", claims)
	}
	exp, _ := claims.GetExpirationTime()
	if d := time.Until(exp.Time); d < 9*time.Minute || d > 10*time.Minute+time.Second {
		t.Errorf("token expires in %v; want 10m", d)
	}
	for _, c := range []string{"iat", "nbf"} {
		if _, ok := claims[c]; !ok {
			t.Errorf("claim %s missing", c)
		}
	}
	if _, err := e.MintToken("", ""); err == nil {
		t.Error("MintToken with empty audience succeeded")
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

func TestFailOIDCAndLatency(t *testing.T) {
	e := startEmu(t, testConfig())
	url := e.OIDCRequestURL() + "&audience=sts.amazonaws.com"
	bearer := "bearer " + e.OIDCRequestToken()
	e.FailOIDC(2)
	var got []int
	for range 3 {
		status, _ := fetchToken(t, url, bearer)
		got = append(got, status)
	}
	if want := []int{500, 500, 200}; !slices.Equal(got, want) {
		t.Errorf("statuses %v; want %v", got, want)
	}
	e.SetLatency(200 * time.Millisecond)
	start := time.Now()
	if status, _ := fetchToken(t, url, bearer); status != 200 {
		t.Errorf("status %d", status)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("token request took %v; want the 200ms latency", d)
	}
}
