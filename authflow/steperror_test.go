package authflow

import (
	"errors"
	"testing"
)

// TestStepErrorText checks the primary failure message: it names the
// identity, the failing step (provider or role ARN), the AWS error code
// and a hint, on one line.
func TestStepErrorText(t *testing.T) {
	t.Parallel()
	const arn = "arn:aws:iam::111111111111:role/hub"
	for _, tc := range []struct {
		name string
		err  *StepError
		want string
	}{
		{"own step, code and hint", &StepError{Identity: "hub", Step: arn, Code: "AccessDenied",
			Err: errors.New("assume role " + arn + " with web identity: AccessDenied: not authorized")},
			`identity "hub": assume role ` + arn + ` with web identity: AccessDenied: not authorized; hint: check the role's trust policy allows the calling principal`},
		{"own step, the cause does not name the role", &StepError{Identity: "hub", Step: arn,
			Err: errors.New(`invalid AWS_MAX_ATTEMPTS "x": need a positive integer`)},
			`identity "hub": assume role ` + arn + `: invalid AWS_MAX_ATTEMPTS "x": need a positive integer`},
		{"failed at a provider", &StepError{Identity: "spoke", Step: "gh", Via: "gh", viaProvider: true,
			Err: errors.New("environment variable TOKEN is unset or empty")},
			`identity "spoke": its chain failed at provider "gh": environment variable TOKEN is unset or empty`},
		{"failed at an identity", &StepError{Identity: "spoke", Step: arn, Via: "hub", Code: "ExpiredToken",
			Err: errors.New("assume role " + arn + ": ExpiredToken: expired")},
			`identity "spoke": its chain failed at identity "hub": assume role ` + arn + `: ExpiredToken: expired; hint: the token or the parent credentials expired before use; re-run, and check the clock`},
		{"standalone identity", &StepError{Identity: "me", Step: "me", Err: errors.New("no keys")},
			`identity "me": no keys`},
		{"no cause", &StepError{Identity: "hub", Step: arn}, `identity "hub": ` + arn + ` failed`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q\nwant       %q", got, tc.want)
			}
		})
	}
}
