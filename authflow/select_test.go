package authflow

import (
	"errors"
	"strings"
	"testing"
)

func selectConfig(defaults ...string) *Config {
	cfg := &Config{File: "/p/tfauth.yaml", Identities: map[string]*Identity{}}
	for _, n := range []string{"core-network", "plat-prod", "Plat-Dev"} {
		cfg.Identities[n] = &Identity{Name: n, Kind: KindAmbient}
	}
	for _, d := range defaults {
		cfg.Identities[d].Default = true
	}
	return cfg
}

func TestSelect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		cfg      *Config
		override string
		want     string
		wantErr  error
		contains []string
	}{
		{"default", selectConfig("plat-prod"), "", "plat-prod", nil, nil},
		{"flag beats default", selectConfig("plat-prod"), "core-network", "core-network", nil, nil},
		{"flag without default", selectConfig(), "Plat-Dev", "Plat-Dev", nil, nil},
		{"none", selectConfig(), "", "", ErrNoPrimary,
			[]string{"--identity NAME", "TFAUTH_IDENTITY", "default: true", "tfauth.yaml", "Plat-Dev, core-network, plat-prod"}},
		{"several defaults", selectConfig("plat-prod", "core-network"), "", "", ErrNoPrimary, []string{`"core-network", "plat-prod"`}},
		{"unknown", selectConfig(), "staging", "", ErrUnknownIdentity, []string{`"staging"`, "Plat-Dev, core-network, plat-prod"}},
		{"case mismatch", selectConfig(), "Core-Network", "", ErrUnknownIdentity, []string{`did you mean "core-network"?`, "case-sensitive"}},
		{"typo", selectConfig(), "plat-prd", "", ErrUnknownIdentity, []string{`did you mean "plat-prod"?`}},
		{"nil config", nil, "", "", ErrNoPrimary, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Select(tt.cfg, tt.override)
			if got != tt.want {
				t.Errorf("Select = %q; want %q", got, tt.want)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Select error = %v; want %v", err, tt.wantErr)
			}
			for _, s := range tt.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

func TestIdentityDisabled(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{
		"false": true, "FALSE": true, "0": true, "no": true, "Off": true, " off ": true,
		"": false, "true": false, "prod": false, "n": false, "nope": false,
	} {
		if got := IdentityDisabled(v); got != want {
			t.Errorf("IdentityDisabled(%q) = %v; want %v", v, got, want)
		}
	}
}
