package awsemu

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file verifies AWS Signature Version 4. The canonical request is
// written by hand, following the SigV4 specification, rather than by
// re-signing with the SDK's v4.Signer: the signer chooses which headers to
// sign by its own rules, whereas a verifier must use exactly the headers the
// client listed in SignedHeaders, whichever SDK generation sent them.

const (
	sigV4Algorithm = "AWS4-HMAC-SHA256"
	amzDateFormat  = "20060102T150405Z"
	maxClockSkew   = 15 * time.Minute

	unsignedPayload = "UNSIGNED-PAYLOAD"
)

// principal is the identity that signed a request.
type principal struct {
	arn         string
	account     string
	userID      string
	accessKeyID string
	user        *userState // set for a static user
	session     *session   // set for issued credentials
}

// authError is a SigV4 failure; the message never contains secrets.
type authError struct {
	code    string
	status  int
	message string
}

func (e *authError) Error() string { return e.code + ": " + e.message }

// sigV4 holds a parsed signature, from the Authorization header or from a
// presigned URL's query.
type sigV4 struct {
	accessKeyID   string
	date          string // yyyymmdd from the scope
	region        string
	service       string
	signedHeaders []string
	signature     string
	amzDate       time.Time
	rawAmzDate    string
	presigned     bool
	expires       time.Duration
	token         string
}

func (s *sigV4) scope() string {
	return s.date + "/" + s.region + "/" + s.service + "/aws4_request"
}

// authErrors maps the failure kinds to each service's codes and statuses.
type authErrors struct {
	missing, malformed, unknownKey, badToken, expiredToken, badSignature, skewed *authError
}

var stsAuthErrors = authErrors{
	missing:      &authError{"MissingAuthenticationToken", 403, "Request is missing Authentication Token"},
	malformed:    &authError{"IncompleteSignature", 400, "The request signature does not conform to AWS standards."},
	unknownKey:   &authError{"InvalidClientTokenId", 403, "The security token included in the request is invalid."},
	badToken:     &authError{"InvalidClientTokenId", 403, "The security token included in the request is invalid."},
	expiredToken: &authError{"ExpiredToken", 403, "The security token included in the request is expired"},
	badSignature: &authError{"SignatureDoesNotMatch", 403, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."},
	skewed:       &authError{"SignatureDoesNotMatch", 403, "Signature expired: the request time is more than 15 minutes from the server time."},
}

var s3AuthErrors = authErrors{
	missing:      &authError{"AccessDenied", 403, "Access Denied"},
	malformed:    &authError{"AuthorizationHeaderMalformed", 400, "The authorization header is malformed."},
	unknownKey:   &authError{"InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records."},
	badToken:     &authError{"InvalidToken", 400, "The provided token is malformed or otherwise invalid."},
	expiredToken: &authError{"ExpiredToken", 400, "The provided token has expired."},
	badSignature: &authError{"SignatureDoesNotMatch", 403, "The request signature we calculated does not match the signature you provided. Check your key and signing method."},
	skewed:       &authError{"RequestTimeTooSkewed", 403, "The difference between the request time and the current time is too large."},
}

func withMessage(e *authError, msg string) *authError {
	c := *e
	c.message = msg
	return &c
}

// parseSigV4 extracts the signature from r. It returns (nil, nil) for an
// unsigned request.
func parseSigV4(r *http.Request, errs authErrors) (*sigV4, *authError) {
	if h := r.Header.Get("Authorization"); h != "" {
		return parseAuthHeader(r, h, errs)
	}
	q := r.URL.Query()
	if q.Get("X-Amz-Algorithm") != "" {
		return parsePresigned(r, q, errs)
	}
	return nil, nil
}

func parseAuthHeader(r *http.Request, h string, errs authErrors) (*sigV4, *authError) {
	alg, rest, ok := strings.Cut(h, " ")
	if !ok || alg != sigV4Algorithm {
		return nil, withMessage(errs.malformed, "unsupported authorization type; only "+sigV4Algorithm+" is supported")
	}
	s := &sigV4{}
	var cred string
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, errs.malformed
		}
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			s.signedHeaders = strings.Split(v, ";")
		case "Signature":
			s.signature = v
		}
	}
	if cred == "" || len(s.signedHeaders) == 0 || s.signature == "" {
		return nil, errs.malformed
	}
	if err := s.setCredential(cred, errs); err != nil {
		return nil, err
	}
	s.rawAmzDate = r.Header.Get("X-Amz-Date")
	if s.rawAmzDate != "" {
		t, err := time.Parse(amzDateFormat, s.rawAmzDate)
		if err != nil {
			return nil, withMessage(errs.malformed, "malformed X-Amz-Date")
		}
		s.amzDate = t
	} else if d := r.Header.Get("Date"); d != "" {
		t, err := http.ParseTime(d)
		if err != nil {
			return nil, withMessage(errs.malformed, "malformed Date header")
		}
		s.amzDate = t.UTC()
		s.rawAmzDate = s.amzDate.Format(amzDateFormat)
	} else {
		return nil, withMessage(errs.malformed, "missing X-Amz-Date")
	}
	s.token = r.Header.Get("X-Amz-Security-Token")
	return s, nil
}

