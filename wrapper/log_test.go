package wrapper

import (
	"bytes"
	"errors"
	"testing"
)

// TestLoggerGitHubAnnotation checks that under GitHub Actions a warning is
// one workflow command, with %, carriage returns and newlines encoded.
func TestLoggerGitHubAnnotation(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	env := map[string]string{"GITHUB_ACTIONS": "true"}
	log := newLogger(&buf, func(k string) string { return env[k] })
	log.Warn("identity \"prod\" failed: 100% denied\r\n::error::injected\rline", "error", errors.New("a\nb"))
	want := "::warning::tfauth: identity \"prod\" failed: 100%25 denied%0D%0A::error::injected%0Dline error=a%0Ab\n"
	if got := buf.String(); got != want {
		t.Errorf("annotation =\n%q\nwant\n%q", got, want)
	}

	// Outside GitHub Actions the message is printed as it is.
	buf.Reset()
	newLogger(&buf, func(string) string { return "" }).Warn("50% done")
	if got, want := buf.String(), "tfauth: warning: 50% done\n"; got != want {
		t.Errorf("plain line = %q; want %q", got, want)
	}
}
