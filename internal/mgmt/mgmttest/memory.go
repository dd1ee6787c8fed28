package mgmttest

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// Memory keeps registries, identities and content in memory. It implements
// what the management API consumes (berth.IdentityStore, berth.ContentAdmin
// and the registry, listing and deletion methods of the metadata store)
// and Seeder, with the error kinds that the berth interfaces document.
// Every timestamp it takes is later than the one before.
type Memory struct {
	mu   sync.Mutex
	last time.Time
	regs map[string]*memRegistry
}

type memRegistry struct {
	reg       berth.Registry
	secrets   map[string]map[string]berth.Secret // owner -> name -> secret
	scopeMaps map[string]berth.ScopeMap
	tokens    map[string]berth.Token
	repos     map[string]*memRepo
}

type memRepo struct {
	info      berth.RepositoryInfo
	blobs     map[digest.Digest]int64
	manifests map[digest.Digest]*berth.ManifestInfo
	tags      map[string]*berth.TagInfo
}

// NewMemory returns empty in-memory stores.
func NewMemory() *Memory { return &Memory{regs: map[string]*memRegistry{}} }

// now returns a time later than every time it returned before.
func (m *Memory) now() time.Time {
	t := time.Now().UTC()
	if !t.After(m.last) {
		t = m.last.Add(time.Microsecond)
	}
	m.last = t
	return t
}

func (m *Memory) registry(op, name string) (*memRegistry, error) {
	r, ok := m.regs[name]
	if !ok {
		return nil, berth.E(op, berth.KindNotFound, "registry %q not found", name)
	}
	return r, nil
}

func (r *memRegistry) repo(op, name string) (*memRepo, error) {
	repo, ok := r.repos[name]
	if !ok {
		return nil, berth.E(op, berth.KindNotFound, "repository %q not found", name)
	}
	return repo, nil
}

// CreateRegistry records reg with its settings; KindExists if the name is
// taken.
func (m *Memory) CreateRegistry(_ context.Context, reg berth.Registry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.regs[reg.Name]; ok {
		return berth.E("memory.CreateRegistry", berth.KindExists, "registry %q already exists", reg.Name)
	}
	if reg.CreatedAt.IsZero() {
		reg.CreatedAt = m.now()
	}
	reg.Aliases = slices.Clone(reg.Aliases)
	m.regs[reg.Name] = &memRegistry{reg: reg, secrets: map[string]map[string]berth.Secret{},
		scopeMaps: map[string]berth.ScopeMap{}, tokens: map[string]berth.Token{}, repos: map[string]*memRepo{}}
	return nil
}

// Registry returns one registry; KindNotFound if absent.
func (m *Memory) Registry(_ context.Context, name string) (berth.Registry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.registry("memory.Registry", name)
	if err != nil {
		return berth.Registry{}, err
	}
	return r.reg, nil
}

// Registries lists the registries by name.
func (m *Memory) Registries(context.Context) ([]berth.Registry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []berth.Registry{}
	for _, name := range slices.Sorted(maps.Keys(m.regs)) {
		out = append(out, m.regs[name].reg)
	}
	return out, nil
}

// UpdateSettings replaces a registry's settings; KindNotFound if absent.
func (m *Memory) UpdateSettings(_ context.Context, registry string, s berth.Settings) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.registry("memory.UpdateSettings", registry)
	if err != nil {
		return err
	}
	r.reg.Settings = s
	return nil
}

// DeleteRegistry removes a registry and all it holds; KindNotFound if
// absent.
func (m *Memory) DeleteRegistry(_ context.Context, registry string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.registry("memory.DeleteRegistry", registry); err != nil {
		return err
	}
	delete(m.regs, registry)
	return nil
}

// PutSecret creates or replaces secret s.Name of owner.
func (m *Memory) PutSecret(_ context.Context, registry, owner string, s berth.Secret) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.registry("memory.PutSecret", registry)
	if err != nil {
		return err
	}
	if r.secrets[owner] == nil {
		r.secrets[owner] = map[string]berth.Secret{}
	}
	r.secrets[owner][s.Name] = s
	return nil
}

// Secrets lists the secrets of owner by name.
func (m *Memory) Secrets(_ context.Context, registry, owner string) ([]berth.Secret, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.registry("memory.Secrets", registry)
	if err != nil {
		return nil, err
	}
	out := []berth.Secret{}
	for _, name := range slices.Sorted(maps.Keys(r.secrets[owner])) {
		out = append(out, r.secrets[owner][name])
	}
	return out, nil
}

// DeleteSecret removes one secret; KindNotFound if absent.
func (m *Memory) DeleteSecret(_ context.Context, registry, owner, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.registry("memory.DeleteSecret", registry)
	if err != nil {
		return err
	}
	if _, ok := r.secrets[owner][name]; !ok {
		return berth.E("memory.DeleteSecret", berth.KindNotFound, "secret %q of %q not found", name, owner)
	}
	delete(r.secrets[owner], name)
	return nil
}

// CreateScopeMap records a scope map; KindExists if the name is taken.
func (m *Memory) CreateScopeMap(_ context.Context, sm berth.ScopeMap) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.registry("memory.CreateScopeMap", sm.Registry)
	if err != nil {
		return err
	}
	if _, ok := r.scopeMaps[sm.Name]; ok {
		return berth.E("memory.CreateScopeMap", berth.KindExists, "scope map %q already exists", sm.Name)
	}
	sm.Actions = slices.Clone(sm.Actions)
	r.scopeMaps[sm.Name] = sm
	return nil
}

