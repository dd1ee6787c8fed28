package mgmt

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
	"berth/internal/mgmt/api"
)

// Registries is what the API needs of the registry records.
type Registries interface {
	// CreateRegistry records r with its Settings; KindExists if the name is
	// taken.
	CreateRegistry(ctx context.Context, r berth.Registry) error
	// Registry returns one registry; KindNotFound if there is none.
	Registry(ctx context.Context, name string) (berth.Registry, error)
	// Registries lists every registry ordered by name.
	Registries(ctx context.Context) ([]berth.Registry, error)
	// UpdateSettings replaces a registry's settings; KindNotFound if absent.
	UpdateSettings(ctx context.Context, registry string, s berth.Settings) error
	// DeleteRegistry removes a registry and everything it holds in metadata.
	DeleteRegistry(ctx context.Context, registry string) error
}

// Content is what the API needs to administer a registry's content.
type Content interface {
	berth.ContentAdmin
	// Repositories lists up to n repository names after last in lexical
	// order (n <= 0: no limit).
	Repositories(ctx context.Context, registry, last string, n int) ([]string, error)
	// DeleteManifest removes a manifest and its tags; KindDenied when an
	// attribute forbids it.
	DeleteManifest(ctx context.Context, registry, repo string, d digest.Digest) error
	// DeleteTag removes a tag; KindDenied when an attribute forbids it.
	DeleteTag(ctx context.Context, registry, repo, tag string) error
}

// Passwords generates and hashes the passwords of admin users and tokens.
type Passwords interface {
	// New returns a fresh random password.
	New() (string, error)
	// Hash returns the hash that berth.Secret.Hash stores.
	Hash(password string) ([]byte, error)
}

// PasswordFuncs returns the Passwords made of two functions, such as a
// password generator and a hasher of the auth package.
func PasswordFuncs(generate func() (string, error), hash func(string) ([]byte, error)) Passwords {
	return passwordFuncs{generate, hash}
}

type passwordFuncs struct {
	generate func() (string, error)
	hash     func(string) ([]byte, error)
}

func (p passwordFuncs) New() (string, error)          { return p.generate() }
func (p passwordFuncs) Hash(s string) ([]byte, error) { return p.hash(s) }

// Deps are the implementations the API works with. Every field is required.
type Deps struct {
	Registries Registries
	Identities berth.IdentityStore
	Content    Content
	Passwords  Passwords
	// BuiltInScopeMaps returns the read-only scope maps every registry
	// has, ordered by name.
	BuiltInScopeMaps func(registry string) []berth.ScopeMap
	// ValidateScopeMapAction returns an error whose message says what is
	// wrong with a scope-map action, or nil.
	ValidateScopeMapAction func(action string) error
}

// Config is what the API needs to know about the node.
type Config struct {
	// Domain makes login servers, <registry>.<Domain>, and data endpoints,
	// <registry>.<region>.data.<Domain>.
	Domain string
	// Region is the node's region, the default location of new registries.
	Region string
	// VerifyOperator reports whether token is the operator's bearer token.
	// When nil, every request that needs the token is refused.
	VerifyOperator func(token string) bool
	// Health, when set, adds the node's checks of a registry to the report
	// of GET /api/v1/registries/{name}/health.
	Health func(ctx context.Context, registry string) []api.HealthCheck
	// Allowlist, when set, answers GET .../endpoints/allowlist with what
	// the node knows of its listeners and storage; otherwise the answer
	// names the registry's hosts on port 443 without addresses.
	Allowlist func(ctx context.Context, reg berth.Registry) (api.Allowlist, error)
	// Changed, when set, is called after a registry's settings or content
	// (attributes, deletions) changed, or it was deleted, so the node can
	// drop what it cached of it.
	Changed func(registry string)
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Handler serves the management API.
type Handler struct {
	cfg  Config
	deps Deps
	log  *slog.Logger
	mux  *http.ServeMux
}

// NewHandler returns the management API. It panics when a field of deps is
// nil, which is a wiring mistake.
func NewHandler(cfg Config, deps Deps, log *slog.Logger) *Handler {
	switch {
	case deps.Registries == nil, deps.Identities == nil, deps.Content == nil, deps.Passwords == nil,
		deps.BuiltInScopeMaps == nil, deps.ValidateScopeMapAction == nil:
		panic("mgmt.NewHandler: every field of Deps is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Region == "" {
		cfg.Region = berth.DefaultRegion
	}
	cfg.Domain = strings.ToLower(strings.TrimSuffix(cfg.Domain, "."))
	h := &Handler{cfg: cfg, deps: deps, log: log, mux: http.NewServeMux()}
	for _, rt := range h.routes() {
		next := rt.handle
		var hf http.HandlerFunc = func(w http.ResponseWriter, r *http.Request) {
			if err := next(w, r); err != nil {
				h.writeError(w, r, err)
			}
		}
		if !rt.public {
			hf = h.operator(hf)
		}
		h.mux.Handle(rt.method+" "+rt.path, hf)
	}
	return h
}

// ServeHTTP answers a request under /api/v1/. A path that no route serves
// is a 404 NotFound, a method that the path does not serve a 405
// MethodNotAllowed listing the allowed ones; both with a JSON error body.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	next, pattern := h.mux.Handler(r)
	if pattern != "" {
		h.mux.ServeHTTP(w, r)
		return
	}
	// The mux answers a path it knows with another method with 405 and
	// an Allow header; capture that to answer in JSON.
	probe := &statusProbe{header: http.Header{}}
	next.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.header.Get("Allow"))
		h.writeError(w, r, fail(api.CodeMethodNotAllowed, "method %s is not allowed on %s; use %s",
			r.Method, r.URL.Path, probe.header.Get("Allow")))
		return
	}
	if probe.status >= 300 && probe.status < 400 {
		h.mux.ServeHTTP(w, r) // a redirect to the cleaned path
		return
	}
	h.writeError(w, r, fail(api.CodeNotFound, "no API endpoint at %s %s", r.Method, r.URL.Path))
}

// statusProbe records the status and headers a handler writes and drops
// the body.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header { return p.header }
func (p *statusProbe) WriteHeader(status int) {
	if p.status == 0 {
		p.status = status
	}
}
func (p *statusProbe) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return len(b), nil
}

// operatorHint tells a caller without a valid operator token where to get
// one.
const operatorHint = `send "Authorization: Bearer <token>" with the operator token that ` +
	"`berth serve` writes to <data-dir>/operator-token"

// operator refuses a request that does not carry the operator token.
func (h *Handler) operator(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		scheme, token, _ := strings.Cut(auth, " ")
		token = strings.TrimSpace(token)
		var err error
		switch {
		case auth == "" || strings.EqualFold(scheme, "Bearer") && token == "":
			err = fail(api.CodeUnauthorized, "the operator token is missing: %s", operatorHint)
		case !strings.EqualFold(scheme, "Bearer"):
			err = fail(api.CodeUnauthorized, "the Authorization header is not a bearer token: %s", operatorHint)
		case h.cfg.VerifyOperator == nil || !h.cfg.VerifyOperator(token):
			err = fail(api.CodeUnauthorized, "the operator token is not valid: %s", operatorHint)
		}
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="berth-management"`)
			h.writeError(w, r, err)
			return
		}
		next(w, r)
	}
}

// version answers GET /api/v1/ and /api/v1/version.
func (h *Handler) version(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, api.Version{Version: api.APIVersion, Region: h.cfg.Region})
}

// now returns the current time, in UTC.
func (h *Handler) now() time.Time { return h.cfg.Now().UTC() }
