package wrapper

import (
	"testing"

	"github.com/tfauth/tfauth/authflow"
)

// TestReusable checks when a nested run reuses the enclosing run's
// profiles: only for the same configuration file, the same primary, and a
// session directory that still exists.
func TestReusable(t *testing.T) {
	live := t.TempDir()
	cfg := &authflow.Config{File: "/repo/tfauth.yaml"}
	base := map[string]string{
		authflow.SessionDirEnv: live,
		sessionConfigEnv:       "/repo/tfauth.yaml",
		"AWS_PROFILE":          "core-network",
	}
	tests := []struct {
		name             string
		change           map[string]string
		override, source string
		want             bool
	}{
		{"same config, no override", nil, "", "", true},
		{"same primary asked for", nil, "core-network", "TFAUTH_IDENTITY", true},
		{"another primary asked for", nil, "plat-prod", "TFAUTH_IDENTITY", false},
		{"--identity always logs in", nil, "core-network", "--identity", false},
		{"another configuration", map[string]string{sessionConfigEnv: "/other/tfauth.yaml"}, "", "", false},
		{"no enclosing run", map[string]string{authflow.SessionDirEnv: ""}, "", "", false},
		{"enclosing directory gone", map[string]string{authflow.SessionDirEnv: live + "/gone"}, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tt.change {
				env[k] = v
			}
			a := &app{env: env}
			if got := a.reusable(cfg, tt.override, tt.source); got != tt.want {
				t.Errorf("reusable() = %v; want %v", got, tt.want)
			}
		})
	}
}
