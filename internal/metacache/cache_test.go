package metacache

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
	"berth/internal/metadata/sqlite"
)

// counting wraps a real store and counts the reads that reach it.
type counting struct {
	Store
	reads int
}

func (c *counting) Tag(ctx context.Context, r, repo, tag string) (digest.Digest, error) {
	c.reads++
	return c.Store.Tag(ctx, r, repo, tag)
}

func (c *counting) Manifest(ctx context.Context, r, repo string, d digest.Digest) (*berth.Manifest, error) {
	c.reads++
	return c.Store.Manifest(ctx, r, repo, d)
}

func (c *counting) Blob(ctx context.Context, r, repo string, d digest.Digest) (int64, error) {
	c.reads++
	return c.Store.Blob(ctx, r, repo, d)
}

type fixture struct {
	inner *counting
	cache *Cache
	now   time.Time
	m     *berth.Manifest
	layer digest.Digest
}

func newFixture(t *testing.T, ttl time.Duration) *fixture {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	if err := s.CreateRegistry(ctx, berth.Registry{Name: "reg"}); err != nil {
		t.Fatal(err)
	}
	f := &fixture{inner: &counting{Store: s}, now: time.Unix(1000, 0)}
	f.cache = New(f.inner, ttl)
	f.cache.now = func() time.Time { return f.now }
	f.layer = digest.FromString("layer")
	if err := f.cache.LinkBlob(ctx, "reg", "app", f.layer, 5); err != nil {
		t.Fatal(err)
	}
	payload := []byte(`{"schemaVersion":2}`)
	f.m = &berth.Manifest{Digest: digest.FromBytes(payload), MediaType: "application/vnd.oci.image.manifest.v1+json",
		Payload: payload, References: []berth.Reference{{Digest: f.layer}}}
	if err := f.cache.PutManifest(ctx, "reg", "app", f.m, "v1"); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) readAll(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if d, err := f.cache.Tag(ctx, "reg", "app", "v1"); err != nil || d != f.m.Digest {
		t.Fatalf("Tag = %s, %v", d, err)
	}
	if m, err := f.cache.Manifest(ctx, "reg", "app", f.m.Digest); err != nil || string(m.Payload) != string(f.m.Payload) {
		t.Fatalf("Manifest = %v", err)
	}
	if n, err := f.cache.Blob(ctx, "reg", "app", f.layer); err != nil || n != 5 {
		t.Fatalf("Blob = %d, %v", n, err)
	}
}

func TestRepeatedReadsHitTheCache(t *testing.T) {
	f := newFixture(t, time.Second)
	f.readAll(t)
	f.readAll(t)
	f.readAll(t)
	if f.inner.reads != 3 {
		t.Fatalf("%d reads reached the store, want 3", f.inner.reads)
	}
	f.now = f.now.Add(time.Second) // expired
	f.readAll(t)
	if f.inner.reads != 6 {
		t.Fatalf("after the TTL, %d reads reached the store, want 6", f.inner.reads)
	}
}

func TestWritesThroughTheCacheAreSeenAtOnce(t *testing.T) {
	f := newFixture(t, time.Hour)
	ctx := context.Background()
	f.readAll(t)
	if err := f.cache.DeleteTag(ctx, "reg", "app", "v1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cache.Tag(ctx, "reg", "app", "v1"); !berth.IsNotFound(err) {
		t.Fatalf("deleted tag still resolves: %v", err)
	}
	if err := f.cache.DeleteManifest(ctx, "reg", "app", f.m.Digest); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cache.Manifest(ctx, "reg", "app", f.m.Digest); !berth.IsNotFound(err) {
		t.Fatalf("deleted manifest still served: %v", err)
	}
	if err := f.cache.UnlinkBlob(ctx, "reg", "app", f.layer); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cache.Blob(ctx, "reg", "app", f.layer); !berth.IsNotFound(err) {
		t.Fatalf("unlinked blob still readable: %v", err)
	}
}

func TestMissesAreNotCached(t *testing.T) {
	f := newFixture(t, time.Hour)
	ctx := context.Background()
	if _, err := f.cache.Tag(ctx, "reg", "app", "v2"); !berth.IsNotFound(err) {
		t.Fatal(err)
	}
	// Another node tags v2: the next lookup here sees it at once.
	if err := f.inner.Store.PutManifest(ctx, "reg", "app", f.m, "v2"); err != nil {
		t.Fatal(err)
	}
	if d, err := f.cache.Tag(ctx, "reg", "app", "v2"); err != nil || d != f.m.Digest {
		t.Fatalf("new tag not seen: %s, %v", d, err)
	}
}

