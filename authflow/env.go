package authflow

import (
	"runtime"
	"strings"
)

// SessionDirEnv names the variable that tells terraform's children (and a
// nested tfauth) where the run's session directory is.
const SessionDirEnv = "TFAUTH_SESSION_DIR"

// Env returns terraform's environment: base (a "K=V" list such as
// os.Environ()) with the variables of EnvVars set (AWS_SHARED_CREDENTIALS_FILE,
// AWS_CONFIG_FILE, AWS_PROFILE (the primary), AWS_SDK_LOAD_CONFIG=1,
// AWS_REGION and AWS_DEFAULT_REGION (when the primary's region is known) and
// TFAUTH_SESSION_DIR) and every variable that would override the profile
// removed. Each key appears once; base's order is kept and the new
// variables come last. Keys compare case-insensitively on Windows.
func Env(base []string, f Files, r *Results, sessionDir string) []string {
	vars, removed := EnvVars(f, r, sessionDir)
	set := make([][2]string, len(vars))
	for i, v := range vars {
		set[i] = [2]string{v.Key, v.Value}
	}
	norm := func(k string) string { return k }
	if runtime.GOOS == "windows" {
		norm = strings.ToUpper
	}
	drop := make(map[string]bool, len(removed)+len(set))
	for _, k := range removed {
		drop[norm(k)] = true
	}
	for _, kv := range set {
		drop[norm(kv[0])] = true
	}

	// Keep base's order with each key's last value, as os/exec would.
	last := make(map[string]int, len(base))
	for i, kv := range base {
		last[norm(envKey(kv))] = i
	}
	out := make([]string, 0, len(base)+len(set))
	for i, kv := range base {
		k := norm(envKey(kv))
		if drop[k] || last[k] != i {
			continue
		}
		out = append(out, kv)
	}
	for _, kv := range set {
		out = append(out, kv[0]+"="+kv[1])
	}
	return out
}

// envKey returns the key of a "K=V" entry. Windows' per-drive entries such
// as "=C:=C:\x" keep their leading '='.
func envKey(kv string) string {
	start := 0
	if strings.HasPrefix(kv, "=") {
		start = 1
	}
	if i := strings.IndexByte(kv[start:], '='); i >= 0 {
		return kv[:start+i]
	}
	return kv
}

// EnvVars returns the variables Env sets, in order, and the ones it removes
// because they would beat the profiles or point elsewhere (AWS_PROFILE is in
// both lists: removed even when there is no primary to set).
func EnvVars(f Files, r *Results, sessionDir string) (set []EnvVar, removed []string) {
	set = []EnvVar{
		{"AWS_SHARED_CREDENTIALS_FILE", f.Credentials},
		{"AWS_CONFIG_FILE", f.Config},
	}
	if r != nil && r.Primary != "" {
		set = append(set, EnvVar{"AWS_PROFILE", r.Primary})
	}
	set = append(set, EnvVar{"AWS_SDK_LOAD_CONFIG", "1"})
	if r != nil {
		if c := r.Profiles[r.Primary]; c != nil && c.Region != "" {
			set = append(set, EnvVar{"AWS_REGION", c.Region}, EnvVar{"AWS_DEFAULT_REGION", c.Region})
		}
	}
	set = append(set, EnvVar{SessionDirEnv, sessionDir})
	// Variables that beat AWS_PROFILE in the AWS SDKs or point them at other
	// credentials. AWS_ACCESS_KEY and AWS_SECRET_KEY are the Go SDK's
	// fallback names for the key pair. A user's AWS_REGION stays when the
	// primary's region is unknown.
	removed = []string{
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY", "AWS_SECRET_KEY",
		"AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_DEFAULT_PROFILE",
		"AWS_CREDENTIAL_EXPIRATION", "AWS_PROFILE",
	}
	return set, removed
}
