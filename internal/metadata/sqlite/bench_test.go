package sqlite

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// BenchmarkManifestByTag measures the reads of a manifest GET by tag: the
// tag, then the manifest, from parallel clients.
func BenchmarkManifestByTag(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "metadata.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := b.Context()
	m := putManifest(b, s, "bench", "v1").Digest
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d, err := s.Tag(ctx, "r", "app", "v1")
			if err != nil || d != m {
				b.Fatal(d, err)
			}
			if _, err := s.Manifest(ctx, "r", "app", d); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRandomTag measures a tag lookup and its manifest read for a tag
// drawn at random from a repository of 1,000 and of 1,000,000 tags, so that
// the two can be compared: lookups are searches of primary keys, and their
// cost should barely grow with the number of tags.
func BenchmarkRandomTag(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "metadata.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := b.Context()
			m := putManifest(b, s, "bench", "").Digest
			if _, err := s.write.ExecContext(ctx, `WITH RECURSIVE seq(i) AS (
    SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < $1 - 1)
INSERT INTO tags (registry, repository, name, digest, updated_at)
SELECT 'r', 'app', printf('t%07d', i), $2, $3 FROM seq`, n, string(m), time.Now().UnixNano()); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				rng := rand.New(rand.NewPCG(rand.Uint64(), 1))
				for pb.Next() {
					tag := fmt.Sprintf("t%07d", rng.IntN(n))
					d, err := s.Tag(ctx, "r", "app", tag)
					if err != nil || d != m {
						b.Fatal(tag, d, err)
					}
					if _, err := s.Manifest(ctx, "r", "app", d); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
