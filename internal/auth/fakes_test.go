package auth

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"berth/internal/berth"
)

// fakeStore is an in-memory Store and HostResolver. It counts its calls so
// that tests can check which paths read it.
type fakeStore struct {
	mu      sync.Mutex
	regs    map[string]berth.Registry
	secrets map[string][]berth.Secret // registry + "/" + owner
	tokens  map[string]berth.Token    // registry + "/" + name
	maps    map[string]berth.ScopeMap // registry + "/" + name
	fail    error                     // returned by every call when set
	calls   atomic.Int64
}

func newFakeStore() *fakeStore {
	return &fakeStore{
		regs:    map[string]berth.Registry{},
		secrets: map[string][]berth.Secret{},
		tokens:  map[string]berth.Token{},
		maps:    map[string]berth.ScopeMap{},
	}
}

func (f *fakeStore) Registry(_ context.Context, name string) (berth.Registry, error) {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return berth.Registry{}, f.fail
	}
	r, ok := f.regs[name]
	if !ok {
		return berth.Registry{}, berth.E("fake.Registry", berth.KindNotFound, "no registry %q", name)
	}
	return r, nil
}

func (f *fakeStore) Secrets(_ context.Context, registry, owner string) ([]berth.Secret, error) {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	return slices.Clone(f.secrets[registry+"/"+owner]), nil
}

func (f *fakeStore) Token(_ context.Context, registry, name string) (berth.Token, error) {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return berth.Token{}, f.fail
	}
	t, ok := f.tokens[registry+"/"+name]
	if !ok {
		return berth.Token{}, berth.E("fake.Token", berth.KindNotFound, "no token %q", name)
	}
	return t, nil
}

func (f *fakeStore) ScopeMap(_ context.Context, registry, name string) (berth.ScopeMap, error) {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return berth.ScopeMap{}, f.fail
	}
	m, ok := f.maps[registry+"/"+name]
	if !ok {
		return berth.ScopeMap{}, berth.E("fake.ScopeMap", berth.KindNotFound, "no scope map %q", name)
	}
	return m, nil
}

// ResolveHost answers "<name>.example.com" and the alias "localhost".
func (f *fakeStore) ResolveHost(ctx context.Context, host string) (berth.Registry, error) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "localhost" {
		return f.Registry(ctx, "contoso")
	}
	if name, ok := strings.CutSuffix(host, ".example.com"); ok {
		return f.Registry(ctx, name)
	}
	return berth.Registry{}, berth.E("fake.ResolveHost", berth.KindNotFound, "no registry answers for host %q", host)
}

func (f *fakeStore) setRegistry(r berth.Registry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.regs[r.Name] = r
}

func (f *fakeStore) setSecrets(registry, owner string, s ...berth.Secret) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.secrets[registry+"/"+owner] = s
}

func (f *fakeStore) setToken(t berth.Token) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens[t.Registry+"/"+t.Name] = t
}

// memKeys is an in-memory KeyStore.
type memKeys struct {
	mu    sync.Mutex
	keys  map[string]SigningKey
	fail  error
	loads atomic.Int64
}

func newMemKeys() *memKeys { return &memKeys{keys: map[string]SigningKey{}} }

func (m *memKeys) SigningKeys(context.Context) ([]SigningKey, error) {
	m.loads.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	return slices.Collect(maps.Values(m.keys)), nil
}

func (m *memKeys) PutSigningKey(_ context.Context, k SigningKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.keys[k.ID] = k
	return nil
}

func (m *memKeys) DeleteSigningKey(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.keys[id]; !ok {
		return berth.E("mem.DeleteSigningKey", berth.KindNotFound, "no key %q", id)
	}
	delete(m.keys, id)
	return nil
}

