package auth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// verifiedCache remembers tokens whose signature was verified, so that a
// client presenting the same bearer token again costs a hash and a map
// lookup instead of an ECDSA verification. Only the signature check is
// cached: expiry, audience, registry and the signing key's retirement are
// checked on every use.
type verifiedCache struct {
	mu      sync.Mutex
	max     int
	entries map[[sha256.Size]byte]verifiedEntry
}

type verifiedEntry struct {
	claims  *claims
	kid     string
	expires time.Time
}

func newVerifiedCache(max int) *verifiedCache {
	return &verifiedCache{max: max, entries: make(map[[sha256.Size]byte]verifiedEntry)}
}

// get returns the claims of a token verified before, if it has not expired.
func (c *verifiedCache) get(raw string, now time.Time) (*claims, string, bool) {
	k := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	e, ok := c.entries[k]
	c.mu.Unlock()
	if !ok || !now.Before(e.expires) {
		return nil, "", false
	}
	return e.claims, e.kid, true
}

// put records a verified token until its expiry. When the cache is full it
// first drops expired entries, and everything if that was not enough.
func (c *verifiedCache) put(raw string, cl *claims, kid string, now time.Time) {
	if cl.ExpiresAt == nil {
		return
	}
	k := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for key, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, key)
			}
		}
		if len(c.entries) >= c.max {
			clear(c.entries)
		}
	}
	c.entries[k] = verifiedEntry{claims: cl, kid: kid, expires: cl.ExpiresAt.Time}
}
