package authflow

import (
	"encoding/base64"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// fakeNetErr is a net.Error, as a failed dial is.
type fakeNetErr struct{}

func (fakeNetErr) Error() string   { return "dial tcp: connection refused" }
func (fakeNetErr) Timeout() bool   { return false }
func (fakeNetErr) Temporary() bool { return false }

var _ net.Error = fakeNetErr{}

func TestOIDCRequestURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw, want, err string
	}{
		{"https://token.actions.githubusercontent.com/x?api-version=2.0", "https://token.actions.githubusercontent.com/x?api-version=2.0&audience=sts.amazonaws.com", ""},
		{"https://h/x", "https://h/x?audience=sts.amazonaws.com", ""},
		{"http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x?audience=sts.amazonaws.com", ""},
		{"http://127.9.9.9/x", "http://127.9.9.9/x?audience=sts.amazonaws.com", ""},
		{"http://[::1]:80/x", "http://[::1]:80/x?audience=sts.amazonaws.com", ""},
		{"http://LocalHost/x", "http://LocalHost/x?audience=sts.amazonaws.com", ""},
		{"http://example.com/x", "", "must use https"},
		{"http://10.0.0.1/x", "", "must use https"},
		{"ftp://h/x", "", "must use https"},
		{"/relative", "", "no host"},
	} {
		u, err := oidcRequestURL(tc.raw, "sts.amazonaws.com")
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("oidcRequestURL(%q) error = %v; want %q", tc.raw, err, tc.err)
			}
		case err != nil:
			t.Errorf("oidcRequestURL(%q): %v", tc.raw, err)
		case u.String() != tc.want:
			t.Errorf("oidcRequestURL(%q) = %q; want %q", tc.raw, u, tc.want)
		}
	}
}

func TestJitter(t *testing.T) {
	t.Parallel()
	for retry := 1; retry < 10; retry++ {
		for range 50 {
			if d := jitter(retry); d <= 0 || d > oidcMaxDelay+time.Millisecond {
				t.Fatalf("jitter(%d) = %v", retry, d)
			}
		}
	}
}

func TestParseClaims(t *testing.T) {
	t.Parallel()
	// {"alg":"none"}.{"sub":"repo:o/r:ref:refs/heads/main","aud":"sts.amazonaws.com","iss":"https://i"}.
	tok := "eyJhbGciOiJub25lIn0.eyJzdWIiOiJyZXBvOm8vcjpyZWY6cmVmcy9oZWFkcy9tYWluIiwiYXVkIjoic3RzLmFtYXpvbmF3cy5jb20iLCJpc3MiOiJodHRwczovL2kifQ."
	c := parseClaims(NewSecret(tok))
	if c.subject != "repo:o/r:ref:refs/heads/main" || c.audience != "sts.amazonaws.com" || c.issuer != "https://i" {
		t.Errorf("claims = %+v", c)
	}
	if c := parseClaims(NewSecret("opaque")); c != (tokenClaims{}) {
		t.Errorf("opaque token claims = %+v", c)
	}
	seg := func(json string) string { return base64.RawURLEncoding.EncodeToString([]byte(json)) }
	header := seg(`{"alg":"RS256","typ":"JWT"}`)
	for _, tc := range []struct {
		name, tok string
		want      tokenClaims
	}{
		{"audience list", header + "." + seg(`{"sub":"s","aud":["a","b"],"iss":"https://i"}`) + ".sig",
			tokenClaims{subject: "s", audience: "a,b", issuer: "https://i"}},
		{"padded payload", header + "." + base64.URLEncoding.EncodeToString([]byte(`{"sub":"pad"}`)) + ".sig", tokenClaims{subject: "pad"}},
		{"wrong types", header + "." + seg(`{"sub":7,"aud":[1],"iss":{"x":1}}`) + ".sig", tokenClaims{}},
		{"not JSON", header + "." + seg(`sub=s`) + ".sig", tokenClaims{}},
		{"not base64url", header + ".***.sig", tokenClaims{}},
		{"two segments", header + "." + seg(`{"sub":"s"}`), tokenClaims{}},
	} {
		if c := parseClaims(NewSecret(tc.tok)); c != tc.want {
			t.Errorf("%s: claims = %+v; want %+v", tc.name, c, tc.want)
		}
	}
}
