package wrapper

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/tfauth/tfauth/authflow"
)

// describeConfig prints the identities of cfg with their chains, marking
// the default (primary) and the required ones.
func describeConfig(w io.Writer, cfg *authflow.Config) {
	names := make([]string, 0, len(cfg.Identities))
	for n := range cfg.Identities {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		fmt.Fprintln(w, "  no identities: every command passes straight through")
	}
	for _, n := range names {
		id := cfg.Identities[n]
		var marks []string
		if id.Default {
			marks = append(marks, "default")
		}
		if id.Required {
			marks = append(marks, "required")
		}
		m := ""
		if len(marks) > 0 {
			m = " [" + strings.Join(marks, ", ") + "]"
		}
		fmt.Fprintf(w, "  %s (%s)%s: %s\n", n, id.Kind, m, strings.Join(chainOf(cfg, n), " → "))
	}
}

// chainOf lists the steps from the root provider (or standalone identity)
// down to identity name, as "provider:x" and identity names.
func chainOf(cfg *authflow.Config, name string) []string {
	var rev []string
	seen := map[string]bool{}
	for name != "" && !seen[name] {
		seen[name] = true
		id, ok := cfg.Identities[name]
		if !ok {
			break
		}
		rev = append(rev, name)
		if id.ViaProvider != "" {
			rev = append(rev, "provider "+id.ViaProvider)
			break
		}
		name = id.ViaIdentity
	}
	out := make([]string, len(rev))
	for i, s := range rev {
		out[len(rev)-1-i] = s
	}
	return out
}
