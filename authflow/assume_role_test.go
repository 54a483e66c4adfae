package authflow

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/smithy-go"
)

func TestSessionName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ identity, want string }{
		{"prod", "tfauth-prod"},
		{"core/network", "tfauth-core-network"},
		{"a b:c#d", "tfauth-a-b-c-d"},
		{"ok_+=,.@-", "tfauth-ok_+=,.@-"},
		{"ünï", "tfauth--n-"},
		{strings.Repeat("x", 100), "tfauth-" + strings.Repeat("x", 57)},
	} {
		got := SessionName(tc.identity)
		if got != tc.want {
			t.Errorf("SessionName(%q) = %q; want %q", tc.identity, got, tc.want)
		}
		if !sessionNameValid().MatchString(got) {
			t.Errorf("SessionName(%q) = %q; not valid for STS", tc.identity, got)
		}
	}
}

func TestRoleSessionNameConfigured(t *testing.T) {
	t.Parallel()
	id := &Identity{Name: "x", Principal: Principal{SessionName: "ci-run"}}
	if got, err := roleSessionName(id); err != nil || got != "ci-run" {
		t.Errorf("roleSessionName = %q, %v", got, err)
	}
	id.Principal.SessionName = "bad name"
	if _, err := roleSessionName(id); err == nil {
		t.Error("an invalid configured session name was accepted")
	}
}

func TestDurationSeconds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		principal, session time.Duration
		want               int32
		err                bool
	}{
		{0, 0, 0, false},
		{2 * time.Hour, time.Hour, 7200, false},
		{0, 30 * time.Minute, 1800, false},
		{time.Minute, 0, 0, true},
		{13 * time.Hour, 0, 0, true},
	} {
		got, err := durationSeconds(&Identity{SessionDuration: tc.session, Principal: Principal{Duration: tc.principal}})
		if (err != nil) != tc.err {
			t.Errorf("durationSeconds(%v, %v) error = %v", tc.principal, tc.session, err)
			continue
		}
		var g int32
		if got != nil {
			g = *got
		}
		if g != tc.want {
			t.Errorf("durationSeconds(%v, %v) = %d; want %d", tc.principal, tc.session, g, tc.want)
		}
	}
}

func TestFailFastRetryer(t *testing.T) {
	t.Parallel()
	f := newSTSFactory(func(string) string { return "" }, discardLogger(), newRedactor())
	for code, want := range map[string]bool{
		"Throttling":            true,
		"IDPCommunicationError": false, // retried by the STS client's own wrapper, not the base retryer
		"AccessDenied":          false,
		"ValidationError":       false,
		"InvalidIdentityToken":  false,
	} {
		err := &smithy.GenericAPIError{Code: code, Message: "m"}
		if got := f.retryer.IsErrorRetryable(err); got != want {
			t.Errorf("retryable(%s) = %v; want %v", code, got, want)
		}
	}
}

func TestSTSSettings(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"AWS_ENDPOINT_URL":     "http://generic",
		"AWS_ENDPOINT_URL_STS": "http://sts",
		"AWS_MAX_ATTEMPTS":     "7",
	}
	f := newSTSFactory(func(k string) string { return env[k] }, discardLogger(), newRedactor())
	if f.endpoint != "http://sts" || f.retryer.MaxAttempts() != 7 || f.settingsErr != nil {
		t.Errorf("endpoint %q, attempts %d, err %v", f.endpoint, f.retryer.MaxAttempts(), f.settingsErr)
	}
	env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "TRUE"
	if f := newSTSFactory(func(k string) string { return env[k] }, discardLogger(), newRedactor()); f.endpoint != "" {
		t.Errorf("endpoint %q; want none when ignored", f.endpoint)
	}
	env["AWS_MAX_ATTEMPTS"] = "many"
	env["AWS_RETRY_MODE"] = "eager"
	f = newSTSFactory(func(k string) string { return env[k] }, discardLogger(), newRedactor())
	if _, err := f.client("us-east-1", nil); err == nil ||
		!strings.Contains(err.Error(), "AWS_MAX_ATTEMPTS") || !strings.Contains(err.Error(), "AWS_RETRY_MODE") {
		t.Errorf("client error = %v; want both bad settings reported", err)
	}
}

func TestStepErrorHints(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  *StepError
		want string
	}{
		{&StepError{Code: "AccessDenied", Caller: "arn:aws:sts::1:assumed-role/hub/s"}, "check the role's trust policy allows arn:aws:sts::1:assumed-role/hub/s"},
		{&StepError{Code: "AccessDenied"}, "check the role's trust policy allows the calling principal"},
		{&StepError{Code: "InvalidIdentityToken"}, "check the audience and the OIDC provider/issuer configured in IAM"},
		{&StepError{Code: "ExpiredToken"}, "expired"},
		{&StepError{Code: "ValidationError"}, "at most 1h when chaining roles"},
		{&StepError{Code: "SomethingElse"}, ""},
		{&StepError{Err: context.DeadlineExceeded, Endpoint: "https://sts.x"}, "raise options.timeout"},
		{&StepError{Err: fmt.Errorf("post: %w", fakeNetErr{}), Endpoint: "https://sts.x"}, "check network access to https://sts.x"},
		{&StepError{Err: fmt.Errorf("read: %w", &fs.PathError{Op: "open", Path: "/t", Err: syscall.ENOENT})}, ""},
	} {
		got := tc.err.Hint()
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("Hint(%+v) = %q; want %q", tc.err, got, tc.want)
		}
	}
}

func TestRedactor(t *testing.T) {
	t.Parallel()
	r := newRedactor()
	r.add(NewSecret("supersecretvalue"), NewSecret("ab")) // too short to redact
	in := errors.New("failed with supersecretvalue and eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln and AKIAIOSFODNN7EXAMPLE, ab")
	got := r.wrap(in).Error()
	want := "failed with [redacted] and [redacted] and [redacted], ab"
	if got != want {
		t.Errorf("redacted = %q; want %q", got, want)
	}
	if !errors.Is(r.wrap(in), in) {
		t.Error("redacted error does not unwrap to its cause")
	}
}
