package authflow

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Errors Select wraps, for callers that branch on them.
var (
	// ErrUnknownIdentity means the requested identity is not configured.
	ErrUnknownIdentity = errors.New("unknown identity")
	// ErrNoPrimary means no identity was requested and none is the default.
	ErrNoPrimary = errors.New("no identity selected")
)

// IdentityDisabled reports whether an --identity or TFAUTH_IDENTITY value
// turns authentication off: "false", "0", "no" or "off", in any case.
func IdentityDisabled(value string) bool {
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "false", "0", "no", "off":
		return true
	}
	return false
}

// Select returns the primary identity's name: override when it is set
// (from --identity or TFAUTH_IDENTITY), else the single default: true
// identity. Names match exactly; a case-insensitive match only produces a
// hint. Callers check IdentityDisabled before calling Select.
func Select(cfg *Config, override string) (string, error) {
	if cfg == nil {
		return "", fmt.Errorf("select identity: %w: no configuration", ErrNoPrimary)
	}
	names := slices.Sorted(maps.Keys(cfg.Identities))
	if override != "" {
		if _, ok := cfg.Identities[override]; ok {
			return override, nil
		}
		hint := ""
		if s := Nearest(override, names); s != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", s)
			if strings.EqualFold(s, override) {
				hint = fmt.Sprintf(" (did you mean %q? identity names are case-sensitive)", s)
			}
		}
		known := "no identities"
		if len(names) > 0 {
			known = strings.Join(names, ", ")
		}
		return "", fmt.Errorf("%w %q: %s defines %s%s", ErrUnknownIdentity, override, cfg.File, known, hint)
	}
	var defaults []string
	for _, name := range names {
		if cfg.Identities[name].Default {
			defaults = append(defaults, name)
		}
	}
	switch len(defaults) {
	case 1:
		return defaults[0], nil
	case 0:
		return "", fmt.Errorf("%w: pass --identity NAME, set TFAUTH_IDENTITY=NAME, or add default: true to one identity in %s (identities: %s)",
			ErrNoPrimary, cfg.File, strings.Join(names, ", "))
	}
	return "", fmt.Errorf("%w: default: true is set on %s in %s; keep it on one, or pass --identity NAME",
		ErrNoPrimary, strings.Join(quoteAll(defaults), ", "), cfg.File)
}

func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}