func parsePresigned(r *http.Request, q url.Values, errs authErrors) (*sigV4, *authError) {
	if q.Get("X-Amz-Algorithm") != sigV4Algorithm {
		return nil, withMessage(errs.malformed, "unsupported X-Amz-Algorithm")
	}
	s := &sigV4{presigned: true}
	if err := s.setCredential(q.Get("X-Amz-Credential"), errs); err != nil {
		return nil, err
	}
	s.signedHeaders = strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	s.signature = q.Get("X-Amz-Signature")
	s.rawAmzDate = q.Get("X-Amz-Date")
	t, err := time.Parse(amzDateFormat, s.rawAmzDate)
	if err != nil || s.signature == "" {
		return nil, errs.malformed
	}
	s.amzDate = t
	exp, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || exp < 1 || exp > 7*24*3600 {
		return nil, withMessage(errs.malformed, "X-Amz-Expires must be between 1 and 604800 seconds")
	}
	s.expires = time.Duration(exp) * time.Second
	s.token = q.Get("X-Amz-Security-Token")
	return s, nil
}

func (s *sigV4) setCredential(cred string, errs authErrors) *authError {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" || parts[0] == "" {
		return withMessage(errs.malformed, "malformed credential scope")
	}
	s.accessKeyID, s.date, s.region, s.service = parts[0], parts[1], parts[2], parts[3]
	return nil
}

// authenticate verifies the signature of r for service ("sts" or "s3").
// payloadHash is the hex SHA-256 of the body or the literal value of
// X-Amz-Content-Sha256 (UNSIGNED-PAYLOAD, STREAMING-…). It returns the
// principal and the signing key (for aws-chunked chunk signatures). It
// returns (nil, nil, missing) for an unsigned request.
func (e *Emulator) authenticate(r *http.Request, service, payloadHash string, errs authErrors) (*principal, *sigV4, []byte, *authError) {
	sig, aerr := parseSigV4(r, errs)
	if aerr != nil {
		return nil, nil, nil, aerr
	}
	if sig == nil {
		return nil, nil, nil, errs.missing
	}
	p := &principal{accessKeyID: sig.accessKeyID}
	if sig.service != service {
		return p, nil, nil, withMessage(errs.malformed, fmt.Sprintf("credential scope service must be %q", service))
	}
	if sig.date != sig.rawAmzDate[:8] {
		return p, nil, nil, withMessage(errs.malformed, "credential scope date does not match the request date")
	}
	now := time.Now()
	if sig.presigned {
		if now.Before(sig.amzDate.Add(-maxClockSkew)) {
			return p, nil, nil, errs.skewed
		}
		if now.After(sig.amzDate.Add(sig.expires)) {
			return p, nil, nil, &authError{"AccessDenied", 403, "Request has expired"}
		}
	} else if d := now.Sub(sig.amzDate); d > maxClockSkew || d < -maxClockSkew {
		return p, nil, nil, errs.skewed
	}

	secret, aerr := e.lookupKey(p, sig, now, errs)
	if aerr != nil {
		return p, nil, nil, aerr
	}
	if !containsFold(sig.signedHeaders, "host") {
		return p, nil, nil, withMessage(errs.malformed, "the host header must be signed")
	}
	if sig.presigned && payloadHash == "" {
		payloadHash = unsignedPayload
	}
	creq := canonicalRequest(r, service, sig, payloadHash)
	key := signingKey(secret, sig.date, sig.region, sig.service)
	want := hmacSHA256(key, stringToSign(sig.rawAmzDate, sig.scope(), creq))
	got, err := hex.DecodeString(sig.signature)
	if err != nil || !hmac.Equal(got, want) {
		return p, nil, nil, errs.badSignature
	}
	return p, sig, key, nil
}

