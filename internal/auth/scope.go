package auth

import (
	"fmt"
	"strings"

	"berth/internal/berth"
)

// Access types of token scopes and of the JWT "access" claim.
const (
	TypeRepository = "repository" // Name is a repository; actions are pull, push, ...
	TypeRegistry   = "registry"   // Name is "catalog"; the action is "*"
	CatalogName    = "catalog"
)

// maxScopes bounds the scopes one token request may ask for.
const maxScopes = 100

// ParseScopes parses the scope parameters of a token request. Each value
// holds one or more scopes separated by spaces, each "type:name:actions"
// with comma-separated actions. It returns KindInvalid naming the first
// malformed scope, or when more than 100 scopes are asked for.
func ParseScopes(values []string) ([]berth.Access, error) {
	var out []berth.Access
	for _, v := range values {
		for s := range strings.FieldsSeq(v) {
			if len(out) == maxScopes {
				return nil, berth.E("auth.ParseScopes", berth.KindInvalid, "more than %d scopes requested", maxScopes)
			}
			a, err := ParseScope(s)
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// ParseScope parses one scope "type:name:actions": the type runs to the
// first colon, the actions follow the last one. A repository scope must name
// a valid repository. It returns KindInvalid naming what is wrong. Unknown
// types and actions parse; they are simply never granted.
func ParseScope(s string) (berth.Access, error) {
	const op = "auth.ParseScope"
	first, last := strings.IndexByte(s, ':'), strings.LastIndexByte(s, ':')
	if first < 0 || first == last {
		return berth.Access{}, berth.E(op, berth.KindInvalid, "scope %q does not read type:name:actions", s)
	}
	a := berth.Access{Type: s[:first], Name: s[first+1 : last]}
	if a.Type == "" || !printable(a.Type) {
		return berth.Access{}, berth.E(op, berth.KindInvalid, "scope %q has an invalid type", s)
	}
	if a.Name == "" || !printable(a.Name) {
		return berth.Access{}, berth.E(op, berth.KindInvalid, "scope %q has an invalid name", s)
	}
	if a.Type == TypeRepository && !validRepositoryName(a.Name) {
		return berth.Access{}, berth.E(op, berth.KindInvalid, "scope %q: %q is not a valid repository name", s, a.Name)
	}
	for act := range strings.SplitSeq(s[last+1:], ",") {
		if act == "" || !printable(act) {
			return berth.Access{}, berth.E(op, berth.KindInvalid, "scope %q has an empty or invalid action", s)
		}
		a.Actions = append(a.Actions, act)
	}
	return a, nil
}

// FormatScope returns a as a scope string, "repository:a/b:pull,push".
func FormatScope(a berth.Access) string {
	return a.Type + ":" + a.Name + ":" + strings.Join(a.Actions, ",")
}

// formatScopes joins scopes with spaces, as a challenge's scope parameter
// and a token response's "scope" field carry them.
func formatScopes(as []berth.Access) string {
	parts := make([]string, 0, len(as))
	for _, a := range as {
		parts = append(parts, FormatScope(a))
	}
	return strings.Join(parts, " ")
}

// printable reports whether s is made of visible ASCII other than the
// quote and backslash, so that it can go into a header unescaped.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// validRepositoryName reports whether name follows the OCI grammar of
// repository names: slash-separated components of lowercase letters and
// digits joined by ".", "_", "__" or dashes, at most 255 characters.
func validRepositoryName(name string) bool {
	if name == "" || len(name) > 255 {
		return false
	}
	for c := range strings.SplitSeq(name, "/") {
		if !validComponent(c) {
			return false
		}
	}
	return true
}

// validComponent matches [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*.
func validComponent(c string) bool {
	i := 0
	for {
		j := i
		for j < len(c) && isAlnum(c[j]) {
			j++
		}
		if j == i {
			return false
		}
		if j == len(c) {
			return true
		}
		switch c[j] {
		case '.':
			j++
		case '_':
			j++
			if j < len(c) && c[j] == '_' {
				j++
			}
		case '-':
			for j < len(c) && c[j] == '-' {
				j++
			}
		default:
			return false
		}
		i = j
	}
}

func isAlnum(b byte) bool { return 'a' <= b && b <= 'z' || '0' <= b && b <= '9' }

// verbs is a set of repository actions.
type verbs uint8

const (
	canPull verbs = 1 << iota
	canPush
	canDelete
	canReadMeta
	canWriteMeta

	canAll = canPull | canPush | canDelete | canReadMeta | canWriteMeta
)

// eachVerb calls f for every single verb in canonical order.
func eachVerb(f func(v verbs)) {
	for v := canPull; v <= canWriteMeta; v <<= 1 {
		f(v)
	}
}

// docker returns the token action of a single verb.
func (v verbs) docker() string {
	switch v {
	case canPull:
		return berth.ActionPull
	case canPush:
		return berth.ActionPush
	case canDelete:
		return berth.ActionDelete
	case canReadMeta:
		return berth.ActionMetadataRead
	case canWriteMeta:
		return berth.ActionMetadataWrite
	}
	return ""
}

// scopeMap returns the scope-map action of a single verb.
func (v verbs) scopeMap() string {
	switch v {
	case canPull:
		return "content/read"
	case canPush:
		return "content/write"
	case canDelete:
		return "content/delete"
	case canReadMeta:
		return "metadata/read"
	case canWriteMeta:
		return "metadata/write"
	}
	return ""
}

// verbOf returns the verbs of a token action; "*" is all of them. Unknown
// actions are 0.
func verbOf(action string) verbs {
	if action == "*" {
		return canAll
	}
	var out verbs
	eachVerb(func(v verbs) {
		if v.docker() == action {
			out = v
		}
	})
	return out
}

func verbsOf(actions []string) verbs {
	var v verbs
	for _, a := range actions {
		v |= verbOf(a)
	}
	return v
}

// actions lists v as token actions in canonical order.
func (v verbs) actions() []string {
	var out []string
	eachVerb(func(one verbs) {
		if v&one != 0 {
			out = append(out, one.docker())
		}
	})
	return out
}

// scopeMapActions lists v as scope-map actions, for messages.
func (v verbs) scopeMapActions() string {
	var out []string
	eachVerb(func(one verbs) {
		if v&one != 0 {
			out = append(out, one.scopeMap())
		}
	})
	return strings.Join(out, ", ")
}

// Grants is what a principal may do in its registry: compiled from a scope
// map, or everything for the admin user and the operator. The zero Grants
// allows nothing.
type Grants struct {
	all     bool
	catalog bool
	rules   []grantRule
}

type grantRule struct {
	pattern string // a repository name, or a prefix when prefix is set
	prefix  bool
	verbs   verbs
}

// AllGrants returns the grants of the admin user and of the operator: every
// action on every repository, and the catalog.
func AllGrants() Grants { return Grants{all: true, catalog: true} }

// anonymousGrants are the grants of an anonymous caller of a registry with
// anonymous pull enabled: pull and metadata_read everywhere, no catalog.
func anonymousGrants() Grants {
	return Grants{rules: []grantRule{{prefix: true, verbs: canPull | canReadMeta}}}
}

// GrantsOf compiles the actions of a scope map. It returns KindInvalid, as
// ValidateScopeMapAction words it, for the first invalid action.
func GrantsOf(actions []string) (Grants, error) {
	var g Grants
	for _, a := range actions {
		r, err := parseScopeMapAction(a)
		if err != nil {
			return Grants{}, err
		}
		g.rules = append(g.rules, r)
		if r.verbs&canReadMeta != 0 {
			g.catalog = true
		}
	}
	return g, nil
}

// verbsFor returns what g allows on repository repo.
func (g Grants) verbsFor(repo string) verbs {
	if g.all {
		return canAll
	}
	var v verbs
	for _, r := range g.rules {
		if r.pattern == repo || r.prefix && strings.HasPrefix(repo, r.pattern) {
			v |= r.verbs
		}
	}
	return v
}

// Allows reports whether g allows the token action ("pull", "push",
// "delete", "metadata_read", "metadata_write", or "*" for all of them) on
// repository repo. The /v2/_catalog handler filters names with
// Allows(repo, berth.ActionMetadataRead).
func (g Grants) Allows(repo, action string) bool {
	want := verbOf(action)
	return want != 0 && g.verbsFor(repo)&want == want
}

// AllowsCatalog reports whether g allows registry:catalog:*: the admin user
// and the operator, and tokens with metadata/read on some pattern.
func (g Grants) AllowsCatalog() bool { return g.catalog }

// ValidateScopeMapAction checks one scope-map action,
// "repositories/<pattern>/<content|metadata>/<verb>". It returns KindInvalid
// with a message that names what is wrong.
func ValidateScopeMapAction(action string) error {
	_, err := parseScopeMapAction(action)
	return err
}

func parseScopeMapAction(action string) (grantRule, error) {
	const op = "auth.ValidateScopeMapAction"
	rest, ok := strings.CutPrefix(action, "repositories/")
	if !ok {
		return grantRule{}, berth.E(op, berth.KindInvalid, "scope map action %q does not start with \"repositories/\"", action)
	}
	i := strings.LastIndexByte(rest, '/')
	if i < 0 {
		return grantRule{}, berth.E(op, berth.KindInvalid, "scope map action %q does not read repositories/<repository>/<content|metadata>/<action>", action)
	}
	j := strings.LastIndexByte(rest[:i], '/')
	if j < 0 {
		return grantRule{}, berth.E(op, berth.KindInvalid, "scope map action %q does not read repositories/<repository>/<content|metadata>/<action>", action)
	}
	pattern, verb := rest[:j], rest[j+1:]
	r := grantRule{pattern: pattern}
	eachVerb(func(v verbs) {
		if v.scopeMap() == verb {
			r.verbs = v
		}
	})
	if r.verbs == 0 {
		return grantRule{}, berth.E(op, berth.KindInvalid, "scope map action %q: unknown action %q; want content/read, content/write, content/delete, metadata/read or metadata/write", action, verb)
	}
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		r.pattern, r.prefix = p, true
		if !validPrefix(p) {
			return grantRule{}, berth.E(op, berth.KindInvalid, "scope map action %q: pattern %q may hold lowercase letters, digits, '.', '_', '-' and '/', and '*' only at its end", action, pattern)
		}
		return r, nil
	}
	if !validRepositoryName(pattern) {
		return grantRule{}, berth.E(op, berth.KindInvalid, "scope map action %q: %q is not a valid repository name (end it in '*' to match a prefix)", action, pattern)
	}
	return r, nil
}

func validPrefix(p string) bool {
	for i := 0; i < len(p); i++ {
		if c := p[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' && c != '/' {
			return false
		}
	}
	return len(p) < 255
}

// The built-in scope maps every registry has.
const (
	ScopeMapAdmin             = "_repositories_admin"
	ScopeMapPull              = "_repositories_pull"
	ScopeMapPullMetadataRead  = "_repositories_pull_metadata_read"
	ScopeMapPush              = "_repositories_push"
	ScopeMapPushMetadataWrite = "_repositories_push_metadata_write"
)

// BuiltInScopeMaps returns the built-in scope maps of a registry, ordered by
// name, as the management API lists them.
func BuiltInScopeMaps(registry string) []berth.ScopeMap {
	all := func(verbs ...string) []string {
		out := make([]string, len(verbs))
		for i, v := range verbs {
			out[i] = "repositories/*/" + v
		}
		return out
	}
	m := func(name, desc string, actions []string) berth.ScopeMap {
		return berth.ScopeMap{Registry: registry, Name: name, Description: desc, Actions: actions, BuiltIn: true}
	}
	return []berth.ScopeMap{
		m(ScopeMapAdmin, "Can perform all read, write and delete operations on the registry",
			all("content/read", "content/write", "content/delete", "metadata/read", "metadata/write")),
		m(ScopeMapPull, "Can pull any repository of the registry", all("content/read")),
		m(ScopeMapPullMetadataRead, "Can perform all read operations on the registry",
			all("content/read", "metadata/read")),
		m(ScopeMapPush, "Can push to any repository of the registry", all("content/read", "content/write")),
		m(ScopeMapPushMetadataWrite, "Can perform all read and write operations on the registry",
			all("content/read", "content/write", "metadata/read", "metadata/write")),
	}
}

// BuiltInScopeMap returns the built-in scope map name of a registry, and
// false when name is not one.
func BuiltInScopeMap(registry, name string) (berth.ScopeMap, bool) {
	if !strings.HasPrefix(name, "_repositories_") {
		return berth.ScopeMap{}, false
	}
	for _, m := range BuiltInScopeMaps(registry) {
		if m.Name == name {
			return m, true
		}
	}
	return berth.ScopeMap{}, false
}

// actionPhrase words a token action on a repository for messages.
func actionPhrase(action, repo string) string {
	switch action {
	case berth.ActionPull:
		return fmt.Sprintf("pull from repository %q", repo)
	case berth.ActionPush:
		return fmt.Sprintf("push to repository %q", repo)
	case berth.ActionDelete:
		return fmt.Sprintf("delete from repository %q", repo)
	case berth.ActionMetadataRead:
		return fmt.Sprintf("read the metadata (metadata_read) of repository %q", repo)
	case berth.ActionMetadataWrite:
		return fmt.Sprintf("write the metadata (metadata_write) of repository %q", repo)
	}
	return fmt.Sprintf("%s repository %q", action, repo)
}
