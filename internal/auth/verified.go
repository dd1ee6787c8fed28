package auth

import (
	"sync"
	"time"
)

// verifiedCache remembers tokens whose signature was verified, so that a
// client presenting the same bearer token again costs a map lookup instead
// of an ECDSA verification. Tokens are keyed by their whole text: one that
// differs in any byte from a verified token, a tampered one included, is
// not found and is verified afresh. Only the signature check is cached:
// expiry, audience, registry and the signing key's retirement are checked
// on every use.
//
// Lookups take a read lock, so that the request goroutines of a busy node
// do not queue behind one another; only a newly verified token writes.
type verifiedCache struct {
	mu      sync.RWMutex
	max     int
	entries map[string]verifiedEntry
}

type verifiedEntry struct {
	claims  *claims
	kid     string
	expires time.Time
}

func newVerifiedCache(max int) *verifiedCache {
	return &verifiedCache{max: max, entries: make(map[string]verifiedEntry)}
}

// get returns the claims of a token verified before, and the id of the key
// that signed it, if the token has not expired at now.
func (c *verifiedCache) get(raw string, now time.Time) (*claims, string, bool) {
	c.mu.RLock()
	e, ok := c.entries[raw]
	c.mu.RUnlock()
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
	c.entries[raw] = verifiedEntry{claims: cl, kid: kid, expires: cl.ExpiresAt.Time}
}
