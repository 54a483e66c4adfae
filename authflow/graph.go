package authflow

import (
	"fmt"
	"slices"
	"strings"
)

// Plan builds the graph of one run: the chains of the primary identity and
// of every required identity, each provider and identity step once, parents
// before children. Targets are the primary, then the other required
// identities sorted by name. Plan checks references and cycles itself, so
// it is safe on a Config that did not come from Load.
func Plan(cfg *Config, primary string) (*Graph, error) {
	if cfg == nil {
		return nil, fmt.Errorf("plan: no configuration")
	}
	var required []string
	for name, id := range cfg.Identities {
		if id.Required && name != primary {
			required = append(required, name)
		}
	}
	slices.Sort(required)
	return PlanTargets(cfg, append([]string{primary}, required...))
}

// PlanTargets builds the graph for exactly the identities of targets, in
// that order, the first being the primary; a name given twice is planned
// once. Plan is PlanTargets with the primary and the required identities;
// `tfauth auth whoami` plans one identity, or every one.
func PlanTargets(cfg *Config, targets []string) (*Graph, error) {
	if cfg == nil {
		return nil, fmt.Errorf("plan: no configuration")
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("plan: no identity to authenticate")
	}
	primary := targets[0]
	if _, ok := cfg.Identities[primary]; !ok {
		return nil, fmt.Errorf("plan: %w %q", ErrUnknownIdentity, primary)
	}
	g := &Graph{Primary: primary, ByKey: map[string]*Step{}}
	seen := make(map[string]bool, len(targets))
	for _, name := range targets {
		if seen[name] {
			continue
		}
		seen[name] = true
		if _, ok := cfg.Identities[name]; !ok {
			return nil, fmt.Errorf("plan: %w %q", ErrUnknownIdentity, name)
		}
		g.Targets = append(g.Targets, name)
		if _, err := g.add(cfg, name); err != nil {
			return nil, fmt.Errorf("plan identity %q: %w", name, err)
		}
	}
	return g, nil
}

// add inserts the chain ending at identity name, parents first, and
// returns its step.
func (g *Graph) add(cfg *Config, name string) (*Step, error) {
	// Walk up to the root, collecting the identities not yet planned.
	var chain []*Identity
	seen := map[string]bool{}
	var parent *Step
	for cur := name; ; {
		if s, ok := g.ByKey[identityKey(cur)]; ok {
			parent = s
			break
		}
		id, ok := cfg.Identities[cur]
		if !ok || id == nil {
			return nil, fmt.Errorf("via.identity %q is not defined", cur)
		}
		if seen[cur] {
			names := make([]string, 0, len(chain)+1)
			for _, c := range chain[indexOfIdentity(chain, cur):] {
				names = append(names, c.Name)
			}
			return nil, fmt.Errorf("via.identity forms a cycle: %s → %s", strings.Join(names, " → "), cur)
		}
		seen[cur] = true
		chain = append(chain, id)
		if id.ViaIdentity != "" {
			cur = id.ViaIdentity
			continue
		}
		if id.ViaProvider != "" {
			key := providerKey(id.ViaProvider)
			if s, ok := g.ByKey[key]; ok {
				parent = s
				break
			}
			pr, ok := cfg.Providers[id.ViaProvider]
			if !ok || pr == nil {
				return nil, fmt.Errorf("via.provider %q is not defined", id.ViaProvider)
			}
			parent = g.push(&Step{Key: key, Provider: pr})
		}
		break
	}
	for i := len(chain) - 1; i >= 0; i-- {
		parent = g.push(&Step{Key: identityKey(chain[i].Name), Identity: chain[i], Parent: parent})
	}
	return parent, nil
}

func (g *Graph) push(s *Step) *Step {
	g.Steps = append(g.Steps, s)
	g.ByKey[s.Key] = s
	return s
}

func indexOfIdentity(chain []*Identity, name string) int {
	for i, id := range chain {
		if id.Name == name {
			return i
		}
	}
	return 0
}

func identityKey(name string) string { return "identity/" + name }
func providerKey(name string) string { return "provider/" + name }
