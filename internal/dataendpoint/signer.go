package dataendpoint

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"berth/internal/berth"
)

// KeyPrefix begins the id of every key this package stores. The key table is
// shared with the bearer-token keys; the Signer ignores, and never changes or
// deletes, keys whose id lacks the prefix.
const KeyPrefix = "data-"

// keySize is the length of an HMAC-SHA256 key.
const keySize = 32

// KeyStore keeps the keys shared by the nodes of a region: the signing-key
// table of the metadata store. Errors are *berth.Error.
type KeyStore interface {
	// SigningKeys lists every stored key.
	SigningKeys(ctx context.Context) ([]berth.SigningKey, error)
	// PutSigningKey creates or replaces key k.ID.
	PutSigningKey(ctx context.Context, k berth.SigningKey) error
	// DeleteSigningKey removes a key; a missing key is not an error.
	DeleteSigningKey(ctx context.Context, id string) error
}

// SignerConfig tunes a Signer. Zero fields take the defaults named below.
type SignerConfig struct {
	TTL       time.Duration // lifetime of a token whose Claims.TTL is zero; 10 minutes
	MaxTTL    time.Duration // longest lifetime Mint issues and Verify accepts; 1 hour
	Skew      time.Duration // how far a token's IssuedAt may lie in the future; 30 seconds
	Overlap   time.Duration // how long Rotate lets the retired keys verify; 2 × MaxTTL, at least MaxTTL + Refresh
	Refresh   time.Duration // how old the cached keys may grow before a reload; 1 minute
	MissEvery time.Duration // at most one reload per this interval for tokens of unknown keys; 5 seconds
	Log       *slog.Logger  // where failed reloads and skipped keys are reported; nil discards
}

// defaults fills in the zero fields of c and checks that the result is
// consistent: KindInvalid when it is not.
func (c *SignerConfig) defaults() error {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.TTL, 10*time.Minute)
	def(&c.MaxTTL, time.Hour)
	def(&c.Skew, 30*time.Second)
	def(&c.Refresh, time.Minute)
	def(&c.MissEvery, 5*time.Second)
	def(&c.Overlap, 2*c.MaxTTL)
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	const op = "dataendpoint.NewSigner"
	switch {
	case c.TTL < 0 || c.MaxTTL < 0 || c.Skew < 0 || c.Refresh < 0 || c.MissEvery < 0 || c.Overlap < 0:
		return berth.E(op, berth.KindInvalid, "signer durations must not be negative")
	case c.TTL > c.MaxTTL:
		return berth.E(op, berth.KindInvalid, "default token lifetime %s exceeds the maximum %s", c.TTL, c.MaxTTL)
	case c.Overlap < c.MaxTTL+c.Refresh:
		return berth.E(op, berth.KindInvalid, "key overlap %s is shorter than the maximum token lifetime plus the key refresh interval (%s)",
			c.Overlap, c.MaxTTL+c.Refresh)
	}
	return nil
}

// Signer mints and verifies the tokens of data-endpoint URLs with
// HMAC-SHA256 keys shared through a KeyStore. The newest active key signs;
// every key verifies until its NotAfter. Keys are cached in memory, so Verify
// reads the store only to refresh the cache (every Refresh, in one caller
// while the others keep using the cached keys) and, at most once per
// MissEvery, when a token names a key it does not know. It is safe for
// concurrent use.
type Signer struct {
	store KeyStore
	cfg   SignerConfig
	now   func() time.Time

	mu       sync.Mutex // held while loading keys or changing the store
	set      atomic.Pointer[keySet]
	lastMiss atomic.Int64 // UnixNano of the last reload for an unknown key
}

// hmacKey is one usable key.
type hmacKey struct {
	id       string
	secret   []byte
	created  time.Time
	notAfter time.Time // zero: active
}

func (k *hmacKey) retiredAt(now time.Time) bool {
	return !k.notAfter.IsZero() && !now.Before(k.notAfter)
}

// keySet is one load of the store.
type keySet struct {
	byID   map[string]*hmacKey
	signer *hmacKey // the newest active key; nil when there is none
	loaded time.Time
}

// NewSigner returns a Signer over keys. now is the clock (nil: time.Now).
// It does not touch the store; the first Mint or Verify loads the keys, and
// the first Mint stores a key when there is none. The error is KindInvalid
// when cfg is inconsistent.
func NewSigner(keys KeyStore, cfg SignerConfig, now func() time.Time) (*Signer, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{store: keys, cfg: cfg, now: now}, nil
}

// Mint returns a token for c, signed by the newest active key, issued now and
// valid for c.TTL (zero: SignerConfig.TTL). It creates the first key when
// the store holds no active one. The error is KindInvalid when a claim is
// malformed or the lifetime is not between zero and MaxTTL, else the store's.
func (s *Signer) Mint(ctx context.Context, c Claims) (string, error) {
	const op = "dataendpoint.Mint"
	c, err := s.checkClaims(op, c)
	if err != nil {
		return "", err
	}
	k, err := s.signer(ctx)
	if err != nil {
		return "", err
	}
	payload := encodePayload(k.id, c)
	return encodeToken(payload, mac(k.secret, payload)), nil
}

