package metadatatest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
)

// writers is how many goroutines write into one repository at once.
const writers = 16

func testConcurrentPuts(t *testing.T, s Store) {
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
