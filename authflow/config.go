package authflow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

// MaxConfigSize is the largest configuration file Load reads. The defaults
// of options: and spec.audience are DefaultConcurrency, DefaultTimeout and
// DefaultAudience.
const MaxConfigSize = 4 << 20

// ConfigError is one problem found in a configuration file. It prints as
// "file:line: message; hint".
type ConfigError struct {
	// File is the configuration file as it was named to Load or Parse.
	File string
	// Line and Column locate the problem (1-based; 0 when unknown).
	Line, Column int
	// Msg says what is wrong; Hint says what to do about it (may be empty).
	Msg, Hint string
}

// Error implements error.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// ConfigErrors is every problem found in a configuration file, sorted by
// line. It prints one problem per line. Parse and Load return it for every
// problem with the file's content; errors.As also finds each *ConfigError.
type ConfigErrors []*ConfigError

// Error implements error.
func (es ConfigErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the individual errors.
func (es ConfigErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

func (es ConfigErrors) sort() {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Line != es[j].Line {
			return es[i].Line < es[j].Line
		}
		if es[i].Column != es[j].Column {
			return es[i].Column < es[j].Column
		}
		return es[i].Msg < es[j].Msg
	})
}

// Load reads the configuration file at path, decodes it strictly and
// validates it. On a content problem it returns ConfigErrors holding every
// problem found, not just the first.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &causeError{msg: fmt.Sprintf("read the configuration %s: %s", path, pathErrText(err)), err: err}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxConfigSize+1))
	if err != nil {
		return nil, &causeError{msg: fmt.Sprintf("read the configuration %s: %s", path, pathErrText(err)), err: err}
	}
	if len(data) > MaxConfigSize {
		return nil, ConfigErrors{{File: path, Msg: fmt.Sprintf("file is larger than %d MiB", MaxConfigSize>>20),
			Hint: "point TFAUTH_CONFIG at a tfauth.yaml"}}
	}
	return Parse(path, data)
}

// IsAtmosFile reports whether path names an Atmos CLI configuration
// (atmos.yaml, .atmos.yaml, or the .yml forms), of which only the auth:
// section is read.
func IsAtmosFile(path string) bool {
	switch filepath.Base(path) {
	case "atmos.yaml", "atmos.yml", ".atmos.yaml", ".atmos.yml":
		return true
	}
	return false
}

// Parse decodes and validates data, read from path. path is used in error
// messages, to tell an atmos.yaml (see IsAtmosFile) from a tfauth.yaml, and
// to resolve a relative terraform.path. On failure the error is ConfigErrors.
func Parse(path string, data []byte) (*Config, error) {
	p := &parser{
		file: path, atmos: IsAtmosFile(path), budget: maxPairs, lines: map[string]int{},
		merging: map[*yaml.Node]bool{}, declared: map[string]bool{},
	}
	cfg := p.parse(data)
	if len(p.errs) > 0 {
		p.errs.sort()
		return nil, p.errs
	}
	return cfg, nil
}

// maxPairs bounds the mapping entries walked, so merge keys over aliases
// cannot make parsing exponential.
const maxPairs = 1 << 16

// maxMergeDepth bounds nested merge keys (<<: *anchor).
const maxMergeDepth = 16

var yamlLineRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^yaml: line (\d+): (.*)$`) })

// parser accumulates the configuration and every problem found.
type parser struct {
	file   string
	atmos  bool
	errs   ConfigErrors
	budget int
	// merging holds the mappings being expanded by merge keys, to catch
	// a mapping that merges itself.
	merging map[*yaml.Node]bool
	// declared holds every identity and provider name seen, valid or not,
	// so a reference to a broken entry is not also reported as undefined.
	declared    map[string]bool
	anyIdentity bool
	// lines records positions of fields checked after decoding, keyed
	// "<identity>\x00<field>".
	lines map[string]int
}

type pair struct{ key, val *yaml.Node }

func (p *parser) add(n *yaml.Node, hint, format string, args ...any) {
	e := &ConfigError{File: p.file, Msg: fmt.Sprintf(format, args...), Hint: hint}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	p.errs = append(p.errs, e)
}

func (p *parser) addAt(line int, hint, format string, args ...any) {
	p.errs = append(p.errs, &ConfigError{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

// decode reads one YAML document, catching the decoder's rare panics.
func decode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return dec.Decode(n)
}

func (p *parser) syntaxError(data []byte, err error) {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msg = strings.Join(te.Errors, "; ")
	}
	line := 0
	if m := yamlLineRe().FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	hint := "check the indentation and quoting from this line on"
	if lines := bytes.Split(data, []byte("\n")); line > 0 && line <= len(lines) && bytes.Contains(lines[line-1], []byte("\t")) {
		hint = "indent YAML with spaces; this line has a tab"
	}
	p.addAt(line, hint, "invalid YAML: %s", msg)
}

func (p *parser) parse(data []byte) *Config {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := decode(dec, &doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.addAt(0, p.emptyHint(), "file is empty")
		} else {
			p.syntaxError(data, err)
		}
		return nil
	}
	var extra yaml.Node
	if err := decode(dec, &extra); err == nil {
		if c := docContent(&extra); c != nil && !isNull(c) {
			p.add(c, "keep one document: remove the extra --- and what follows, or merge it into the first",
				"file holds more than one YAML document")
		}
	} else if !errors.Is(err, io.EOF) {
		p.syntaxError(data, err)
		return nil
	}
	root := docContent(&doc)
	if root == nil || isNull(root) {
		p.addAt(0, p.emptyHint(), "file is empty")
		return nil
	}
	if root.Kind != yaml.MappingNode {
		p.add(root, p.emptyHint(), "top level must be a mapping with an auth: key, got %s", describe(root))
		return nil
	}
	cfg := &Config{
		File:       p.file,
		Options:    Options{Concurrency: DefaultConcurrency, Timeout: DefaultTimeout, UserProfiles: true},
		Providers:  map[string]*Provider{},
		Identities: map[string]*Identity{},
	}
	var auth *pair
	for _, kv := range p.pairs(root, "top level", 0) {
		key := kv.key.Value
		if key == "auth" {
			auth = &kv
			continue
		}
		if p.atmos {
			continue // every other section of atmos.yaml belongs to Atmos
		}
		switch key {
		case "terraform":
			p.terraform(kv.val, cfg)
		case "options":
			p.options(kv.val, cfg)
		default:
			if strings.HasPrefix(key, "x-") {
				continue // room for YAML anchors, as in Compose files
			}
			p.unknownKey(kv.key, "", "top level", []string{"auth", "options", "terraform"})
		}
	}
	if auth == nil {
		line := 0
		if !p.atmos {
			line = root.Line
		}
		p.addAt(line, "add an auth: section with providers: and identities: (the schema of Atmos' auth:)", "no auth: section")
		return nil
	}
	p.auth(auth.key, auth.val, cfg)
	p.crossCheck(cfg)
	if len(p.errs) == 0 {
		resolveRegions(cfg)
	}
	return cfg
}

func (p *parser) emptyHint() string {
	if p.atmos {
		return "add an auth: section with providers: and identities:"
	}
	return "add an auth: section with providers: and identities: (the schema of Atmos' auth:)"
}

func docContent(doc *yaml.Node) *yaml.Node {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	return deref(doc.Content[0])
}

// deref follows aliases to the anchored node.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 64; i++ {
		n = n.Alias
	}
	if n == nil || n.Kind == yaml.AliasNode {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names a node's shape for error messages.
func describe(n *yaml.Node) string {
	n = deref(n)
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		return strconv.Quote(v)
	}
	return "an empty document"
}

// pairs returns the entries of mapping n in document order, with merge keys
// (<<) expanded, reporting duplicate and non-scalar keys.
func (p *parser) pairs(n *yaml.Node, ctx string, depth int) []pair {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return nil
	}
	seen := map[string]*yaml.Node{}
	var out, merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		if p.budget--; p.budget < 0 {
			if p.budget == -1 {
				p.add(n, "simplify the anchors and merge keys", "%s: too many entries after expanding aliases", ctx)
			}
			return nil
		}
		k, v := n.Content[i], n.Content[i+1]
		kd := deref(k)
		if kd.Kind == yaml.ScalarNode && kd.Tag == "!!merge" {
			merged = append(merged, p.merge(v, ctx, depth)...)
			continue
		}
		if kd.Kind != yaml.ScalarNode {
			p.add(k, "use a plain name as the key", "%s: key is %s, not a name", ctx, describe(kd))
			continue
		}
		if prev, ok := seen[kd.Value]; ok {
			p.add(k, "remove one of them", "%s: key %q is defined twice (first at line %d)", ctx, kd.Value, prev.Line)
			continue
		}
		seen[kd.Value] = k
		out = append(out, pair{key: kd, val: v})
	}
	for _, kv := range merged {
		if _, ok := seen[kv.key.Value]; ok {
			continue
		}
		seen[kv.key.Value] = kv.key
		out = append(out, kv)
	}
	return out
}

func (p *parser) merge(v *yaml.Node, ctx string, depth int) []pair {
	if depth >= maxMergeDepth {
		p.add(v, "simplify the anchors and merge keys", "%s: merge keys (<<) nest too deeply", ctx)
		return nil
	}
	at := v
	v = deref(v)
	switch v.Kind {
	case yaml.MappingNode:
		return p.mergeOne(at, v, ctx, depth)
	case yaml.SequenceNode:
		var out []pair
		for _, item := range v.Content {
			if deref(item).Kind != yaml.MappingNode {
				p.add(item, "merge only mappings", "%s: merge key (<<) refers to %s", ctx, describe(item))
				continue
			}
			out = append(out, p.mergeOne(item, deref(item), ctx, depth)...)
		}
		return out
	}
	p.add(v, "merge only mappings", "%s: merge key (<<) refers to %s", ctx, describe(v))
	return nil
}

func (p *parser) mergeOne(at, m *yaml.Node, ctx string, depth int) []pair {
	if p.merging[m] {
		p.add(at, "merge another anchor", "%s: merge key (<<) refers to a mapping that contains it", ctx)
		return nil
	}
	p.merging[m] = true
	defer delete(p.merging, m)
	return p.pairs(m, ctx, depth+1)
}

// unknownKey reports a key outside the schema, suggesting the nearest.
// known holds full names, each starting with prefix.
func (p *parser) unknownKey(k *yaml.Node, prefix, ctx string, known []string) {
	hint := "known keys: " + strings.Join(known, ", ")
	base := make([]string, len(known))
	for i, s := range known {
		base[i] = strings.TrimPrefix(s, prefix)
	}
	if s := Nearest(k.Value, base); s != "" {
		hint = fmt.Sprintf("did you mean %q?", prefix+s)
	}
	p.add(k, hint, "%s: unknown key %q", ctx, prefix+k.Value)
}

// mapping checks that n is a mapping (null counts as empty) and returns its entries.
func (p *parser) mapping(n *yaml.Node, ctx, field string) ([]pair, bool) {
	d := deref(n)
	if isNull(d) {
		return nil, true
	}
	if d.Kind == yaml.ScalarNode && p.customTag(d, ctx, field) {
		return nil, false
	}
	if d.Kind != yaml.MappingNode {
		p.add(n, "", "%s: %s must be a mapping, got %s", ctx, field, describe(d))
		return nil, false
	}
	return p.pairs(d, ctx, 0), true
}

// customTag reports Atmos YAML functions (!env, !exec, …), which tfauth
// does not evaluate.
func (p *parser) customTag(n *yaml.Node, ctx, field string) bool {
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") && n.Tag != "!" {
		p.add(n, "write the value itself", "%s: %s uses the YAML tag %s, which tfauth does not evaluate", ctx, field, n.Tag)
		return true
	}
	return false
}

// str reads a scalar as a string; null reads as "".
func (p *parser) str(n *yaml.Node, ctx, field string) (string, bool) {
	d := deref(n)
	if isNull(d) {
		return "", true
	}
	if d.Kind != yaml.ScalarNode {
		p.add(n, "", "%s: %s must be a string, got %s", ctx, field, describe(d))
		return "", false
	}
	if p.customTag(d, ctx, field) {
		return "", false
	}
	return d.Value, true
}

func (p *parser) boolean(n *yaml.Node, ctx, field string) (bool, bool) {
	d := deref(n)
	var b bool
	if d.Kind != yaml.ScalarNode || p.customTag(d, ctx, field) {
		p.add(n, "", "%s: %s must be true or false, got %s", ctx, field, describe(d))
		return false, false
	}
	if err := d.Decode(&b); err != nil {
		p.add(n, "", "%s: %s must be true or false, got %s", ctx, field, describe(d))
		return false, false
	}
	return b, true
}

func (p *parser) integer(n *yaml.Node, ctx, field string) (int, bool) {
	d := deref(n)
	var i int
	if d.Kind != yaml.ScalarNode || d.Decode(&i) != nil {
		p.add(n, "", "%s: %s must be a whole number, got %s", ctx, field, describe(d))
		return 0, false
	}
	return i, true
}

// duration reads a Go duration ("90m", "1h") within [lo, hi].
func (p *parser) duration(n *yaml.Node, ctx, field string, lo, hi time.Duration) (time.Duration, bool) {
	d := deref(n)
	rng := fmt.Sprintf("between %s and %s", fmtDur(lo), fmtDur(hi))
	if d.Kind != yaml.ScalarNode || isNull(d) {
		p.add(n, "write a duration such as 1h or 90m, "+rng, "%s: %s must be a duration, got %s", ctx, field, describe(d))
		return 0, false
	}
	if p.customTag(d, ctx, field) {
		return 0, false
	}
	v, err := time.ParseDuration(d.Value)
	if err != nil {
		hint := "write a duration such as 1h or 90m, " + rng
		if _, aerr := strconv.Atoi(d.Value); aerr == nil {
			hint = fmt.Sprintf("add a unit, as in %ss or 1h (Go duration syntax), %s", d.Value, rng)
		}
		p.add(n, hint, "%s: %s %q is not a duration", ctx, field, d.Value)
		return 0, false
	}
	if v < lo || v > hi {
		p.add(n, "use a duration "+rng, "%s: %s %s is out of range", ctx, field, d.Value)
		return 0, false
	}
	return v, true
}

// fmtDur prints d without zero minor units: 1h, 15m, 1h30m, 1m30s.
func fmtDur(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func (p *parser) terraform(n *yaml.Node, cfg *Config) {
	kvs, _ := p.mapping(n, "top level", "terraform")
	for _, kv := range kvs {
		switch kv.key.Value {
		case "path":
			v, ok := p.str(kv.val, "terraform", "path")
			if !ok {
				continue
			}
			if strings.TrimSpace(v) == "" {
				p.add(kv.val, "give the path to the real terraform binary, or remove the key to search PATH", "terraform: path is empty")
				continue
			}
			cfg.Terraform = TerraformSettings{Path: resolveTerraformPath(p.file, v), Line: kv.key.Line}
		default:
			p.unknownKey(kv.key, "", "terraform", []string{"path"})
		}
	}
}

func (p *parser) options(n *yaml.Node, cfg *Config) {
	kvs, _ := p.mapping(n, "top level", "options")
	for _, kv := range kvs {
		switch kv.key.Value {
		case "concurrency":
			if v, ok := p.integer(kv.val, "options", "concurrency"); ok {
				if v < 1 || v > 64 {
					p.add(kv.val, "use a number from 1 to 64 (default 8)", "options: concurrency %d is out of range", v)
				} else {
					cfg.Options.Concurrency = v
				}
			}
		case "timeout":
			if v, ok := p.duration(kv.val, "options", "timeout", time.Second, time.Hour); ok {
				cfg.Options.Timeout = v
			}
		case "user_profiles":
			if v, ok := p.boolean(kv.val, "options", "user_profiles"); ok {
				cfg.Options.UserProfiles = v
			}
		default:
			p.unknownKey(kv.key, "", "options", []string{"concurrency", "timeout", "user_profiles"})
		}
	}
}

var authKeys = []string{"console", "identities", "integrations", "keyring", "logs", "providers", "realm"}

func (p *parser) auth(key, n *yaml.Node, cfg *Config) {
	kvs, ok := p.mapping(n, "top level", "auth")
	if !ok {
		return
	}
	var identities *pair
	for _, kv := range kvs {
		switch kv.key.Value {
		case "providers":
			entries, _ := p.mapping(kv.val, "auth", "providers")
			for _, e := range entries {
				p.provider(e.key, e.val, cfg)
			}
		case "identities":
			identities = &kv
			entries, _ := p.mapping(kv.val, "auth", "identities")
			for _, e := range entries {
				p.identity(e.key, e.val, cfg)
			}
		case "realm", "integrations":
			// Atmos settings tfauth does not use.
		case "logs":
			p.ignored(kv.val, "auth.logs", []string{"file", "level"})
		case "keyring":
			p.ignored(kv.val, "auth.keyring", []string{"spec", "type"})
		case "console":
			p.ignored(kv.val, "auth.console", []string{"isolated"})
		default:
			p.unknownKey(kv.key, "", "auth", authKeys)
			if Nearest(kv.key.Value, authKeys) == "identities" {
				p.anyIdentity = true // the typo is reported; "no identities" would be noise
			}
		}
	}
	if !p.anyIdentity {
		at := key
		if identities != nil {
			at = identities.key
		}
		p.add(at, "define at least one identity under auth.identities", "auth: no identities")
	}
}

// ignored checks the keys of an Atmos-only mapping whose values tfauth does not use.
func (p *parser) ignored(n *yaml.Node, ctx string, known []string) {
	kvs, _ := p.mapping(n, ctx, "value")
	for _, kv := range kvs {
		if !slices.Contains(known, kv.key.Value) {
			p.unknownKey(kv.key, "", ctx, known)
		}
	}
}

var providerKeys = []string{
	"auto_provision_identities", "browser_executable_path", "browser_type", "console", "default",
	"download_browser_driver", "driver", "kind", "password", "provider_type", "region", "session",
	"spec", "start_url", "tags", "url", "username",
}

var providerSpecKeys = map[string][]string{
	KindGitHubOIDC: {"audience"},
	KindEnvToken:   {"env"},
	KindFileToken:  {"file"},
}

func (p *parser) provider(key, n *yaml.Node, cfg *Config) {
	name := key.Value
	ctx := fmt.Sprintf("provider %q", name)
	p.declared["provider/"+name] = true
	if !p.checkName(key, "provider") {
		return
	}
	kvs, ok := p.mapping(n, ctx, "its definition")
	if !ok {
		return
	}
	pr := &Provider{Name: name, Line: key.Line}
	var spec *pair
	for _, kv := range kvs {
		switch kv.key.Value {
		case "kind":
			pr.Kind, _ = p.str(kv.val, ctx, "kind")
		case "region":
			if v, ok := p.str(kv.val, ctx, "region"); ok && v != "" {
				if p.checkRegion(kv.val, ctx, "region", v) {
					pr.Region = v
				}
			}
		case "spec":
			spec = &kv
		case "session":
			p.ignored(kv.val, ctx+": session", []string{"duration"})
		case "console":
			p.ignored(kv.val, ctx+": console", []string{"session_duration"})
		case "default", "tags", "start_url", "url", "username", "password", "driver", "provider_type",
			"download_browser_driver", "browser_type", "browser_executable_path", "auto_provision_identities":
			// Atmos settings tfauth does not use.
		default:
			p.unknownKey(kv.key, "", ctx, providerKeys)
		}
	}
	if pr.Kind == "" {
		p.add(key, "add kind: with one of "+strings.Join(providerKinds, ", "), "%s: kind is missing", ctx)
		return
	}
	known, ok := providerSpecKeys[pr.Kind]
	if !ok {
		p.add(key, "use one of "+strings.Join(providerKinds, ", "), "%s: kind %q is not supported%s", ctx, pr.Kind, atmosOnly(pr.Kind))
		return
	}
	if pr.Kind == KindGitHubOIDC {
		pr.Audience = DefaultAudience
	}
	if spec != nil {
		kvs, _ := p.mapping(spec.val, ctx, "spec")
		for _, kv := range kvs {
			if !slices.Contains(known, kv.key.Value) {
				p.unknownKey(kv.key, "spec.", ctx, prefixed("spec.", known))
				continue
			}
			v, ok := p.str(kv.val, ctx, "spec."+kv.key.Value)
			if !ok {
				continue
			}
			switch kv.key.Value {
			case "audience":
				if strings.TrimSpace(v) == "" {
					p.add(kv.val, "remove it to use "+DefaultAudience, "%s: spec.audience is empty", ctx)
				} else {
					pr.Audience = v
				}
			case "env":
				if v == "" {
					break // reported below
				}
				if !envNameRe().MatchString(v) {
					// Never echo the value: a pasted token would end up in CI logs.
					p.add(kv.val, "give the name of the variable that holds the token (letters, digits and _, not starting with a digit), not the token itself",
						"%s: spec.env is not an environment variable name", ctx)
				}
				pr.TokenEnv = v
			case "file":
				pr.TokenFile = v
			}
		}
	}
	if pr.Kind == KindEnvToken && pr.TokenEnv == "" {
		at := key
		if spec != nil {
			at = spec.key
		}
		p.add(at, "add spec: {env: NAME}, naming the variable that holds the token (e.g. a GitLab id_tokens entry)",
			"%s: spec.env is required for kind %s", ctx, KindEnvToken)
	}
	cfg.Providers[name] = pr
}

func prefixed(prefix string, keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = prefix + k
	}
	return out
}

var (
	providerKinds = []string{KindGitHubOIDC, KindEnvToken, KindFileToken}
	identityKinds = []string{KindAssumeRole, KindAmbient, KindUser}
	// atmosKinds are kinds Atmos knows and tfauth does not implement.
	atmosKinds = []string{
		"aws/iam-identity-center", "aws/saml", "atmos/pro", "azure/cli", "azure/device-code",
		"azure/interactive", "azure/oidc", "gcp/adc", "gcp/workload-identity-federation", "mock", "mock/aws",
		"aws/permission-set", "aws/assume-root", "ambient", "azure/subscription", "gcp/service-account", "gcp/project",
	}
)

func atmosOnly(kind string) string {
	if slices.Contains(atmosKinds, kind) || strings.HasSuffix(kind, "/emulator") {
		return " by tfauth (it is an Atmos kind tfauth does not implement)"
	}
	return ""
}

var identityKeys = []string{
	"alias", "credentials", "default", "emulator", "env", "kind", "principal", "provider",
	"required", "session", "spec", "tags", "via",
}

var principalKeys = []string{"assume_role", "duration", "external_id", "region", "session_name", "source_identity", "tags"}

// identityFields gathers the raw entries of one identity before the kind is known.
type identityFields struct {
	via, principal, credentials, spec, provider *pair
}

func (p *parser) identity(key, n *yaml.Node, cfg *Config) {
	name := key.Value
	ctx := fmt.Sprintf("identity %q", name)
	p.declared["identity/"+name] = true
	p.anyIdentity = true
	if !p.checkIdentityName(key) {
		return
	}
	kvs, ok := p.mapping(n, ctx, "its definition")
	if !ok {
		return
	}
	id := &Identity{Name: name, Line: key.Line}
	var f identityFields
	for _, kv := range kvs {
		switch kv.key.Value {
		case "kind":
			id.Kind, _ = p.str(kv.val, ctx, "kind")
		case "default":
			id.Default, _ = p.boolean(kv.val, ctx, "default")
			if id.Default {
				p.lines[name+"\x00default"] = kv.key.Line
			}
		case "required":
			id.Required, _ = p.boolean(kv.val, ctx, "required")
		case "via":
			f.via = &kv
		case "principal":
			f.principal = &kv
		case "credentials":
			f.credentials = &kv
		case "spec":
			f.spec = &kv
		case "provider":
			f.provider = &kv
			_, _ = p.str(kv.val, ctx, "provider")
		case "session":
			sess, _ := p.mapping(kv.val, ctx, "session")
			for _, s := range sess {
				if s.key.Value != "duration" {
					p.unknownKey(s.key, "session.", ctx, []string{"session.duration"})
					continue
				}
				id.SessionDuration, _ = p.duration(s.val, ctx, "session.duration", 15*time.Minute, 12*time.Hour)
				p.lines[name+"\x00session.duration"] = s.key.Line
			}
		case "env":
			id.Env = p.env(kv.val, ctx)
		case "alias":
			_, _ = p.str(kv.val, ctx, "alias")
		case "tags":
			if d := deref(kv.val); !isNull(d) && d.Kind != yaml.SequenceNode {
				p.add(kv.val, "tags here is Atmos' list of labels; session tags go in principal.tags", "%s: tags must be a list, got %s", ctx, describe(d))
			}
		case "emulator":
			// Atmos setting tfauth does not use.
		default:
			p.unknownKey(kv.key, "", ctx, identityKeys)
		}
	}
	switch id.Kind {
	case "":
		p.add(key, "add kind: with one of "+strings.Join(identityKinds, ", "), "%s: kind is missing", ctx)
		return
	case KindAssumeRole:
		p.assumeRole(key, id, f, ctx)
	case KindAmbient, KindUser:
		p.standalone(id, f, ctx)
	default:
		p.add(key, "use one of "+strings.Join(identityKinds, ", "), "%s: kind %q is not supported%s", ctx, id.Kind, atmosOnly(id.Kind))
		return
	}
	cfg.Identities[name] = id
}

func (p *parser) assumeRole(key *yaml.Node, id *Identity, f identityFields, ctx string) {
	if f.via == nil {
		hint := "add via: {provider: NAME} or via: {identity: NAME}"
		if f.provider != nil && deref(f.provider.val).Value != "" {
			hint = fmt.Sprintf("write via: {provider: %s}; tfauth follows via:, not provider:", deref(f.provider.val).Value)
		}
		p.add(key, hint, "%s: via is missing; %s needs a provider or identity to start from", ctx, KindAssumeRole)
	} else {
		p.via(f.via, id, ctx)
	}
	if f.credentials != nil {
		p.add(f.credentials.key, "remove it; only "+KindUser+" reads credentials", "%s: credentials is not used by %s", ctx, KindAssumeRole)
	}
	// spec is free-form in Atmos; tfauth reads nothing from it for assume-role.
	if f.principal == nil {
		p.add(key, "add principal: {assume_role: arn:aws:iam::<12-digit account>:role/<name>}", "%s: principal.assume_role is missing", ctx)
		return
	}
	kvs, ok := p.mapping(f.principal.val, ctx, "principal")
	if !ok {
		return
	}
	pr := &id.Principal
	arnKey := false
	for _, kv := range kvs {
		field := "principal." + kv.key.Value
		switch kv.key.Value {
		case "assume_role":
			v, ok := p.str(kv.val, ctx, field)
			arnKey = !ok // already reported
			if ok && v != "" {
				if m, h := checkRoleARN(v); m != "" {
					p.add(kv.val, h, "%s: %s %q %s", ctx, field, v, m)
				}
				pr.AssumeRole = v
			}
		case "session_name":
			if v, ok := p.str(kv.val, ctx, field); ok {
				if m, h := checkSessionName(v); m != "" {
					p.add(kv.val, h, "%s: %s %q %s", ctx, field, v, m)
				}
				pr.SessionName = v
			}
		case "source_identity":
			if v, ok := p.str(kv.val, ctx, field); ok {
				if m, h := checkSourceIdentity(v); m != "" {
					p.add(kv.val, h, "%s: %s %q %s", ctx, field, v, m)
				}
				pr.SourceIdentity = v
				p.lines[id.Name+"\x00source_identity"] = kv.key.Line
			}
		case "external_id":
			if v, ok := p.str(kv.val, ctx, field); ok {
				if m, h := checkExternalID(v); m != "" {
					// External IDs are shared secrets of a kind; do not echo them.
					p.add(kv.val, h, "%s: %s %s", ctx, field, m)
				}
				pr.ExternalID = v
				p.lines[id.Name+"\x00external_id"] = kv.key.Line
			}
		case "duration":
			pr.Duration, _ = p.duration(kv.val, ctx, field, 15*time.Minute, 12*time.Hour)
			p.lines[id.Name+"\x00principal.duration"] = kv.key.Line
		case "region":
			if v, ok := p.str(kv.val, ctx, field); ok && v != "" && p.checkRegion(kv.val, ctx, field, v) {
				pr.Region = v
			}
		case "tags":
			pr.Tags = p.tags(kv.key, kv.val, ctx)
			p.lines[id.Name+"\x00tags"] = kv.key.Line
		default:
			p.unknownKey(kv.key, "principal.", ctx, prefixed("principal.", principalKeys))
		}
	}
	if pr.AssumeRole == "" && !arnKey {
		p.add(f.principal.key, "add assume_role: arn:aws:iam::<12-digit account>:role/<name>", "%s: principal.assume_role is missing", ctx)
	}
}

func (p *parser) via(kv *pair, id *Identity, ctx string) {
	kvs, ok := p.mapping(kv.val, ctx, "via")
	if !ok {
		return
	}
	unknown := false
	for _, e := range kvs {
		switch e.key.Value {
		case "provider":
			id.ViaProvider, _ = p.str(e.val, ctx, "via.provider")
			p.lines[id.Name+"\x00via"] = e.val.Line
		case "identity":
			id.ViaIdentity, _ = p.str(e.val, ctx, "via.identity")
			p.lines[id.Name+"\x00via"] = e.val.Line
		default:
			unknown = true
			p.unknownKey(e.key, "via.", ctx, []string{"via.identity", "via.provider"})
		}
	}
	switch {
	case id.ViaProvider != "" && id.ViaIdentity != "":
		p.add(kv.key, "keep one: via.provider starts the chain at a provider, via.identity continues another identity's chain",
			"%s: via sets both provider and identity", ctx)
	case id.ViaProvider == "" && id.ViaIdentity == "" && !unknown:
		p.add(kv.key, "set via.provider or via.identity", "%s: via names neither a provider nor an identity", ctx)
	}
}

func (p *parser) standalone(id *Identity, f identityFields, ctx string) {
	if f.via != nil {
		p.add(f.via.key, "remove via; "+id.Kind+" does not chain from a provider or identity", "%s: via is not allowed on %s", ctx, id.Kind)
	}
	if f.principal != nil {
		kvs, _ := p.mapping(f.principal.val, ctx, "principal")
		for _, kv := range kvs {
			if kv.key.Value != "region" {
				p.standalonePrincipalKey(kv.key, id, ctx)
				continue
			}
			if v, ok := p.str(kv.val, ctx, "principal.region"); ok && v != "" && p.checkRegion(kv.val, ctx, "principal.region", v) {
				id.Principal.Region = v
			}
		}
	}
	if f.credentials != nil {
		if id.Kind != KindUser {
			p.add(f.credentials.key, "remove it", "%s: credentials is not used by %s", ctx, id.Kind)
		} else {
			p.userCredentials(f.credentials, id, ctx)
		}
	}
	if f.spec != nil && id.Kind == KindUser {
		kvs, _ := p.mapping(f.spec.val, ctx, "spec")
		for _, kv := range kvs {
			if kv.key.Value != "profile" {
				p.unknownKey(kv.key, "spec.", ctx, []string{"spec.profile"})
				continue
			}
			id.Profile, _ = p.str(kv.val, ctx, "spec.profile")
		}
	}
}

// standalonePrincipalKey reports a principal key other than region on an
// aws/ambient or aws/user identity: one of aws/assume-role's keys is known
// but not used by this kind, anything else is unknown.
func (p *parser) standalonePrincipalKey(k *yaml.Node, id *Identity, ctx string) {
	if !slices.Contains(principalKeys, k.Value) {
		p.unknownKey(k, "principal.", ctx, []string{"principal.region"})
		return
	}
	hint := "remove it (" + id.Kind + " reads only principal.region)"
	if k.Value == "assume_role" {
		hint = fmt.Sprintf("move it to an %s identity with via: {identity: %s}", KindAssumeRole, id.Name)
	}
	p.add(k, hint, "%s: principal.%s is not used by %s", ctx, k.Value, id.Kind)
}

// userCredentials accepts only region from Atmos' credentials: block and
// rejects key material without ever echoing it.
func (p *parser) userCredentials(kv *pair, id *Identity, ctx string) {
	kvs, ok := p.mapping(kv.val, ctx, "credentials")
	if !ok {
		return
	}
	var keys []string
	for _, e := range kvs {
		switch e.key.Value {
		case "region":
			if v, ok := p.str(e.val, ctx, "credentials.region"); ok && v != "" && p.checkRegion(e.val, ctx, "credentials.region", v) {
				if id.Principal.Region == "" {
					id.Principal.Region = v
				}
			}
		default:
			keys = append(keys, e.key.Value)
		}
	}
	if len(keys) > 0 {
		p.add(kv.key, "remove them; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, or name a profile of your own shared files in spec.profile",
			"%s: credentials.%s: tfauth does not read keys from its configuration", ctx, strings.Join(keys, ", credentials."))
	}
}

func (p *parser) env(n *yaml.Node, ctx string) []EnvVar {
	d := deref(n)
	if isNull(d) {
		return nil
	}
	if d.Kind != yaml.SequenceNode {
		p.add(n, "write env: as a list of {key: NAME, value: VALUE}", "%s: env must be a list, got %s", ctx, describe(d))
		return nil
	}
	var out []EnvVar
	for i, item := range d.Content {
		field := fmt.Sprintf("env[%d]", i)
		kvs, ok := p.mapping(item, ctx, field)
		if !ok {
			continue
		}
		var ev EnvVar
		for _, kv := range kvs {
			switch kv.key.Value {
			case "key":
				ev.Key, _ = p.str(kv.val, ctx, field+".key")
			case "value":
				ev.Value, _ = p.str(kv.val, ctx, field+".value")
			default:
				p.unknownKey(kv.key, field+".", ctx, []string{field + ".key", field + ".value"})
			}
		}
		if ev.Key == "" {
			p.add(item, "write each entry as {key: NAME, value: VALUE}", "%s: %s.key is missing", ctx, field)
			continue
		}
		if !envNameRe().MatchString(ev.Key) {
			p.add(item, "set key: to a variable name (letters, digits and _, not starting with a digit)", "%s: %s.key %q is not an environment variable name", ctx, field, ev.Key)
			continue
		}
		out = append(out, ev)
	}
	return out
}

func (p *parser) tags(key, n *yaml.Node, ctx string) map[string]string {
	kvs, ok := p.mapping(n, ctx, "principal.tags")
	if !ok {
		return nil
	}
	if len(kvs) > maxTags {
		p.add(key, "keep at most 50 session tags", "%s: principal.tags has %d tags", ctx, len(kvs))
	}
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		v, ok := p.str(kv.val, ctx, fmt.Sprintf("principal.tags.%s", kv.key.Value))
		if !ok {
			continue
		}
		if m, h := checkTag(kv.key.Value, v); m != "" {
			p.add(kv.key, h, "%s: principal.tags: %s", ctx, m)
			continue
		}
		out[kv.key.Value] = v
	}
	return out
}

func (p *parser) checkName(key *yaml.Node, what string) bool {
	if nameRe().MatchString(key.Value) {
		return true
	}
	hint := "use only letters, digits, /, _, . and -"
	if what == "identity" {
		hint += " (identity names become AWS profile names)"
	}
	p.add(key, hint, "%s name %q is not valid", what, key.Value)
	return false
}

// reservedProfile is the one valid name an identity cannot have: the INI
// parser behind the generated shared files reads a [DEFAULT] section as
// keys shared by every section, not as a profile.
const reservedProfile = "DEFAULT"

// checkIdentityName checks an identity's name, which becomes a profile name.
func (p *parser) checkIdentityName(key *yaml.Node) bool {
	if !p.checkName(key, "identity") {
		return false
	}
	if key.Value == reservedProfile {
		p.add(key, `rename it; the default profile is "default", in lower case`,
			"identity name %q is reserved: the shared files' [%s] section is not a profile", key.Value, reservedProfile)
		return false
	}
	return true
}

func (p *parser) checkRegion(n *yaml.Node, ctx, field, v string) bool {
	if regionRe().MatchString(v) {
		return true
	}
	p.add(n, "use an AWS region code such as us-east-1", "%s: %s %q is not a region", ctx, field, v)
	return false
}