// checkClaims validates the claims of Mint and fills in class and times.
func (s *Signer) checkClaims(op string, c Claims) (Claims, error) {
	switch {
	case !validRegistry(c.Registry):
		return c, berth.E(op, berth.KindInvalid, "registry name %q is not valid", c.Registry)
	case !validLabel(c.Region):
		return c, berth.E(op, berth.KindInvalid, "region name %q is not valid", c.Region)
	case !berth.ValidRepository(c.Repository):
		return c, berth.E(op, berth.KindInvalid, "repository name %q is not valid", c.Repository)
	case !validDigest(string(c.Digest)):
		return c, berth.E(op, berth.KindInvalid, "digest %q is not a valid sha256 or sha512 digest", c.Digest)
	case !validIdentity(c.Identity):
		return c, berth.E(op, berth.KindInvalid, "identity %q must be 1 to 256 printable characters", c.Identity)
	}
	if c.Class == "" {
		c.Class = ClassRead
	}
	if c.Class != ClassRead {
		return c, berth.E(op, berth.KindInvalid, "access class %q is not issued; data endpoints serve %q only", c.Class, ClassRead)
	}
	if c.ClientAddr.IsValid() {
		c.ClientAddr = c.ClientAddr.Unmap().WithZone("")
	}
	ttl := c.TTL
	if ttl == 0 {
		ttl = s.cfg.TTL
	}
	if ttl < time.Second || ttl > s.cfg.MaxTTL {
		return c, berth.E(op, berth.KindInvalid, "token lifetime %s must be between 1s and %s", ttl, s.cfg.MaxTTL)
	}
	c.TTL = 0
	c.IssuedAt = s.now().Truncate(time.Second).UTC()
	c.Expires = c.IssuedAt.Add(ttl.Truncate(time.Second))
	return c, nil
}

// Verify checks a token and returns its claims. Every refusal is
// KindUnauthorized with a message naming the cause: a malformed or
// truncated token, an unsupported version, an unknown or retired key, a MAC
// that does not match, a lifetime longer than MaxTTL, an IssuedAt more than
// Skew in the future, or an expiry that has passed (no grace). When the
// keys cannot be loaded at all the error is the store's. Verify does not
// check what the claims bind; the caller compares them with the request.
func (s *Signer) Verify(ctx context.Context, token string) (Claims, error) {
	const op = "dataendpoint.Verify"
	raw, err := decodeToken(token)
	if err != nil {
		return Claims{}, berth.Wrap(op, berth.KindUnauthorized, err)
	}
	k, err := s.lookup(ctx, raw.kid)
	if err != nil {
		return Claims{}, err
	}
	if k == nil {
		return Claims{}, berth.E(op, berth.KindUnauthorized, "token is signed with key %q, which this region does not know", raw.kid)
	}
	now := s.now()
	if k.retiredAt(now) {
		return Claims{}, berth.E(op, berth.KindUnauthorized, "token is signed with key %q, retired since %s", k.id, k.notAfter.UTC().Format(time.RFC3339))
	}
	if !hmac.Equal(raw.sum, mac(k.secret, raw.payload)) {
		return Claims{}, berth.E(op, berth.KindUnauthorized, "token signature does not match its contents")
	}
	c := raw.claims
	switch life := c.Expires.Sub(c.IssuedAt); {
	case life <= 0 || life > s.cfg.MaxTTL:
		return Claims{}, berth.E(op, berth.KindUnauthorized, "token lifetime %s is not between 0 and the maximum %s", life, s.cfg.MaxTTL)
	case c.IssuedAt.After(now.Add(s.cfg.Skew)):
		return Claims{}, berth.E(op, berth.KindUnauthorized, "token is not valid yet: issued at %s, more than %s ahead of this node's clock",
			c.IssuedAt.Format(time.RFC3339), s.cfg.Skew)
	case !now.Before(c.Expires):
		return Claims{}, berth.E(op, berth.KindUnauthorized, "token expired at %s; ask the login server for a new URL", c.Expires.Format(time.RFC3339))
	}
	return c, nil
}

// Rotate stores a new key that signs from now on (on other nodes from their
// next refresh), retires the active data keys so that they verify for
// Overlap more, and deletes data keys past their NotAfter. Keys of other
// uses are left alone. The error is the store's.
func (s *Signer) Rotate(ctx context.Context) error {
	const op = "dataendpoint.Rotate"
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	old, err := s.store.SigningKeys(ctx)
	if err != nil {
		return berth.Wrap(op, berth.KindOf(err), err)
	}
	k, err := newKey(now)
	if err != nil {
		return err
	}
	if err := s.store.PutSigningKey(ctx, k); err != nil {
		return berth.Wrap(op, berth.KindOf(err), err)
	}
	for _, o := range old {
		if !strings.HasPrefix(o.ID, KeyPrefix) {
			continue
		}
		switch {
		case o.NotAfter.IsZero():
			o.NotAfter = now.Add(s.cfg.Overlap)
			if err := s.store.PutSigningKey(ctx, o); err != nil {
				return berth.Wrap(op, berth.KindOf(err), err)
			}
		case !now.Before(o.NotAfter):
			if err := s.store.DeleteSigningKey(ctx, o.ID); err != nil && !berth.IsNotFound(err) {
				return berth.Wrap(op, berth.KindOf(err), err)
			}
		}
	}
	s.cfg.Log.InfoContext(ctx, "rotated data-endpoint keys", slog.String("kid", k.ID), slog.Time("retiredUntil", now.Add(s.cfg.Overlap)))
	_, err = s.load(ctx)
	return err
}

