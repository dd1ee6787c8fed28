package auth

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"berth/internal/berth"
)

// SigningKey is a private key that signs the tokens of every node of a
// region. A key with a zero NotAfter is active, and the newest active key
// signs; a retired key (NotAfter set) only verifies, until NotAfter.
type SigningKey = berth.SigningKey

// KeyStore keeps the signing keys shared by the nodes of a region. Errors
// are *berth.Error.
type KeyStore interface {
	// SigningKeys lists every stored key.
	SigningKeys(ctx context.Context) ([]SigningKey, error)
	// PutSigningKey creates or replaces key k.ID.
	PutSigningKey(ctx context.Context, k SigningKey) error
	// DeleteSigningKey removes a key; KindNotFound if there is none.
	DeleteSigningKey(ctx context.Context, id string) error
}

// ringKey is a parsed signing key.
type ringKey struct {
	id       string
	priv     *ecdsa.PrivateKey
	created  time.Time
	notAfter time.Time
}

// usable reports whether k still verifies at now.
func (k *ringKey) usable(now time.Time) bool {
	return k.notAfter.IsZero() || now.Before(k.notAfter)
}

// keySet is one load of the key store.
type keySet struct {
	byID   map[string]*ringKey
	signer *ringKey // nil when no key is active
	loaded time.Time
}

// keyring caches the signing keys in memory. It reloads them every refresh,
// and when a token names an unknown key, at most once per missEvery; a
// failed reload keeps the keys it had.
type keyring struct {
	store     KeyStore
	now       func() time.Time
	log       *slog.Logger
	refresh   time.Duration
	missEvery time.Duration

	mu       sync.Mutex // held while loading or changing the store
	set      atomic.Pointer[keySet]
	lastMiss atomic.Int64 // UnixNano of the last reload for an unknown key
}

// current returns the cached keys, reloading them first when they are
// older than refresh at now. Only the first load makes callers wait; later
// reloads happen in whichever caller notices, while the others use the
// cached set.
func (r *keyring) current(ctx context.Context, now time.Time) (*keySet, error) {
	s := r.set.Load()
	if s != nil && now.Sub(s.loaded) < r.refresh {
		return s, nil
	}
	if s == nil {
		r.mu.Lock()
		defer r.mu.Unlock()
		if s := r.set.Load(); s != nil {
			return s, nil
		}
		return r.load(ctx)
	}
	if !r.mu.TryLock() {
		return s, nil
	}
	defer r.mu.Unlock()
	if s2 := r.set.Load(); s2 != s {
		return s2, nil
	}
	ns, err := r.load(ctx)
	if err != nil {
		r.log.WarnContext(ctx, "reloading signing keys failed; keeping the cached ones", slog.Any("err", err))
		kept := *s
		kept.loaded = r.now()
		r.set.Store(&kept)
		return &kept, nil
	}
	return ns, nil
}

// load reads the key store and replaces the cached set; r.mu must be held.
func (r *keyring) load(ctx context.Context) (*keySet, error) {
	keys, err := r.store.SigningKeys(ctx)
	if err != nil {
		return nil, berth.Wrap("auth.loadKeys", berth.KindOf(err), err)
	}
	now := r.now()
	s := &keySet{byID: make(map[string]*ringKey, len(keys)), loaded: now}
	for _, k := range keys {
		rk, err := parseSigningKey(k)
		if err != nil {
			r.log.ErrorContext(ctx, "skipping unusable signing key", slog.String("kid", k.ID), slog.Any("err", err))
			continue
		}
		if !rk.usable(now) {
			continue
		}
		s.byID[rk.id] = rk
		if rk.notAfter.IsZero() && (s.signer == nil || rk.created.After(s.signer.created) ||
			rk.created.Equal(s.signer.created) && rk.id > s.signer.id) {
			s.signer = rk
		}
	}
	r.set.Store(s)
	return s, nil
}

