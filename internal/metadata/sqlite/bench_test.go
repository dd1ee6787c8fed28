package sqlite

import (
	"path/filepath"
	"testing"
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
