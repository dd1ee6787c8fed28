package auth

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"berth/internal/berth"
)

// Store is what authentication needs of the metadata store. Errors are
// *berth.Error; a missing registry, token or scope map is KindNotFound.
type Store interface {
	// Registry returns a registry by name.
	Registry(ctx context.Context, name string) (berth.Registry, error)
	// Secrets lists the secrets of owner (berth.AdminOwner or
	// berth.TokenOwner(name)); empty if none.
	Secrets(ctx context.Context, registry, owner string) ([]berth.Secret, error)
	// Token returns one token.
	Token(ctx context.Context, registry, name string) (berth.Token, error)
	// ScopeMap returns one scope map.
	ScopeMap(ctx context.Context, registry, name string) (berth.ScopeMap, error)
}

// Config configures a Service. Only Domain is required.
type Config struct {
	// Domain is the parent domain of the login servers: registry r answers
	// as "r.<Domain>", which is also the audience of its tokens.
	Domain string
	// Scheme of the token realm in challenges, "http" or "https"; empty
	// means the scheme of the request (https when it came over TLS).
	Scheme string
	// AccessTTL is the lifetime of access tokens; default 10 minutes.
	AccessTTL time.Duration
	// RefreshTTL is the lifetime of refresh tokens; default 3 hours.
	RefreshTTL time.Duration
	// KeyOverlap is how long a retired signing key still verifies. It must
	// outlast the tokens the key signed; the default is the longer of
	// 2×AccessTTL and RefreshTTL, plus KeyRefresh.
	KeyOverlap time.Duration
	// KeyRefresh is how often the keys are reloaded from the KeyStore;
	// default 30 seconds.
	KeyRefresh time.Duration
	// BasicCacheTTL is how long a verified password is remembered; default
	// one minute.
	BasicCacheTTL time.Duration
	// OperatorToken reports whether a credential is the service operator's;
	// nil accepts none.
	OperatorToken func(credential string) bool
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Defaults of Config.
const (
	DefaultAccessTTL  = 10 * time.Minute
	DefaultRefreshTTL = 3 * time.Hour
	DefaultKeyRefresh = 30 * time.Second
	defaultCacheTTL   = time.Minute
	keyMissEvery      = 5 * time.Second
	maxBasicCache     = 10_000
)

// Service authenticates and authorizes the callers of the login servers and
// issues their tokens. It is safe for concurrent use.
// maxVerifiedCache bounds the bearer tokens remembered as verified.
const maxVerifiedCache = 50_000

type Service struct {
	cfg    Config
	store  Store
	keys   *keyring
	log    *slog.Logger
	parser *jwt.Parser
	cache  *basicCache
	// verified remembers bearer tokens whose signature checked out.
	verified *verifiedCache

	// compareHash checks a password against a bcrypt hash; tests count
	// its calls.
	compareHash func(hash, password []byte) error
}

// NewService returns a Service. It returns KindInvalid when the
// configuration cannot work (no domain, a bad scheme, negative durations)
// or a dependency is missing. A nil log discards.
func NewService(cfg Config, store Store, keys KeyStore, log *slog.Logger) (*Service, error) {
	const op = "auth.NewService"
	cfg.Domain = strings.ToLower(strings.Trim(cfg.Domain, "."))
	switch {
	case cfg.Domain == "":
		return nil, berth.E(op, berth.KindInvalid, "no domain configured for login servers")
	case cfg.Scheme != "" && cfg.Scheme != "http" && cfg.Scheme != "https":
		return nil, berth.E(op, berth.KindInvalid, "scheme %q is neither http nor https", cfg.Scheme)
	case cfg.AccessTTL < 0 || cfg.RefreshTTL < 0 || cfg.KeyOverlap < 0 || cfg.KeyRefresh < 0 || cfg.BasicCacheTTL < 0:
		return nil, berth.E(op, berth.KindInvalid, "token lifetimes and intervals must not be negative")
	case store == nil || keys == nil:
		return nil, berth.E(op, berth.KindInvalid, "a metadata store and a key store are required")
	}
	if cfg.AccessTTL == 0 {
		cfg.AccessTTL = DefaultAccessTTL
	}
	if cfg.RefreshTTL == 0 {
		cfg.RefreshTTL = DefaultRefreshTTL
	}
	if cfg.KeyRefresh == 0 {
		cfg.KeyRefresh = DefaultKeyRefresh
	}
	if cfg.KeyOverlap == 0 {
		cfg.KeyOverlap = max(2*cfg.AccessTTL, cfg.RefreshTTL) + cfg.KeyRefresh
	}
	if cfg.BasicCacheTTL == 0 {
		cfg.BasicCacheTTL = defaultCacheTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{
		cfg:   cfg,
		store: store,
		log:   log,
		keys: &keyring{store: keys, now: cfg.Now, log: log,
			refresh: cfg.KeyRefresh, missEvery: keyMissEvery},
		parser:      jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}), jwt.WithoutClaimsValidation()),
		cache:       &basicCache{ttl: cfg.BasicCacheTTL, max: maxBasicCache, m: map[[32]byte]time.Time{}},
		compareHash: bcrypt.CompareHashAndPassword,
		verified:    newVerifiedCache(maxVerifiedCache),
	}
	return s, nil
}

func (s *Service) now() time.Time { return s.cfg.Now() }

// LoginServer returns the login server of reg, "<name>.<domain>": the
// audience of its tokens and the service of its challenges.
func (s *Service) LoginServer(reg berth.Registry) string { return reg.Name + "." + s.cfg.Domain }