// lookup returns the key kid, or nil when no usable key has that id, with
// the keys as they are at now. An unknown id reloads the keys, at most once
// per missEvery for all callers.
func (r *keyring) lookup(ctx context.Context, kid string, now time.Time) (*ringKey, error) {
	s, err := r.current(ctx, now)
	if err != nil {
		return nil, err
	}
	if k := s.byID[kid]; k != nil {
		return k, nil
	}
	ns := now.UnixNano()
	last := r.lastMiss.Load()
	if ns-last < int64(r.missEvery) || !r.lastMiss.CompareAndSwap(last, ns) {
		return nil, nil
	}
	r.mu.Lock()
	s, err = r.load(ctx)
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return s.byID[kid], nil
}

// signer returns the newest active key, creating one when the store holds
// none.
func (r *keyring) signer(ctx context.Context) (*ringKey, error) {
	s, err := r.current(ctx, r.now())
	if err != nil {
		return nil, err
	}
	if s.signer != nil {
		return s.signer, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, err = r.load(ctx); err != nil {
		return nil, err
	}
	if s.signer != nil {
		return s.signer, nil
	}
	k, err := newSigningKey(r.now())
	if err != nil {
		return nil, err
	}
	if err := r.store.PutSigningKey(ctx, k); err != nil {
		return nil, berth.Wrap("auth.createKey", berth.KindOf(err), err)
	}
	r.log.InfoContext(ctx, "created the first signing key", slog.String("kid", k.ID))
	if s, err = r.load(ctx); err != nil {
		return nil, err
	}
	if s.signer == nil {
		return nil, berth.E("auth.createKey", berth.KindInternal, "signing key %s was stored but is not listed", k.ID)
	}
	return s.signer, nil
}

// rotate stores a new active key, retires the active ones so that they
// verify until now+overlap, and deletes keys past their NotAfter.
func (r *keyring) rotate(ctx context.Context, overlap time.Duration) error {
	const op = "auth.RotateKeys"
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	old, err := r.store.SigningKeys(ctx)
	if err != nil {
		return berth.Wrap(op, berth.KindOf(err), err)
	}
	k, err := newSigningKey(now)
	if err != nil {
		return err
	}
	if err := r.store.PutSigningKey(ctx, k); err != nil {
		return berth.Wrap(op, berth.KindOf(err), err)
	}
	for _, o := range old {
		switch {
		case o.NotAfter.IsZero():
			o.NotAfter = now.Add(overlap)
			if err := r.store.PutSigningKey(ctx, o); err != nil {
				return berth.Wrap(op, berth.KindOf(err), err)
			}
		case !now.Before(o.NotAfter):
			if err := r.store.DeleteSigningKey(ctx, o.ID); err != nil && !berth.IsNotFound(err) {
				return berth.Wrap(op, berth.KindOf(err), err)
			}
		}
	}
	r.log.InfoContext(ctx, "rotated signing keys", slog.String("kid", k.ID), slog.Time("retiredUntil", now.Add(overlap)))
	_, err = r.load(ctx)
	return err
}

// newSigningKey generates a P-256 key; its id is derived from the public key.
func newSigningKey(now time.Time) (SigningKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return SigningKey{}, berth.E("auth.newKey", berth.KindInternal, "generating a signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return SigningKey{}, berth.E("auth.newKey", berth.KindInternal, "encoding a signing key: %w", err)
	}
	id, err := keyID(&priv.PublicKey)
	if err != nil {
		return SigningKey{}, err
	}
	return SigningKey{ID: id, Private: der, CreatedAt: now}, nil
}

// keyID names a public key by a digest of its PKIX encoding.
func keyID(pub *ecdsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", berth.E("auth.keyID", berth.KindInternal, "encoding a public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:15]), nil
}

// parseSigningKey decodes k.Private; it must be a P-256 key in PKCS#8.
func parseSigningKey(k SigningKey) (*ringKey, error) {
	der := k.Private
	if b := bytes.TrimSpace(der); bytes.HasPrefix(b, []byte("-----BEGIN")) {
		blk, _ := pem.Decode(b)
		if blk == nil {
			return nil, errors.New("the key is not valid PEM")
		}
		der = blk.Bytes
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	priv, ok := key.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, errors.New("the key is not an ECDSA P-256 key")
	}
	if k.ID == "" {
		return nil, errors.New("the key has no id")
	}
	return &ringKey{id: k.ID, priv: priv, created: k.CreatedAt, notAfter: k.NotAfter}, nil
}
