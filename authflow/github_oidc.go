package authflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultAudience is the OIDC audience requested when a github/oidc provider
// names none.
const DefaultAudience = "sts.amazonaws.com"

// GitHub OIDC request tuning. The retry loop is hand-written: the AWS SDK's
// retryer is tied to its own middleware stack and net/http has none.
const (
	oidcAttempts       = 4
	oidcBaseDelay      = 200 * time.Millisecond
	oidcMaxDelay       = 2 * time.Second
	oidcAttemptTimeout = 15 * time.Second
)

// githubToken fetches a GitHub Actions OIDC token for p's audience.
func (r *runner) githubToken(ctx context.Context, p *Provider, log *slog.Logger) (Secret, error) {
	rawURL := r.getenv("ACTIONS_ID_TOKEN_REQUEST_URL")
	reqTok := NewSecret(r.getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN"))
	if rawURL == "" || reqTok.Empty() {
		return Secret{}, errors.New("ACTIONS_ID_TOKEN_REQUEST_URL or ACTIONS_ID_TOKEN_REQUEST_TOKEN is not set; " +
			"run in GitHub Actions and grant the job `permissions: id-token: write`")
	}
	aud := p.Audience
	if aud == "" {
		aud = DefaultAudience
	}
	u, err := oidcRequestURL(rawURL, aud)
	if err != nil {
		return Secret{}, err
	}
	where := oidcEndpoint(rawURL)
	log.Debug("requesting OIDC token", "endpoint", where, "audience", aud)

	var lastErr error
	for attempt := 1; attempt <= oidcAttempts; attempt++ {
		if attempt > 1 {
			d := jitter(attempt - 1)
			log.Debug("retrying OIDC token request", "attempt", attempt, "delay", d, "error", r.red.text(lastErr.Error()))
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return Secret{}, fmt.Errorf("OIDC token request to %s: %w (last error: %v)", where, ctx.Err(), lastErr)
			case <-t.C:
			}
		}
		tok, retry, err := r.fetchOIDC(ctx, u, reqTok)
		if err == nil {
			return tok, nil
		}
		lastErr = err
		if !retry || ctx.Err() != nil {
			break
		}
	}
	return Secret{}, fmt.Errorf("OIDC token request to %s: %w", where, lastErr)
}

// fetchOIDC makes one token request. retry reports whether the failure is
// transient (network error, 429, 5xx).
func (r *runner) fetchOIDC(ctx context.Context, u *url.URL, reqTok Secret) (tok Secret, retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, oidcAttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Secret{}, false, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "bearer "+reqTok.Reveal())
	req.Header.Set("Accept", "application/json")
	resp, err := r.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is reported by the caller, without its query
		}
		return Secret{}, true, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenSize))
	if err != nil {
		return Secret{}, true, fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("HTTP %s: %s", resp.Status, snippet(body))
		retry := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			err = fmt.Errorf("%w; the request token is rejected: check `permissions: id-token: write` and that the job is still running", err)
		}
		return Secret{}, retry, err
	}
	var v struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return Secret{}, false, fmt.Errorf("decode response: %w", err)
	}
	if v.Value == "" {
		return Secret{}, false, errors.New("response has no token value")
	}
	return NewSecret(v.Value), false, nil
}

// oidcRequestURL adds the audience to the request URL and checks it is https
// (plain http only to a loopback host, for tests and local emulators).
func oidcRequestURL(raw, audience string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("ACTIONS_ID_TOKEN_REQUEST_URL is not a valid URL")
	}
	if u.Host == "" {
		return nil, errors.New("ACTIONS_ID_TOKEN_REQUEST_URL has no host")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("ACTIONS_ID_TOKEN_REQUEST_URL must use https (plain http only to a loopback host, not %s)", u.Hostname())
		}
	default:
		return nil, fmt.Errorf("ACTIONS_ID_TOKEN_REQUEST_URL must use https, not %q", u.Scheme)
	}
	q := u.Query()
	q.Set("audience", audience)
	u.RawQuery = q.Encode()
	return u, nil
}

// isLoopback reports whether host is localhost or a loopback address
// (127.0.0.0/8, ::1).
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// jitter returns a full-jitter exponential delay for the given retry number.
func jitter(retry int) time.Duration {
	ceil := oidcBaseDelay << (retry - 1)
	if ceil > oidcMaxDelay || ceil <= 0 {
		ceil = oidcMaxDelay
	}
	return time.Duration(rand.Int64N(int64(ceil))) + time.Millisecond
}

// snippet returns a short single-line excerpt of a response body.
func snippet(b []byte) string {
	const limit = 200
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}

// oidcEndpoint is the token request URL without its query, as shown in logs
// and errors.
func oidcEndpoint(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host + u.Path
}