// RotateKeys stores a new signing key, which signs from then on (on other
// nodes of the region once they reload their keys), retires the active keys
// so that they verify until now+KeyOverlap, and deletes keys past their
// NotAfter. It returns the key store's error.
func (s *Service) RotateKeys(ctx context.Context) error {
	return s.keys.rotate(ctx, s.cfg.KeyOverlap)
}

// Authorize authenticates the request r to registry reg and checks that the
// caller may do everything in need (which is empty for the base endpoint
// /v2/). It accepts a Bearer access token, verified without reading the
// metadata store; Basic credentials of the admin user, of a token, or of
// the refresh-token user 00000000-0000-0000-0000-000000000000; or no
// credentials, for pull and metadata_read where anonymous pull is enabled.
//
// It returns KindUnauthorized when credentials are missing or bad, and
// when a bearer token lacks an action it was never asked for (the client
// then asks for a new token, see Challenge); KindDenied, naming the
// principal, the action, the repository and what the scope map grants,
// when the principal may not do what it needs. Failures of the stores keep
// their kind.
func (s *Service) Authorize(r *http.Request, reg berth.Registry, need []berth.Access) (berth.Principal, error) {
	const op = "auth.Authorize"
	ctx := r.Context()
	var h string
	if v := r.Header["Authorization"]; len(v) > 0 { // a canonical key needs no Header.Get
		h = v[0]
	}
	if h == "" {
		sub, err := s.anonymous(reg, need)
		if err != nil {
			return berth.Principal{}, err
		}
		return sub.p, sub.check(need)
	}
	if tok, ok := cutScheme(h, "Bearer"); ok {
		c, err := s.verify(ctx, tok, useAccess, reg)
		if err != nil {
			return berth.Principal{}, err
		}
		return c.principal(), c.allows(need)
	}
	if _, ok := cutScheme(h, "Basic"); ok {
		user, pass, ok := r.BasicAuth()
		if !ok {
			return berth.Principal{}, berth.E(op, berth.KindUnauthorized, "malformed Basic credentials")
		}
		sub, err := s.authenticate(ctx, reg, user, pass)
		if err != nil {
			return berth.Principal{}, err
		}
		return sub.p, sub.check(need)
	}
	return berth.Principal{}, berth.E(op, berth.KindUnauthorized, "the Authorization header is neither Basic nor Bearer")
}

// cutScheme returns the credentials of an Authorization header of the given
// scheme (case-insensitive).
func cutScheme(h, scheme string) (string, bool) {
	if len(h) <= len(scheme) || h[len(scheme)] != ' ' || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", false
	}
	return strings.TrimSpace(h[len(scheme)+1:]), true
}

// Challenge returns the WWW-Authenticate value of a 401 answer to r:
// Bearer realm="<scheme>://<r.Host>/oauth2/token",service="<login server>",
// with scope="..." naming need when it is not empty. The realm uses the
// host the client reached, so that aliases such as localhost:5000 work.
func (s *Service) Challenge(r *http.Request, reg berth.Registry, need []berth.Access) string {
	scheme := s.cfg.Scheme
	if scheme == "" {
		scheme = "http"
		if r.TLS != nil {
			scheme = "https"
		}
	}
	host := r.Host
	if !printable(host) {
		host = s.LoginServer(reg)
	}
	v := `Bearer realm="` + scheme + "://" + host + `/oauth2/token",service="` + s.LoginServer(reg) + `"`
	var scopes []berth.Access
	for _, a := range need {
		if len(a.Actions) > 0 && printable(a.Type) && printable(a.Name) && printable(strings.Join(a.Actions, ",")) {
			scopes = append(scopes, a)
		}
	}
	if len(scopes) > 0 {
		v += `,scope="` + formatScopes(scopes) + `"`
	}
	return v
}

// Grants returns what principal p, authenticated by Authorize, may do in
// reg, for handlers that filter what they list (the catalog). It reads the
// token and scope map of a token principal. It returns KindUnauthorized
// when the principal no longer exists or is disabled.
func (s *Service) Grants(ctx context.Context, reg berth.Registry, p berth.Principal) (Grants, error) {
	if p.Kind == berth.PrincipalAnonymous {
		if reg.AnonymousPullEnabled {
			return anonymousGrants(), nil
		}
		return Grants{}, nil
	}
	sub, err := s.subjectOf(ctx, reg, p)
	return sub.grants, err
}

// RotateKeysOlderThan rotates the signing keys when the newest active key
// is older than age (or there is none), so that nodes sharing a key store
// can all call it on a schedule and only the first rotates.
func (s *Service) RotateKeysOlderThan(ctx context.Context, age time.Duration) error {
	keys, err := s.keys.store.SigningKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.NotAfter.IsZero() && s.now().Sub(k.CreatedAt) < age {
			return nil
		}
	}
	return s.RotateKeys(ctx)
}

// RepositoryFilter returns which repositories principal p may see in the
// catalog of reg: those it may pull or read metadata of.
func (s *Service) RepositoryFilter(ctx context.Context, reg berth.Registry, p berth.Principal) (func(repo string) bool, error) {
	g, err := s.Grants(ctx, reg, p)
	if err != nil {
		return nil, err
	}
	return func(repo string) bool {
		return g.Allows(repo, berth.ActionPull) || g.Allows(repo, berth.ActionMetadataRead)
	}, nil
}