func TestForgetAndZeroTTL(t *testing.T) {
	f := newFixture(t, time.Hour)
	f.readAll(t)
	f.cache.Forget()
	f.readAll(t)
	if f.inner.reads != 6 {
		t.Fatalf("Forget kept answers: %d reads", f.inner.reads)
	}
	g := newFixture(t, 0)
	g.readAll(t)
	g.readAll(t)
	if g.inner.reads != 6 {
		t.Fatalf("a zero TTL cached: %d reads", g.inner.reads)
	}
}

// hidden hides the LinkUploadedBlob of the store it wraps, so that the
// cache has to link and end the session in two steps.
type hidden struct{ Store }

func TestLinkUploadedBlob(t *testing.T) {
	tests := []struct {
		name   string
		wrap   func(s *sqlite.Store) Store
		linker bool
	}{
		{"store links and ends the session", func(s *sqlite.Store) Store { return s }, true},
		{"cache links and ends the session", func(s *sqlite.Store) Store { return hidden{s} }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			s, err := sqlite.Open(filepath.Join(t.TempDir(), "m.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			store := tc.wrap(s)
			if _, ok := store.(uploadLinker); ok != tc.linker {
				t.Fatalf("%T has LinkUploadedBlob: %t, want %t", store, ok, tc.linker)
			}
			c := New(store, time.Hour)

			// A cached answer that the store no longer gives.
			old := digest.FromString("old layer")
			if err := c.LinkBlob(ctx, "reg", "app", old, 9); err != nil {
				t.Fatal(err)
			}
			if n, err := c.Blob(ctx, "reg", "app", old); err != nil || n != 9 {
				t.Fatalf("Blob = %d, %v", n, err)
			}
			if err := s.UnlinkBlob(ctx, "reg", "app", old); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Blob(ctx, "reg", "app", old); err != nil {
				t.Fatalf("Blob not answered from the cache: %v", err)
			}

			if err := s.CreateUpload(ctx, berth.Upload{ID: "u1", Registry: "reg", Repository: "app", Algorithm: "sha256"}); err != nil {
				t.Fatal(err)
			}
			layer := digest.FromString("layer")
			if err := c.LinkUploadedBlob(ctx, "reg", "app", layer, 5, "u1"); err != nil {
				t.Fatalf("LinkUploadedBlob: %v", err)
			}
			if n, err := c.Blob(ctx, "reg", "app", layer); err != nil || n != 5 {
				t.Fatalf("Blob of the uploaded blob = %d, %v; want 5", n, err)
			}
			if _, err := c.Blob(ctx, "reg", "app", old); !berth.IsNotFound(err) {
				t.Fatalf("Blob of the unlinked blob after LinkUploadedBlob = %v, want KindNotFound", err)
			}
			advance := berth.Upload{ID: "u1", Registry: "reg", Offset: 1, Algorithm: "sha256"}
			if err := s.AdvanceUpload(ctx, advance, 0); !berth.IsNotFound(err) {
				t.Fatalf("AdvanceUpload of the session after LinkUploadedBlob = %v, want KindNotFound", err)
			}

			// A session without record is no error.
			other := digest.FromString("other layer")
			if err := c.LinkUploadedBlob(ctx, "reg", "app", other, 11, "never-created"); err != nil {
				t.Fatalf("LinkUploadedBlob of an unknown session: %v", err)
			}
			if n, err := c.Blob(ctx, "reg", "app", other); err != nil || n != 11 {
				t.Fatalf("Blob linked with an unknown session = %d, %v; want 11", n, err)
			}
		})
	}
}

// memTags is a counting store that says whether it resolves tags from
// memory.
type memTags struct {
	*counting
	on bool
}

func (m *memTags) TagsInMemory() bool { return m.on }

// TestInMemoryTagsPassThrough checks that tag lookups go straight to a
// store that resolves them from memory, and are cached again once it stops.
func TestInMemoryTagsPassThrough(t *testing.T) {
	f := newFixture(t, time.Second)
	inner := &memTags{counting: f.inner, on: true}
	c := New(inner, time.Second)
	c.now = func() time.Time { return f.now }
	ctx := context.Background()
	tags := func() int {
		before := f.inner.reads
		for range 3 {
			if d, err := c.Tag(ctx, "reg", "app", "v1"); err != nil || d != f.m.Digest {
				t.Fatalf("Tag = %s, %v", d, err)
			}
		}
		return f.inner.reads - before
	}
	if n := tags(); n != 3 {
		t.Fatalf("%d of 3 lookups reached a store that holds tags in memory, want 3", n)
	}
	inner.on = false
	if n := tags(); n != 1 {
		t.Fatalf("%d of 3 lookups reached the store once it stopped, want 1", n)
	}
}

// The SQLite store is one that may hold tags in memory.
var _ inMemoryTags = (*sqlite.Store)(nil)
