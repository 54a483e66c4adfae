package authflow

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

var (
	// nameRe is the rule for provider and identity names, which become AWS
	// profile names (Atmos allows the same set, without ".").
	nameRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9/_.-]+$`) })
	// regionRe matches AWS region codes: us-east-1, us-gov-west-1, cn-north-1.
	regionRe  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]{2,}(-[a-z]+)+-[0-9]+$`) })
	envNameRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`) })
	// roleARNRe is arn:<partition>:iam::<account>:role/<optional path/><name>.
	roleARNRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/([\x21-\x7e]*/)?[\w+=,.@-]{1,64}$`)
	})
	sessionNameRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w+=,.@-]{2,64}$`) })
	externalIDRe  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w+=,.@:/-]+$`) })
	tagCharsRe    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`) })
)

const (
	maxTags        = 50
	maxTagKey      = 128
	maxTagValue    = 256
	roleChainLimit = time.Hour
)

const roleARNHint = "use arn:aws:iam::<12-digit account>:role/<name>"

// checkRoleARN returns a message and hint when v is not an IAM role ARN.
func checkRoleARN(v string) (msg, hint string) {
	if roleARNRe().MatchString(v) {
		return "", ""
	}
	return "is not a role ARN", roleARNHint
}

func checkSessionName(v string) (msg, hint string) {
	if sessionNameRe().MatchString(v) {
		return "", ""
	}
	return "is not a valid session name", "use 2 to 64 characters: letters, digits and + = , . @ _ -"
}

func checkSourceIdentity(v string) (msg, hint string) {
	if strings.HasPrefix(strings.ToLower(v), "aws:") {
		return "starts with aws:, which AWS reserves", "choose a value without the aws: prefix"
	}
	if sessionNameRe().MatchString(v) {
		return "", ""
	}
	return "is not a valid source identity", "use 2 to 64 characters: letters, digits and + = , . @ _ -"
}

func checkExternalID(v string) (msg, hint string) {
	if n := len(v); n >= 2 && n <= 1224 && externalIDRe().MatchString(v) {
		return "", ""
	}
	return "is not a valid external ID", "use 2 to 1224 characters: letters, digits and + = , . @ : / _ -, as the role's trust policy expects"
}

func checkTag(k, v string) (msg, hint string) {
	const charset = "tags may use letters, digits, spaces and _ . : / = + - @"
	switch {
	case k == "":
		return "a tag key is empty", "give every tag a key of 1 to 128 characters"
	case utf8.RuneCountInString(k) > maxTagKey:
		return fmt.Sprintf("tag key %s is longer than %d characters", short(k), maxTagKey), "shorten it"
	case strings.HasPrefix(strings.ToLower(k), "aws:"):
		return fmt.Sprintf("tag key %q starts with aws:, which AWS reserves", k), "choose a key without the aws: prefix"
	case !tagCharsRe().MatchString(k):
		return fmt.Sprintf("tag key %q has characters AWS does not accept", k), charset
	case utf8.RuneCountInString(v) > maxTagValue:
		return fmt.Sprintf("tag %q has a value longer than %d characters", k, maxTagValue), "shorten it"
	case !tagCharsRe().MatchString(v):
		return fmt.Sprintf("tag %q has a value with characters AWS does not accept", k), charset
	}
	return "", ""
}

// short quotes s, cut to a readable length.
func short(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		r := []rune(s)
		s = string(r[:40]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

// line returns the recorded line of an identity's field, or its own line.
func (p *parser) line(id *Identity, field string) int {
	if l, ok := p.lines[id.Name+"\x00"+field]; ok {
		return l
	}
	return id.Line
}

// crossCheck validates what spans entries: references, cycles, defaults,
// and the limits that depend on how an identity's chain starts.
func (p *parser) crossCheck(cfg *Config) {
	names := slices.Sorted(maps.Keys(cfg.Identities))
	var defaults []*Identity
	for _, name := range names {
		id := cfg.Identities[name]
		ctx := fmt.Sprintf("identity %q", name)
		if id.Default {
			defaults = append(defaults, id)
		}
		if v := id.ViaProvider; v != "" && !p.declared["provider/"+v] {
			if _, ok := cfg.Providers[v]; !ok {
				p.addAt(p.line(id, "via"), refHint("provider", v, cfg.Providers, cfg.Identities, "identity"), "%s: via.provider %q is not defined", ctx, v)
			}
		}
		if v := id.ViaIdentity; v != "" && !p.declared["identity/"+v] {
			if _, ok := cfg.Identities[v]; !ok {
				p.addAt(p.line(id, "via"), refHint("identity", v, cfg.Identities, cfg.Providers, "provider"), "%s: via.identity %q is not defined", ctx, v)
			}
		}
	}
	if len(defaults) > 1 {
		slices.SortFunc(defaults, func(a, b *Identity) int { return cmp.Compare(a.Line, b.Line) })
		list := make([]string, len(defaults))
		for i, id := range defaults {
			list[i] = fmt.Sprintf("%q (line %d)", id.Name, p.line(id, "default"))
		}
		p.addAt(p.line(defaults[1], "default"), "keep default: true on one identity; pick another at run time with --identity NAME or TFAUTH_IDENTITY",
			"default: true is set on %d identities: %s", len(defaults), strings.Join(list, ", "))
	}
	cyclic := p.cycles(cfg, names)
	for _, name := range names {
		id := cfg.Identities[name]
		if cyclic[name] || id.Kind != KindAssumeRole {
			continue
		}
		p.chainLimits(cfg, id)
	}
}

// refHint suggests a fix for a via reference to an undefined name.
func refHint[A, B any](what, v string, same map[string]A, other map[string]B, otherWhat string) string {
	if s := Nearest(v, slices.Sorted(maps.Keys(same))); s != "" {
		return fmt.Sprintf("did you mean %q?", s)
	}
	if _, ok := other[v]; ok {
		return fmt.Sprintf("%q is %s %s; write via: {%s: %s}", v, article(otherWhat), otherWhat, otherWhat, v)
	}
	if len(same) == 0 {
		return fmt.Sprintf("define it under auth.%s", plural(what))
	}
	return fmt.Sprintf("define it under auth.%s, or use one of: %s", plural(what), strings.Join(slices.Sorted(maps.Keys(same)), ", "))
}

func article(s string) string {
	if strings.HasPrefix(s, "i") {
		return "an"
	}
	return "a"
}

func plural(what string) string {
	if what == "identity" {
		return "identities"
	}
	return what + "s"
}

// cycles reports every via.identity cycle once, naming it, and returns the
// identities on or leading into a cycle.
func (p *parser) cycles(cfg *Config, names []string) map[string]bool {
	const (
		unvisited = iota
		active
		done
	)
	state := map[string]int{}
	bad := map[string]bool{}
	for _, start := range names {
		if state[start] != unvisited {
			continue
		}
		var stack []string
		cur := start
		for {
			id, ok := cfg.Identities[cur]
			if !ok || state[cur] == done {
				if bad[cur] {
					for _, s := range stack {
						bad[s] = true
					}
				}
				break
			}
			if state[cur] == active {
				i := slices.Index(stack, cur)
				cycle := append(append([]string(nil), stack[i:]...), cur)
				first := cfg.Identities[cycle[0]]
				p.addAt(p.line(first, "via"), "break the cycle: one identity in it must start from a provider (via.provider) or be a standalone kind",
					"identity %q: via.identity forms a cycle: %s", first.Name, strings.Join(cycle, " → "))
				for _, s := range stack {
					bad[s] = true
				}
				break
			}
			state[cur] = active
			stack = append(stack, cur)
			if id.ViaIdentity == "" {
				break
			}
			cur = id.ViaIdentity
		}
		for _, s := range stack {
			state[s] = done
		}
	}
	return bad
}

// chainLimits checks the settings that depend on id's parent: web-identity
// roles take no tags, external ID or source identity, and chained roles
// last at most one hour.
func (p *parser) chainLimits(cfg *Config, id *Identity) {
	ctx := fmt.Sprintf("identity %q", id.Name)
	if id.ViaProvider != "" {
		const hint = "AssumeRoleWithWebIdentity takes these from the token's claims; remove it, or set it on an identity chained via this one"
		if len(id.Principal.Tags) > 0 {
			p.addAt(p.line(id, "tags"), hint, "%s: principal.tags cannot be sent when assuming a role with a web identity token (via provider %q)", ctx, id.ViaProvider)
		}
		if id.Principal.SourceIdentity != "" {
			p.addAt(p.line(id, "source_identity"), hint, "%s: principal.source_identity cannot be sent when assuming a role with a web identity token (via provider %q)", ctx, id.ViaProvider)
		}
		if id.Principal.ExternalID != "" {
			p.addAt(p.line(id, "external_id"), "remove it; external IDs apply only to roles assumed with AWS credentials",
				"%s: principal.external_id cannot be sent when assuming a role with a web identity token (via provider %q)", ctx, id.ViaProvider)
		}
	}
	// The session lasts principal.duration, else session.duration.
	field, d := "principal.duration", id.Principal.Duration
	if d == 0 {
		field, d = "session.duration", id.SessionDuration
	}
	// Only an assumed-role parent is surely a session; under aws/ambient and
	// aws/user the run lowers the duration when the parent's credentials
	// turn out to be a session (see chainedDuration).
	if parent, ok := cfg.Identities[id.ViaIdentity]; ok && parent.Kind == KindAssumeRole && d > roleChainLimit {
		p.addAt(p.line(id, field), "use at most 1h; AWS caps role chaining at one hour",
			"%s: %s %s is longer than a chained role session may last (via identity %q, itself an assumed role)",
			ctx, field, fmtDur(d), parent.Name)
	}
}

// resolveRegions fills Identity.Region: principal.region, else the first
// region walking up the chain, else the root provider's region.
func resolveRegions(cfg *Config) {
	for _, id := range cfg.Identities {
		id.Region = chainRegion(cfg, id)
	}
}

func chainRegion(cfg *Config, id *Identity) string {
	for i := 0; id != nil && i <= len(cfg.Identities); i++ {
		if id.Principal.Region != "" {
			return id.Principal.Region
		}
		if id.ViaProvider != "" {
			if pr, ok := cfg.Providers[id.ViaProvider]; ok {
				return pr.Region
			}
			return ""
		}
		if id.ViaIdentity == "" {
			return ""
		}
		id = cfg.Identities[id.ViaIdentity]
	}
	return ""
}

// Nearest returns the candidate closest to s (case-insensitive match first,
// then a small edit distance), or "" when none is close enough to suggest.
// It suggests configuration keys and identity names, and tfauth's commands
// on the command line.
func Nearest(s string, candidates []string) string {
	for _, c := range candidates {
		if strings.EqualFold(c, s) && c != s {
			return c
		}
	}
	limit := 1
	switch n := utf8.RuneCountInString(s); {
	case n > 8:
		limit = 3
	case n > 4:
		limit = 2
	}
	best, bestD := "", limit+1
	for _, c := range candidates {
		if d := distance(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" && utf8.RuneCountInString(s) >= 5 {
		// A shared stem, as in identity/identities.
		ls := strings.ToLower(s)
		for _, c := range candidates {
			if n := commonPrefix(ls, strings.ToLower(c)); n >= len(ls)-2 && n >= len(c)-3 {
				return c
			}
		}
	}
	if best == s {
		return ""
	}
	return best
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// distance is the optimal-string-alignment edit distance (a transposition
// counts as one edit), over runes; long inputs count as far apart.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		if a == b {
			return 0
		}
		return 1 << 20
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
