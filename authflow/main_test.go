package authflow

import (
	"os"
	"testing"
)

// blackholeProxy is where the tests send every HTTP request that is not for
// a loopback address: a port nothing listens on. The tests talk to local
// servers only (the emulator, httptest); a request meant for real AWS, as
// when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS drops the emulator's endpoint,
// is refused at once instead of reaching the internet, with or without a
// network.
const blackholeProxy = "http://127.0.0.1:1"

// TestMain makes the package's tests hermetic. net/http reads the proxy
// settings once per process, so they are set before any test runs; Go never
// proxies requests to loopback addresses, so local servers still answer.
func TestMain(m *testing.M) {
	for _, k := range []string{"NO_PROXY", "no_proxy"} {
		os.Unsetenv(k)
	}
	os.Setenv("HTTP_PROXY", blackholeProxy)
	os.Setenv("HTTPS_PROXY", blackholeProxy)
	os.Exit(m.Run())
}
