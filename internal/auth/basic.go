package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"berth/internal/berth"
)

// RefreshTokenUser is the user name under which a refresh token is sent as
// a password (docker login -u 00000000-0000-0000-0000-000000000000).
const RefreshTokenUser = "00000000-0000-0000-0000-000000000000"

// authenticate checks a user name and password for reg: the admin user
// (user name = registry name, only while enabled), a token, or a refresh
// token under RefreshTokenUser. It returns KindUnauthorized naming the
// cause when they do not authenticate.
func (s *Service) authenticate(ctx context.Context, reg berth.Registry, user, password string) (subject, error) {
	const op = "auth.authenticate"
	switch {
	case user == RefreshTokenUser:
		c, err := s.verify(ctx, password, useRefresh, reg)
		if err != nil {
			return subject{}, err
		}
		return s.subjectOf(ctx, reg, c.principal())
	case user == "":
		return subject{}, berth.E(op, berth.KindUnauthorized, "no user name")
	case user == reg.Name:
		if !reg.AdminUserEnabled {
			return subject{}, berth.E(op, berth.KindUnauthorized, "the admin user of registry %q is disabled", reg.Name)
		}
		if err := s.checkPassword(ctx, reg, berth.AdminOwner, user, password); err != nil {
			return subject{}, err
		}
		return subject{p: berth.Principal{Kind: berth.PrincipalAdmin, Name: reg.Name, Registry: reg.Name}, grants: AllGrants()}, nil
	}
	t, err := s.enabledToken(ctx, reg, user)
	if err != nil {
		return subject{}, err
	}
	if err := s.checkPassword(ctx, reg, berth.TokenOwner(user), user, password); err != nil {
		return subject{}, err
	}
	return s.tokenSubject(ctx, reg, t)
}

// checkPassword checks password against the unexpired secrets of owner.
// A match is remembered for BasicCacheTTL under the registry, the user, the
// password's digest and the secret's hash, so a secret that is replaced or
// deleted stops matching at once.
func (s *Service) checkPassword(ctx context.Context, reg berth.Registry, owner, user, password string) error {
	const op = "auth.checkPassword"
	secrets, err := s.store.Secrets(ctx, reg.Name, owner)
	if err != nil {
		return berth.Wrap(op, berth.KindOf(err), err)
	}
	now := s.now()
	live := secrets[:0:0]
	for _, sec := range secrets {
		if len(sec.Hash) > 0 && !sec.Expired(now) {
			live = append(live, sec)
		}
	}
	switch {
	case len(secrets) == 0:
		return berth.E(op, berth.KindUnauthorized, "user %q has no password", user)
	case len(live) == 0:
		return berth.E(op, berth.KindUnauthorized, "every password of user %q has expired", user)
	}
	pw := sha256.Sum256([]byte(password))
	keys := make([][32]byte, len(live))
	for i, sec := range live {
		keys[i] = cacheKey(reg.Name, user, pw, sec.Hash)
		if s.cache.ok(keys[i], now) {
			return nil
		}
	}
	for i, sec := range live {
		if s.compareHash(sec.Hash, []byte(password)) == nil {
			s.cache.put(keys[i], now)
			return nil
		}
	}
	return berth.E(op, berth.KindUnauthorized, "password does not match for user %q", user)
}

func cacheKey(registry, user string, pw [32]byte, hash []byte) [32]byte {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(registry), []byte(user), pw[:], hash} {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// basicCache remembers verified passwords until their entry expires. It
// holds at most max entries: when full it drops expired entries, and when
// none are, everything.
type basicCache struct {
	ttl time.Duration
	max int

	mu sync.Mutex
	m  map[[32]byte]time.Time
}

func (c *basicCache) ok(k [32]byte, now time.Time) bool {
	c.mu.Lock()
	exp, hit := c.m[k]
	c.mu.Unlock()
	return hit && now.Before(exp)
}

func (c *basicCache) put(k [32]byte, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for key, exp := range c.m {
			if !now.Before(exp) {
				delete(c.m, key)
			}
		}
		if len(c.m) >= c.max {
			clear(c.m)
		}
	}
	c.m[k] = now.Add(c.ttl)
}

// NewPassword returns a new random password: 32 bytes from crypto/rand in
// unpadded URL-safe base64 (43 characters). It fails only when the system's
// random source does.
func NewPassword() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", berth.E("auth.NewPassword", berth.KindInternal, "reading random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// HashPassword returns the bcrypt hash of p, as berth.Secret.Hash stores
// it. It returns KindInvalid when p is empty or longer than bcrypt's 72
// bytes.
func HashPassword(p string) ([]byte, error) {
	const op = "auth.HashPassword"
	if p == "" {
		return nil, berth.E(op, berth.KindInvalid, "the password is empty")
	}
	if len(p) > 72 {
		return nil, berth.E(op, berth.KindInvalid, "the password is %d bytes long; at most 72 are allowed", len(p))
	}
	h, err := bcrypt.GenerateFromPassword([]byte(p), bcrypt.DefaultCost)
	if err != nil {
		return nil, berth.E(op, berth.KindInternal, "hashing the password: %w", err)
	}
	return h, nil
}