// lookupKey finds the secret for the signature's access key and fills in
// the principal, checking the session token.
func (e *Emulator) lookupKey(p *principal, sig *sigV4, now time.Time, errs authErrors) (string, *authError) {
	if u, ok := e.users[sig.accessKeyID]; ok {
		if sig.token != "" {
			return "", errs.badToken
		}
		p.arn, p.account, p.userID, p.user = u.ARN, u.account, u.id, u
		return u.SecretAccessKey, nil
	}
	e.mu.Lock()
	s, ok := e.sessions[sig.accessKeyID]
	var expires time.Time
	if ok {
		expires = s.expires
	}
	e.mu.Unlock()
	if !ok {
		return "", errs.unknownKey
	}
	if sig.token == "" || subtle.ConstantTimeCompare([]byte(sig.token), []byte(s.token)) != 1 {
		return "", errs.badToken
	}
	if !now.Before(expires) {
		return "", errs.expiredToken
	}
	p.arn, p.account, p.userID, p.session = s.arn(), s.role.account, s.role.id+":"+s.name, s
	return s.secret, nil
}

// canonicalRequest builds the SigV4 canonical request of r.
func canonicalRequest(r *http.Request, service string, sig *sigV4, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r, service))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery))
	b.WriteByte('\n')
	for _, h := range sig.signedHeaders {
		h = strings.ToLower(h)
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(canonicalHeaderValue(r, h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(sig.signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// canonicalURI is the path exactly as sent for S3 (which signs it without
// further encoding) and the URI-encoded path for other services.
func canonicalURI(r *http.Request, service string) string {
	p := r.RequestURI
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://") {
		p = r.URL.EscapedPath()
	}
	if p == "" {
		p = "/"
	}
	if service == "s3" {
		return p
	}
	return uriEncode(p, false)
}

// canonicalQuery sorts and RFC 3986-encodes the query parameters, leaving
// out X-Amz-Signature.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type kv struct{ k, v string }
	var pairs []kv
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, errK := url.QueryUnescape(k)
		v, errV := url.QueryUnescape(v)
		if errK != nil || errV != nil {
			continue
		}
		if k == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, kv{uriEncode(k, true), uriEncode(v, true)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

func canonicalHeaderValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		vals = r.Header.Values(name)
		if len(vals) == 0 && r.ContentLength >= 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	case "transfer-encoding":
		vals = r.TransferEncoding
	default:
		vals = r.Header.Values(name)
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(out, ",")
}

// uriEncode encodes every byte but the RFC 3986 unreserved characters (and
// '/', unless encodeSlash).
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || c == '/' && !encodeSlash {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func stringToSign(amzDate, scope, canonicalRequest string) string {
	return sigV4Algorithm + "\n" + amzDate + "\n" + scope + "\n" + hexSHA256([]byte(canonicalRequest))
}

func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