// UpdateScopeMap replaces description and actions; KindNotFound if absent.
func (m *Memory) UpdateScopeMap(_ context.Context, sm berth.ScopeMap) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.registry("memory.UpdateScopeMap", sm.Registry)
	if err != nil {
		return err
	}
	old, ok := r.scopeMaps[sm.Name]
	if !ok {
		return berth.E("memory.UpdateScopeMap", berth.KindNotFound, "scope map %q not found", sm.Name)
	}
	old.Description, old.Actions = sm.Description, slices.Clone(sm.Actions)
	r.scopeMaps[sm.Name] = old
	return nil
}

// ScopeMap returns one scope map; KindNotFound if absent.
func (m *Memory) ScopeMap(_ context.Context, registry, name string) (berth.ScopeMap, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.registry("memory.ScopeMap", registry)
	if err != nil {
		return berth.ScopeMap{}, err
	}
	sm, ok := r.scopeMaps[name]
	if !ok {
		return berth.ScopeMap{}, berth.E("memory.ScopeMap", berth.KindNotFound, "scope map %q not found", name)
	}
	sm.Actions = slices.Clone(sm.Actions)
	return sm, nil
}

// ScopeMaps lists the stored scope maps by name.
func (m *Memory) ScopeMaps(_ context.Context, registry string) ([]berth.ScopeMap, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.registry("memory.ScopeMaps", registry)
	if err != nil {
		return nil, err
	}
	out := []berth.ScopeMap{}
	for _, name := range slices.Sorted(maps.Keys(r.scopeMaps)) {
		sm := r.scopeMaps[name]
		sm.Actions = slices.Clone(sm.Actions)
		out = append(out, sm)
	}
	return out, nil
}

// DeleteScopeMap removes a scope map; KindConflict if a token uses it.
func (m *Memory) DeleteScopeMap(_ context.Context, registry, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	const op = "memory.DeleteScopeMap"
	r, err := m.registry(op, registry)
	if err != nil {
		return err
	}
	if _, ok := r.scopeMaps[name]; !ok {
		return berth.E(op, berth.KindNotFound, "scope map %q not found", name)
	}
	for _, t := range r.tokens {
		if t.ScopeMap == name {
			return berth.E(op, berth.KindConflict, "scope map %q is used by token %q", name, t.Name)
		}
	}
	delete(r.scopeMaps, name)
	return nil
}

// CreateToken records a token; KindExists if the name is taken.
func (m *Memory) CreateToken(_ context.Context, t berth.Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.registry("memory.CreateToken", t.Registry)
	if err != nil {
		return err
	}
	if _, ok := r.tokens[t.Name]; ok {
		return berth.E("memory.CreateToken", berth.KindExists, "token %q already exists", t.Name)
	}
	r.tokens[t.Name] = t
	return nil
}

// UpdateToken replaces scope map and status; KindNotFound if absent.
func (m *Memory) UpdateToken(_ context.Context, t berth.Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.registry("memory.UpdateToken", t.Registry)
	if err != nil {
		return err
	}
	old, ok := r.tokens[t.Name]
	if !ok {
		return berth.E("memory.UpdateToken", berth.KindNotFound, "token %q not found", t.Name)
	}
	old.ScopeMap, old.Enabled = t.ScopeMap, t.Enabled
	r.tokens[t.Name] = old
	return nil
}

// Token returns one token; KindNotFound if absent.
func (m *Memory) Token(_ context.Context, registry, name string) (berth.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.registry("memory.Token", registry)
	if err != nil {
		return berth.Token{}, err
	}
	t, ok := r.tokens[name]
	if !ok {
		return berth.Token{}, berth.E("memory.Token", berth.KindNotFound, "token %q not found", name)
	}
	return t, nil
}

// Tokens lists the tokens by name.
func (m *Memory) Tokens(_ context.Context, registry string) ([]berth.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.registry("memory.Tokens", registry)
	if err != nil {
		return nil, err
	}
	out := []berth.Token{}
	for _, name := range slices.Sorted(maps.Keys(r.tokens)) {
		out = append(out, r.tokens[name])
	}
	return out, nil
}

// DeleteToken removes a token and its secrets; KindNotFound if absent.
func (m *Memory) DeleteToken(_ context.Context, registry, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.registry("memory.DeleteToken", registry)
	if err != nil {
		return err
	}
	if _, ok := r.tokens[name]; !ok {
		return berth.E("memory.DeleteToken", berth.KindNotFound, "token %q not found", name)
	}
	delete(r.tokens, name)
	delete(r.secrets, berth.TokenOwner(name))
	return nil
}

// tagsOf returns the names of the tags of repo that point to d.
func (repo *memRepo) tagsOf(d digest.Digest) []string {
	out := []string{}
	for _, name := range slices.Sorted(maps.Keys(repo.tags)) {
		if repo.tags[name].Digest == d {
			out = append(out, name)
		}
	}
	return out
}

// byNewest orders manifests newest first, then by digest.
func byNewest(a, b berth.ManifestInfo) int {
	return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(string(a.Digest), string(b.Digest)))
}
