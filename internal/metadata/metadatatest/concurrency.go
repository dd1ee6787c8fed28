package metadatatest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// writers is how many goroutines write into one repository at once.
const writers = 16

func testConcurrentPuts(t *testing.T, s berth.MetadataStore) {
	ctx := t.Context()
	shared := linkBlob(t, s, "r", "app", "shared base layer")
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		put  = map[string]bool{}
	)
	for i := range writers {
		wg.Go(func() {
			fail := func(err error) {
				mu.Lock()
				errs = append(errs, fmt.Errorf("writer %d: %w", i, err))
				mu.Unlock()
			}
			for j := range 3 {
				seed := fmt.Sprintf("w%d-%d", i, j)
				layer := fmt.Sprintf("layer %s", seed)
				d := digest.FromString(layer)
				if err := s.LinkBlob(ctx, "r", "app", d, int64(len(layer))); err != nil {
					fail(err)
					return
				}
				m := newManifest(seed, blobRef(shared), blobRef(d))
				if err := s.PutManifest(ctx, "r", "app", m, seed); err != nil {
					fail(err)
					return
				}
				if err := s.PutManifest(ctx, "r", "app", m, "latest"); err != nil {
					fail(err)
					return
				}
				if _, err := s.Tag(ctx, "r", "app", seed); err != nil {
					fail(err)
					return
				}
				mu.Lock()
				put[string(m.Digest)] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	tags, err := s.Tags(ctx, "r", "app", "", 0)
	must(t, err)
	if len(tags) != writers*3+1 {
		t.Fatalf("%d tags after concurrent puts, want %d", len(tags), writers*3+1)
	}
	latest, err := s.Tag(ctx, "r", "app", "latest")
	must(t, err)
	if !put[string(latest)] {
		t.Fatalf("latest points to %s, which no writer put", latest)
	}
	repos, err := s.Repositories(ctx, "r", "", 0)
	must(t, err)
	wantStrings(t, "repositories", repos, []string{"app"})
}

// Reopen checks that what a store acknowledged is there after it is closed
// and opened again: registries, blobs, manifests, tags and uploads. open must
// return a store over the same database at every call; Reopen closes what it
// returns.
func Reopen(t *testing.T, open func(t *testing.T) berth.MetadataStore) {
	ctx := t.Context()
	s := open(t)
	must(t, s.CreateRegistry(ctx, berth.Registry{Name: "r", Location: "eastus", Aliases: []string{"localhost"}}))
	m := putImage(t, s, "r", "app", "durable", "v1")
	must(t, s.CreateUpload(ctx, berth.Upload{ID: "u", Registry: "r", Repository: "app", Algorithm: "sha256"}))
	must(t, s.AdvanceUpload(ctx, berth.Upload{ID: "u", Registry: "r", Repository: "app", Offset: 10, Algorithm: "sha256", HashState: []byte{1, 2, 3}}, 0))
	must(t, s.Close())

	s = open(t)
	defer s.Close()
	r, err := s.RegistryByAlias(ctx, "localhost")
	must(t, err)
	if r.Name != "r" || r.Location != "eastus" {
		t.Fatalf("registry after reopening = %+v", r)
	}
	wantTag(t, s, "r", "app", "v1", m.Digest)
	got, err := s.Manifest(ctx, "r", "app", m.Digest)
	must(t, err)
	if string(got.Payload) != string(m.Payload) || len(got.References) != 2 {
		t.Fatalf("manifest after reopening = %+v", got)
	}
	for _, ref := range m.References {
		if _, err := s.Blob(ctx, "r", "app", ref.Digest); err != nil {
			t.Fatalf("blob after reopening: %v", err)
		}
	}
	u, err := s.Upload(ctx, "r", "u")
	must(t, err)
	if u.Offset != 10 || string(u.HashState) != "\x01\x02\x03" {
		t.Fatalf("upload after reopening = %+v", u)
	}
	// Writes still work.
	after := putImage(t, s, "r", "app", "after", "v2")
	wantTag(t, s, "r", "app", "v2", after.Digest)
}
