package awsemu

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// maxSTSBody bounds the form body of an STS request.
const maxSTSBody = 1 << 20

var namePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// stsError is an STS error reply.
type stsError struct {
	status  int
	code    string
	message string
}

func (e *stsError) Error() string { return e.code + ": " + e.message }

func validationError(msg string) *stsError {
	return &stsError{http.StatusBadRequest, "ValidationError", msg}
}

func accessDenied(caller, action, role string) *stsError {
	if caller == "" {
		return &stsError{http.StatusForbidden, "AccessDenied", fmt.Sprintf("Not authorized to perform %s", action)}
	}
	return &stsError{http.StatusForbidden, "AccessDenied",
		fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", caller, action, role)}
}

func (e *Emulator) serveSTS(w http.ResponseWriter, r *http.Request) {
	// The request leaves the in-flight count before its reply is written:
	// a client that starts another request on reading the reply must not
	// find this one still counted.
	leave := e.enterSTS()
	defer leave()
	requestID := newRequestID()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSTSBody+1))
	// Sleep once the body is read: only then does the server notice a
	// client that gives up, and end the wait.
	e.sleep(r.Context())
	if err != nil || len(body) > maxSTSBody {
		leave()
		writeSTSError(w, requestID, &stsError{http.StatusBadRequest, "InvalidRequest", "request body unreadable or too large"})
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || r.Method == http.MethodGet {
		form = r.URL.Query()
	}
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		leave()
		writeSTSError(w, requestID, &stsError{http.StatusMethodNotAllowed, "InvalidAction", "STS accepts POST and GET"})
		return
	}
	call := Call{Time: time.Now(), Action: form.Get("Action"), RoleARN: form.Get("RoleArn")}
	resp, serr := e.dispatchSTS(r, form, body, &call)
	if serr != nil {
		call.ErrorCode = serr.code
		e.recordCall(call)
		e.log.Debug("sts request failed", "action", call.Action, "role", call.RoleARN, "caller", call.CallerARN, "code", serr.code)
		leave()
		writeSTSError(w, requestID, serr)
		return
	}
	e.recordCall(call)
	e.log.Debug("sts request", "action", call.Action, "role", call.RoleARN, "caller", call.CallerARN)
	leave()
	writeSTSResult(w, requestID, call.Action, resp)
}

func (e *Emulator) dispatchSTS(r *http.Request, form url.Values, body []byte, call *Call) (any, *stsError) {
	if takeOne(&e.throttleLeft) {
		return nil, &stsError{http.StatusBadRequest, "Throttling", "Rate exceeded"}
	}
	if v := form.Get("Version"); v != "2011-06-15" {
		return nil, &stsError{http.StatusBadRequest, "InvalidAction", "Could not find operation " + call.Action + " for version " + v}
	}
	switch call.Action {
	case "AssumeRoleWithWebIdentity":
		return e.assumeRoleWithWebIdentity(form)
	case "AssumeRole", "GetCallerIdentity":
	default:
		return nil, &stsError{http.StatusBadRequest, "InvalidAction", "Could not find operation " + call.Action + " for version 2011-06-15"}
	}

	payloadHash := r.Header.Get("X-Amz-Content-Sha256")
	if payloadHash == "" {
		payloadHash = hexSHA256(body)
	} else if payloadHash != hexSHA256(body) {
		return nil, &stsError{http.StatusBadRequest, "InvalidRequest", "x-amz-content-sha256 does not match the request body"}
	}
	p, _, _, aerr := e.authenticate(r, "sts", payloadHash, stsAuthErrors)
	if aerr != nil {
		return nil, &stsError{aerr.status, aerr.code, aerr.message}
	}
	call.CallerARN = p.arn
	if call.Action == "GetCallerIdentity" {
		return &getCallerIdentityResult{Account: p.account, Arn: p.arn, UserID: p.userID}, nil
	}
	return e.assumeRole(p, form)
}

type credentialsXML struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type assumedRoleUserXML struct {
	Arn           string `xml:"Arn"`
	AssumedRoleID string `xml:"AssumedRoleId"`
}

type assumeRoleResult struct {
	Credentials      credentialsXML     `xml:"Credentials"`
	AssumedRoleUser  assumedRoleUserXML `xml:"AssumedRoleUser"`
	PackedPolicySize int                `xml:"PackedPolicySize"`
	SourceIdentity   string             `xml:"SourceIdentity,omitempty"`
}