func (m *memKeys) list() []SigningKey {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Collect(maps.Values(m.keys))
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Passwords of the fixture.
const (
	adminPassword = "admin-secret"
	tokenPassword = "token-secret"
)

// fixture is a Service over fakes with one registry, contoso, holding:
// the admin user; token ci (scope map pullonly: content/read on *);
// token pusher (_repositories_push); token team (scope map team:
// read team/*, push shared/app); token off (disabled); token old (expired
// secret); token nopw (no secret).
type fixture struct {
	svc     *Service
	store   *fakeStore
	keys    *memKeys
	clock   *clock
	reg     berth.Registry
	bcrypts atomic.Int64
}

func newFixture(t testing.TB, cfg Config) *fixture {
	t.Helper()
	f := &fixture{store: newFakeStore(), keys: newMemKeys(), clock: &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}}
	f.reg = berth.Registry{Name: "contoso", Settings: berth.Settings{SKU: berth.SKUBasic, AdminUserEnabled: true}}
	f.store.setRegistry(f.reg)
	f.store.setRegistry(berth.Registry{Name: "fabrikam", Settings: berth.Settings{AdminUserEnabled: true}})
	hash := func(p string) []byte {
		h, err := bcrypt.GenerateFromPassword([]byte(p), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	f.store.setSecrets("contoso", berth.AdminOwner, berth.Secret{Name: "password1", Hash: hash(adminPassword)})
	f.store.setSecrets("fabrikam", berth.AdminOwner, berth.Secret{Name: "password1", Hash: hash(adminPassword)})
	f.store.maps["contoso/pullonly"] = berth.ScopeMap{Registry: "contoso", Name: "pullonly", Actions: []string{"repositories/*/content/read"}}
	f.store.maps["contoso/team"] = berth.ScopeMap{Registry: "contoso", Name: "team", Actions: []string{
		"repositories/team/*/content/read", "repositories/team/*/metadata/read", "repositories/shared/app/content/write",
	}}
	for _, tk := range []struct {
		name, scopeMap string
		enabled        bool
		secret         berth.Secret
	}{
		{"ci", "pullonly", true, berth.Secret{Name: "password1", Hash: hash(tokenPassword)}},
		{"pusher", ScopeMapPush, true, berth.Secret{Name: "password2", Hash: hash(tokenPassword)}},
		{"team", "team", true, berth.Secret{Name: "password1", Hash: hash(tokenPassword)}},
		{"off", "pullonly", false, berth.Secret{Name: "password1", Hash: hash(tokenPassword)}},
		{"old", "pullonly", true, berth.Secret{Name: "password1", Hash: hash(tokenPassword), Expiry: f.clock.Now().Add(-time.Hour)}},
		{"nopw", "pullonly", true, berth.Secret{}},
	} {
		f.store.setToken(berth.Token{Registry: "contoso", Name: tk.name, ScopeMap: tk.scopeMap, Enabled: tk.enabled})
		if tk.secret.Name != "" {
			f.store.setSecrets("contoso", berth.TokenOwner(tk.name), tk.secret)
		}
	}
	cfg.Domain = "example.com"
	if cfg.Now == nil {
		cfg.Now = f.clock.Now
	}
	if cfg.OperatorToken == nil {
		cfg.OperatorToken = func(c string) bool { return c == "operator-credential" }
	}
	svc, err := NewService(cfg, f.store, f.keys, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	svc.compareHash = func(hash, pw []byte) error {
		f.bcrypts.Add(1)
		return bcrypt.CompareHashAndPassword(hash, pw)
	}
	f.svc = svc
	return f
}

// setAnonymousPull switches anonymous pull of contoso.
func (f *fixture) setAnonymousPull(on bool) {
	f.reg.AnonymousPullEnabled = on
	f.store.setRegistry(f.reg)
}

// accessToken issues an access token of contoso through the real token
// path, as principal user with password, for the given scopes.
func (f *fixture) accessToken(t testing.TB, user, password string, scopes ...string) string {
	t.Helper()
	ctx := context.Background()
	sub, err := f.svc.authenticate(ctx, f.reg, user, password)
	if err != nil {
		t.Fatalf("authenticate %s: %v", user, err)
	}
	as, err := ParseScopes(scopes)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := f.svc.issue(ctx, f.reg, sub, as, false)
	if err != nil {
		t.Fatal(err)
	}
	return resp.AccessToken
}

// request builds a request to contoso with an Authorization header.
func request(authz string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://contoso.example.com/v2/", nil)
	if authz != "" {
		r.Header.Set("Authorization", authz)
	}
	return r
}

func basic(user, password string) string {
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth(user, password)
	return r.Header.Get("Authorization")
}

func repo(name string, actions ...string) berth.Access {
	return berth.Access{Type: TypeRepository, Name: name, Actions: actions}
}

func catalog() berth.Access {
	return berth.Access{Type: TypeRegistry, Name: CatalogName, Actions: []string{"*"}}
}

// noError is the "kind" of success in test tables.
const noError berth.Kind = -1

// checkErr fails unless err has kind want (or is nil for noError) and a
// message containing msg.
func checkErr(t *testing.T, err error, want berth.Kind, msg string) {
	t.Helper()
	if want == noError {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("got no error, want %v %q", want, msg)
	}
	var be *berth.Error
	if !errors.As(err, &be) {
		t.Fatalf("error %v is not a *berth.Error", err)
	}
	if berth.KindOf(err) != want {
		t.Fatalf("kind = %v (%v), want %v", berth.KindOf(err), err, want)
	}
	if !strings.Contains(berth.Message(err), msg) {
		t.Fatalf("message %q does not contain %q", berth.Message(err), msg)
	}
}