// current returns the cached keys, reloading them when older than Refresh.
// Only the first load makes callers wait; a later reload runs in the caller
// that notices it is due while the others use the cached keys, and a failed
// reload keeps them.
func (s *Signer) current(ctx context.Context) (*keySet, error) {
	set := s.set.Load()
	if set != nil && s.now().Sub(set.loaded) < s.cfg.Refresh {
		return set, nil
	}
	if set == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if set := s.set.Load(); set != nil {
			return set, nil
		}
		return s.load(ctx)
	}
	if !s.mu.TryLock() {
		return set, nil
	}
	defer s.mu.Unlock()
	if again := s.set.Load(); again != set {
		return again, nil
	}
	fresh, err := s.load(ctx)
	if err != nil {
		s.cfg.Log.WarnContext(ctx, "reloading data-endpoint keys failed; keeping the cached ones", slog.Any("err", err))
		kept := *set
		kept.loaded = s.now()
		s.set.Store(&kept)
		return &kept, nil
	}
	return fresh, nil
}

// load reads the store and replaces the cache; s.mu must be held.
func (s *Signer) load(ctx context.Context) (*keySet, error) {
	keys, err := s.store.SigningKeys(ctx)
	if err != nil {
		return nil, berth.Wrap("dataendpoint.loadKeys", berth.KindOf(err), err)
	}
	now := s.now()
	set := &keySet{byID: map[string]*hmacKey{}, loaded: now}
	for _, k := range keys {
		if !strings.HasPrefix(k.ID, KeyPrefix) {
			continue
		}
		if len(k.Private) != keySize {
			s.cfg.Log.ErrorContext(ctx, "skipping a data-endpoint key of the wrong size", slog.String("kid", k.ID), slog.Int("bytes", len(k.Private)))
			continue
		}
		hk := &hmacKey{id: k.ID, secret: k.Private, created: k.CreatedAt, notAfter: k.NotAfter}
		set.byID[hk.id] = hk // a retired key stays, so that Verify can say so
		if hk.notAfter.IsZero() && (set.signer == nil || hk.created.After(set.signer.created) ||
			hk.created.Equal(set.signer.created) && hk.id > set.signer.id) {
			set.signer = hk
		}
	}
	s.set.Store(set)
	return set, nil
}

// lookup returns key kid, retired or not, or nil when no key has that id. An
// unknown id reloads the keys, at most once per MissEvery for all callers.
func (s *Signer) lookup(ctx context.Context, kid string) (*hmacKey, error) {
	set, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	if k := set.byID[kid]; k != nil || !strings.HasPrefix(kid, KeyPrefix) {
		return k, nil
	}
	now := s.now().UnixNano()
	last := s.lastMiss.Load()
	if now-last < int64(s.cfg.MissEvery) || !s.lastMiss.CompareAndSwap(last, now) {
		return nil, nil
	}
	s.mu.Lock()
	set, err = s.load(ctx)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return set.byID[kid], nil
}

// signer returns the newest active key, storing a new one when there is
// none (none yet, or every data key retired).
func (s *Signer) signer(ctx context.Context) (*hmacKey, error) {
	set, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	if set.signer != nil {
		return set.signer, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if set, err = s.load(ctx); err != nil {
		return nil, err
	}
	if set.signer != nil {
		return set.signer, nil
	}
	k, err := newKey(s.now())
	if err != nil {
		return nil, err
	}
	if err := s.store.PutSigningKey(ctx, k); err != nil {
		return nil, berth.Wrap("dataendpoint.createKey", berth.KindOf(err), err)
	}
	s.cfg.Log.InfoContext(ctx, "created a data-endpoint key", slog.String("kid", k.ID))
	if set, err = s.load(ctx); err != nil {
		return nil, err
	}
	if set.signer == nil {
		return nil, berth.E("dataendpoint.createKey", berth.KindInternal, "data-endpoint key %s was stored but is not listed", k.ID)
	}
	return set.signer, nil
}

// newKey generates a random HMAC key with a random id.
func newKey(now time.Time) (berth.SigningKey, error) {
	var b [keySize + 9]byte
	if _, err := rand.Read(b[:]); err != nil {
		return berth.SigningKey{}, berth.E("dataendpoint.newKey", berth.KindInternal, "generating a data-endpoint key: %w", err)
	}
	return berth.SigningKey{
		ID:        KeyPrefix + base64.RawURLEncoding.EncodeToString(b[keySize:]),
		Private:   b[:keySize:keySize],
		CreatedAt: now,
	}, nil
}
