package authflow

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func planConfig(t *testing.T, src string) *Config {
	t.Helper()
	cfg, err := Parse("tfauth.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return cfg
}

func stepKeys(g *Graph) []string {
	keys := make([]string, len(g.Steps))
	for i, s := range g.Steps {
		keys[i] = s.Key
	}
	return keys
}

func TestPlanDedupSharedProvider(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("auth:\n  providers:\n    gh: {kind: github/oidc}\n  identities:\n")
	for i := range 10 {
		fmt.Fprintf(&b, "    acct-%02d: {kind: aws/assume-role, required: true, via: {provider: gh}, principal: {assume_role: 'arn:aws:iam::%012d:role/ci'}}\n", i, i+1)
	}
	g, err := Plan(planConfig(t, b.String()), "acct-05")
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Steps) != 11 {
		t.Fatalf("got %d steps %v; want 11 (one provider, ten identities)", len(g.Steps), stepKeys(g))
	}
	prov := g.ByKey["provider/gh"]
	if prov == nil || g.Steps[0] != prov {
		t.Fatalf("first step = %s; want provider/gh", g.Steps[0].Key)
	}
	for _, s := range g.Steps[1:] {
		if s.Parent != prov {
			t.Errorf("step %s has parent %v; want the shared provider step", s.Key, s.Parent)
		}
	}
	want := []string{"acct-05", "acct-00", "acct-01", "acct-02", "acct-03", "acct-04", "acct-06", "acct-07", "acct-08", "acct-09"}
	if diff := cmp.Diff(want, g.Targets); diff != "" {
		t.Errorf("Targets mismatch (-want +got):\n%s", diff)
	}
}

const hubSpoke = `auth:
  providers:
    gh: {kind: github/oidc}
    unused: {kind: tfauth/file-token}
  identities:
    hub: {kind: aws/assume-role, via: {provider: gh}, principal: {assume_role: 'arn:aws:iam::111111111111:role/hub'}}
    spoke-b: {kind: aws/assume-role, required: true, via: {identity: hub}, principal: {assume_role: 'arn:aws:iam::222222222222:role/b'}}
    spoke-a: {kind: aws/assume-role, required: true, via: {identity: hub}, principal: {assume_role: 'arn:aws:iam::333333333333:role/a'}}
    leaf: {kind: aws/assume-role, via: {identity: spoke-a}, principal: {assume_role: 'arn:aws:iam::444444444444:role/leaf'}}
    local: {kind: aws/ambient, default: true}
    other: {kind: aws/assume-role, via: {provider: unused}, principal: {assume_role: 'arn:aws:iam::555555555555:role/o'}}
    me: {kind: aws/user, required: true}
`

func TestPlan(t *testing.T) {
	t.Parallel()
	cfg := planConfig(t, hubSpoke)
	tests := []struct {
		primary     string
		wantTargets []string
		wantSteps   []string
	}{
		{"leaf", []string{"leaf", "me", "spoke-a", "spoke-b"},
			[]string{"provider/gh", "identity/hub", "identity/spoke-a", "identity/leaf", "identity/me", "identity/spoke-b"}},
		{"local", []string{"local", "me", "spoke-a", "spoke-b"},
			[]string{"identity/local", "identity/me", "provider/gh", "identity/hub", "identity/spoke-a", "identity/spoke-b"}},
		{"spoke-b", []string{"spoke-b", "me", "spoke-a"},
			[]string{"provider/gh", "identity/hub", "identity/spoke-b", "identity/me", "identity/spoke-a"}},
		{"me", []string{"me", "spoke-a", "spoke-b"},
			[]string{"identity/me", "provider/gh", "identity/hub", "identity/spoke-a", "identity/spoke-b"}},
	}
	for _, tt := range tests {
		t.Run(tt.primary, func(t *testing.T) {
			t.Parallel()
			g, err := Plan(cfg, tt.primary)
			if err != nil {
				t.Fatal(err)
			}
			if g.Primary != tt.primary {
				t.Errorf("Primary = %q; want %q", g.Primary, tt.primary)
			}
			if diff := cmp.Diff(tt.wantTargets, g.Targets); diff != "" {
				t.Errorf("Targets mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSteps, stepKeys(g)); diff != "" {
				t.Errorf("Steps mismatch (-want +got):\n%s", diff)
			}
			seen := map[*Step]bool{}
			for _, s := range g.Steps {
				if s.Parent != nil && !seen[s.Parent] {
					t.Errorf("step %s comes before its parent %s", s.Key, s.Parent.Key)
				}
				if g.ByKey[s.Key] != s {
					t.Errorf("ByKey[%s] is not the step", s.Key)
				}
				seen[s] = true
			}
			if len(g.ByKey) != len(g.Steps) {
				t.Errorf("ByKey has %d entries; want %d", len(g.ByKey), len(g.Steps))
			}
		})
	}
	g, _ := Plan(cfg, "spoke-a")
	if s := g.ByKey["identity/spoke-a"]; s.Parent != g.ByKey["identity/hub"] || s.Parent.Parent != g.ByKey["provider/gh"] || s.Parent.Parent.Parent != nil {
		t.Errorf("spoke-a chain is not spoke-a → hub → gh")
	}
	if s := g.ByKey["identity/me"]; s.Parent != nil || s.Name() != "me" {
		t.Errorf("standalone me has parent %v", s.Parent)
	}
}

func TestPlanErrors(t *testing.T) {
	t.Parallel()
	cfg := &Config{
		Providers: map[string]*Provider{},
		Identities: map[string]*Identity{
			"a":    {Name: "a", Kind: KindAssumeRole, ViaIdentity: "b"},
			"b":    {Name: "b", Kind: KindAssumeRole, ViaIdentity: "a"},
			"lost": {Name: "lost", Kind: KindAssumeRole, ViaProvider: "gone"},
			"orph": {Name: "orph", Kind: KindAssumeRole, ViaIdentity: "nobody"},
		},
	}
	for primary, want := range map[string]string{
		"a":       "cycle: a → b → a",
		"lost":    `via.provider "gone" is not defined`,
		"orph":    `via.identity "nobody" is not defined`,
		"missing": `unknown identity "missing"`,
	} {
		_, err := Plan(cfg, primary)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Plan(%q) = %v; want an error containing %q", primary, err, want)
		}
	}
	if _, err := Plan(nil, "x"); err == nil {
		t.Errorf("Plan(nil) succeeded")
	}
}