type assumeRoleWithWebIdentityResult struct {
	Credentials                 credentialsXML     `xml:"Credentials"`
	SubjectFromWebIdentityToken string             `xml:"SubjectFromWebIdentityToken"`
	AssumedRoleUser             assumedRoleUserXML `xml:"AssumedRoleUser"`
	PackedPolicySize            int                `xml:"PackedPolicySize"`
	Provider                    string             `xml:"Provider"`
	Audience                    string             `xml:"Audience"`
}

type getCallerIdentityResult struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

func (e *Emulator) assumeRole(p *principal, form url.Values) (any, *stsError) {
	roleARN, name := form.Get("RoleArn"), form.Get("RoleSessionName")
	if err := checkName("roleSessionName", name); err != nil {
		return nil, err
	}
	if len(roleARN) < 20 {
		return nil, validationError("1 validation error detected: Value at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20")
	}
	src := form.Get("SourceIdentity")
	if src != "" {
		if err := checkName("sourceIdentity", src); err != nil {
			return nil, err
		}
		if strings.HasPrefix(strings.ToLower(src), "aws:") {
			return nil, validationError("SourceIdentity must not start with aws:")
		}
	}
	chained := p.session != nil
	if chained && p.session.sourceIdentity != "" {
		if src != "" && src != p.session.sourceIdentity {
			return nil, accessDenied(p.arn, "sts:SetSourceIdentity", roleARN)
		}
		src = p.session.sourceIdentity
	}

	role, ok := e.roles[roleARN]
	if !ok || e.isDenied(roleARN) || !trusts(role, p) {
		return nil, accessDenied(p.arn, "sts:AssumeRole", roleARN)
	}
	if role.ExternalID != "" && form.Get("ExternalId") != role.ExternalID {
		return nil, accessDenied(p.arn, "sts:AssumeRole", roleARN)
	}
	d, err := sessionDuration(form, role)
	if err != nil {
		return nil, err
	}
	if chained && d > time.Hour {
		return nil, validationError("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	s := e.issue(role, name, src, d)
	return &assumeRoleResult{
		Credentials:     s.credentialsXML(),
		AssumedRoleUser: assumedRoleUserXML{Arn: s.arn(), AssumedRoleID: role.id + ":" + name},
		SourceIdentity:  src,
	}, nil
}

func (e *Emulator) assumeRoleWithWebIdentity(form url.Values) (any, *stsError) {
	roleARN, name, token := form.Get("RoleArn"), form.Get("RoleSessionName"), form.Get("WebIdentityToken")
	if err := checkName("roleSessionName", name); err != nil {
		return nil, err
	}
	if len(token) < 4 {
		return nil, validationError("1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length greater than or equal to 4")
	}
	role, ok := e.roles[roleARN]
	if !ok || e.isDenied(roleARN) || len(role.TrustOIDCSubjects) == 0 {
		return nil, accessDenied("", "sts:AssumeRoleWithWebIdentity", roleARN)
	}
	claims, msg := e.verifyJWT(token)
	if msg != "" {
		return nil, &stsError{http.StatusBadRequest, "InvalidIdentityToken", msg}
	}
	aud, _ := claims.GetAudience()
	matched := ""
	for _, a := range aud {
		if slices.Contains(role.TrustOIDCAudiences, a) {
			matched = a
			break
		}
	}
	if matched == "" {
		return nil, &stsError{http.StatusBadRequest, "InvalidIdentityToken", "Incorrect token audience"}
	}
	sub, _ := claims.GetSubject()
	if !subjectTrusted(role.TrustOIDCSubjects, sub) {
		// Real STS: the token is valid, the trust policy's sub condition
		// does not match.
		return nil, &stsError{http.StatusForbidden, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity"}
	}
	d, serr := sessionDuration(form, role)
	if serr != nil {
		return nil, serr
	}
	s := e.issue(role, name, "", d)
	return &assumeRoleWithWebIdentityResult{
		Credentials:                 s.credentialsXML(),
		SubjectFromWebIdentityToken: sub,
		AssumedRoleUser:             assumedRoleUserXML{Arn: s.arn(), AssumedRoleID: role.id + ":" + name},
		Provider:                    strings.TrimPrefix(strings.TrimPrefix(e.OIDCURL(), "http://"), "https://"),
		Audience:                    matched,
	}, nil
}

// verifyJWT checks an OIDC token's RS256 signature, issuer and times.
// On failure it returns an STS-style message that does not echo the token.
func (e *Emulator) verifyJWT(token string) (jwt.MapClaims, string) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		if kid, _ := t.Header["kid"].(string); kid != e.keyID {
			return nil, errors.New("unknown key id")
		}
		return &e.signingKey.PublicKey, nil
	},
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(e.OIDCURL()),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	switch {
	case err == nil:
		return claims, ""
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, "Token expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return nil, "Token is not yet valid"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return nil, "Token issuer is not trusted"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return nil, "Token signature is invalid"
	default:
		return nil, "Token is malformed or invalid"
	}
}

// subjectTrusted reports whether sub matches one of globs. A glob matches
// by path.Match or, as in IAM's StringLike condition, with '*' matching any
// run of characters including '/' (so "repo:example/infra:*" matches
// "repo:example/infra:ref:refs/heads/main") and '?' any one character.
func subjectTrusted(globs []string, sub string) bool {
	for _, g := range globs {
		if ok, err := path.Match(g, sub); err == nil && ok {
			return true
		}
		if stringLike(g, sub) {
			return true
		}
	}
	return false
}

// stringLike matches s against pattern with IAM StringLike wildcards.
func stringLike(pattern, s string) bool {
	// Iterative wildcard matching with backtracking to the last '*'.
	p, i, star, mark := 0, 0, -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func trusts(role *roleState, p *principal) bool {
	for _, t := range role.TrustPrincipals {
		switch {
		case t == "*", t == p.arn, t == "arn:aws:iam::"+p.account+":root":
			return true
		case p.session != nil && t == p.session.role.ARN:
			return true
		}
	}
	return false
}

func (e *Emulator) isDenied(arn string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.denied[arn]
}

func checkName(field, v string) *stsError {
	if !namePattern.MatchString(v) {
		return validationError(fmt.Sprintf("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length between 2 and 64 and satisfy regular expression pattern: [\\w+=,.@-]*", field))
	}
	return nil
}

func sessionDuration(form url.Values, role *roleState) (time.Duration, *stsError) {
	v := form.Get("DurationSeconds")
	if v == "" {
		return min(time.Hour, role.MaxSessionDuration), nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, validationError("DurationSeconds must be an integer")
	}
	if n < 900 {
		return 0, validationError("1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900")
	}
	d := time.Duration(n) * time.Second
	if d > role.MaxSessionDuration {
		return 0, validationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	return d, nil
}

// issue creates and stores temporary credentials for role.
func (e *Emulator) issue(role *roleState, name, sourceIdentity string, d time.Duration) *session {
	s := &session{
		accessKeyID:    "ASIA" + randomString(16, upperAlnum),
		secret:         randomString(40, secretSet),
		token:          "IQoJb3JpZ2luX2Vj" + base64.StdEncoding.EncodeToString([]byte(randomString(480, secretSet))),
		expires:        time.Now().Add(d).Truncate(time.Second),
		role:           role,
		name:           name,
		sourceIdentity: sourceIdentity,
	}
	e.mu.Lock()
	e.sessions[s.accessKeyID] = s
	e.secrets = append(e.secrets, s.accessKeyID, s.secret, s.token)
	e.mu.Unlock()
	return s
}

func (s *session) credentialsXML() credentialsXML {
	return credentialsXML{
		AccessKeyID:     s.accessKeyID,
		SecretAccessKey: s.secret,
		SessionToken:    s.token,
		Expiration:      s.expires.UTC().Format(time.RFC3339),
	}
}

func writeSTSResult(w http.ResponseWriter, requestID, action string, result any) {
	// encoding/xml cannot name an `any` field dynamically, so wrap by hand.
	inner, err := xml.Marshal(wrapResult{XMLName: xml.Name{Local: action + "Result"}, V: result})
	if err != nil {
		writeSTSError(w, requestID, &stsError{http.StatusInternalServerError, "InternalFailure", "cannot encode response"})
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, `<%sResponse xmlns="%s">%s<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`,
		action, stsNamespace, inner, requestID, action)
}

// wrapResult marshals V's fields inside an element named XMLName.
type wrapResult struct {
	XMLName xml.Name
	V       any
}

func (wr wrapResult) MarshalXML(enc *xml.Encoder, start xml.StartElement) error {
	start.Name = wr.XMLName
	return enc.EncodeElement(wr.V, start)
}

func writeSTSError(w http.ResponseWriter, requestID string, e *stsError) {
	var msg strings.Builder
	_ = xml.EscapeText(&msg, []byte(e.message))
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.WriteHeader(e.status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
		stsNamespace, e.code, msg.String(), requestID)
}

func newRequestID() string {
	s := randomString(32, lowerHex)
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}
