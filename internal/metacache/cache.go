package metacache

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// Store is what the wrapper caches and passes through: the metadata the
// registry API reads and writes.
type Store interface {
	berth.BlobIndex
	berth.ManifestStore
	berth.UploadStore
}

// inMemoryTags is a store that may resolve every tag from memory, exactly:
// caching its answers would only add staleness and cost. TagsInMemory can
// turn false for good, and the cache then caches tags again.
type inMemoryTags interface {
	TagsInMemory() bool
}

// Limits of the cache.
const (
	maxEntries      = 50_000
	maxPayloadBytes = 32 << 20 // manifests held in memory, in bytes
)

// Cache is a Store whose Tag, Manifest and Blob answers are cached for a TTL.
type Cache struct {
	Store
	ttl     time.Duration
	now     func() time.Time
	memTags inMemoryTags // nil unless Store is one

	mu       sync.Mutex
	gen      atomic.Uint64 // bumped by every write; entries of older generations are stale
	tags     map[tagKey]entry[digest.Digest]
	mans     map[objKey]entry[*berth.Manifest]
	blobs    map[objKey]entry[int64]
	payloads int
}

type tagKey struct{ registry, repo, tag string }
type objKey struct {
	registry, repo string
	d              digest.Digest
}

type entry[V any] struct {
	v       V
	gen     uint64
	expires time.Time
}

// New wraps s with a cache of answers valid for ttl. With ttl <= 0 it
// returns a Cache that caches nothing.
func New(s Store, ttl time.Duration) *Cache {
	c := &Cache{Store: s, ttl: ttl, now: time.Now}
	c.memTags, _ = s.(inMemoryTags)
	c.reset()
	return c
}

func (c *Cache) reset() {
	c.tags = map[tagKey]entry[digest.Digest]{}
	c.mans = map[objKey]entry[*berth.Manifest]{}
	c.blobs = map[objKey]entry[int64]{}
	c.payloads = 0
}

// fresh reports whether e may still be served.
func fresh[V any](c *Cache, e entry[V], ok bool) bool {
	return ok && e.gen == c.gen.Load() && c.now().Before(e.expires)
}

// invalidate makes every cached answer stale; called on every write.
func (c *Cache) invalidate() {
	c.gen.Add(1)
}

// Tag returns the digest tag points to, from the cache when fresh.
// A store that resolves tags from memory (see inMemoryTags) is asked
// directly.
func (c *Cache) Tag(ctx context.Context, registry, repo, tag string) (digest.Digest, error) {
	if c.memTags != nil && c.memTags.TagsInMemory() {
		return c.Store.Tag(ctx, registry, repo, tag)
	}
	return get(c, &c.tags, tagKey{registry, repo, tag}, func() (digest.Digest, error) {
		return c.Store.Tag(ctx, registry, repo, tag)
	}, nil)
}

// Manifest returns manifest d of repo, from the cache when fresh. The
// returned manifest is shared: callers must not modify it.
func (c *Cache) Manifest(ctx context.Context, registry, repo string, d digest.Digest) (*berth.Manifest, error) {
	return get(c, &c.mans, objKey{registry, repo, d}, func() (*berth.Manifest, error) {
		return c.Store.Manifest(ctx, registry, repo, d)
	}, func(m *berth.Manifest) bool {
		if len(m.Payload) > maxPayloadBytes/64 {
			return false
		}
		if c.payloads+len(m.Payload) > maxPayloadBytes {
			c.reset()
		}
		c.payloads += len(m.Payload)
		return true
	})
}

// Blob returns the size of blob d if repo may read it, from the cache when
// fresh.
func (c *Cache) Blob(ctx context.Context, registry, repo string, d digest.Digest) (int64, error) {
	return get(c, &c.blobs, objKey{registry, repo, d}, func() (int64, error) {
		return c.Store.Blob(ctx, registry, repo, d)
	}, nil)
}

// get answers from *m when its entry for k is fresh, and otherwise loads
// the answer and, when it was found (and admit, called under the lock,
// accepts it), keeps it for the TTL.
func get[K comparable, V any](c *Cache, m *map[K]entry[V], k K, load func() (V, error), admit func(V) bool) (V, error) {
	if c.ttl <= 0 {
		return load()
	}
	c.mu.Lock()
	e, ok := (*m)[k]
	c.mu.Unlock()
	if fresh(c, e, ok) {
		return e.v, nil
	}
	gen := c.gen.Load()
	v, err := load()
	if err == nil {
		c.put(func() {
			if admit == nil || admit(v) {
				(*m)[k] = entry[V]{v, gen, c.now().Add(c.ttl)}
			}
		})
	}
	return v, err
}

// put runs add under the lock, first emptying a cache that grew too large.
func (c *Cache) put(add func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.tags)+len(c.mans)+len(c.blobs) >= maxEntries {
		c.reset()
	}
	add()
}

// The writes: each passes through and makes the cache stale, also when it
// failed (it may have been applied before the failure was seen).

func (c *Cache) LinkBlob(ctx context.Context, registry, repo string, d digest.Digest, size int64) error {
	defer c.invalidate()
	return c.Store.LinkBlob(ctx, registry, repo, d, size)
}

// uploadLinker is the optional capability of the store to link a blob and
// close its upload session in one transaction.
type uploadLinker interface {
	LinkUploadedBlob(ctx context.Context, registry, repo string, d digest.Digest, size int64, uploadID string) error
}

// LinkUploadedBlob links blob d to repo and closes upload session
// uploadID: in one transaction when the store can, else as LinkBlob
// followed by CloseUpload.
func (c *Cache) LinkUploadedBlob(ctx context.Context, registry, repo string, d digest.Digest, size int64, uploadID string) error {
	defer c.invalidate()
	if l, ok := c.Store.(uploadLinker); ok {
		return l.LinkUploadedBlob(ctx, registry, repo, d, size, uploadID)
	}
	if err := c.Store.LinkBlob(ctx, registry, repo, d, size); err != nil {
		return err
	}
	return c.Store.CloseUpload(ctx, berth.Upload{ID: uploadID, Registry: registry, Repository: repo})
}

func (c *Cache) UnlinkBlob(ctx context.Context, registry, repo string, d digest.Digest) error {
	defer c.invalidate()
	return c.Store.UnlinkBlob(ctx, registry, repo, d)
}

func (c *Cache) PutManifest(ctx context.Context, registry, repo string, m *berth.Manifest, tag string) error {
	defer c.invalidate()
	return c.Store.PutManifest(ctx, registry, repo, m, tag)
}

func (c *Cache) DeleteManifest(ctx context.Context, registry, repo string, d digest.Digest) error {
	defer c.invalidate()
	return c.Store.DeleteManifest(ctx, registry, repo, d)
}

func (c *Cache) DeleteTag(ctx context.Context, registry, repo, tag string) error {
	defer c.invalidate()
	return c.Store.DeleteTag(ctx, registry, repo, tag)
}

// Forget makes every cached answer stale, for writes made around the
// wrapper on this node (the management API).
func (c *Cache) Forget() { c.invalidate() }
