package metadata

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// openIndexedStore opens a Store over the SQLite file path as the sqlite
// package does, with a tag index of at most max tags.
func openIndexedStore(t testing.TB, path string, max int) *Store {
	t.Helper()
	ctx := t.Context()
	d := Dialect{Name: "sqlite", CollateC: "COLLATE BINARY", SingleWriter: true, TagIndexMax: max}
	write, err := sql.Open("sqlite", path+"?_pragma=journal_mode(WAL)&_pragma=foreign_keys(ON)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	write.SetMaxOpenConns(1)
	if _, err := Migrate(ctx, write, d); err != nil {
		t.Fatal(err)
	}
	read, err := sql.Open("sqlite", path+"?_pragma=journal_mode(WAL)&_pragma=query_only(ON)")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(ctx, read, write, d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// tagRow is one tag as the index or the database holds it.
type tagRow struct {
	d                      digest.Digest
	readable, repoReadable bool
}

// tagsInDatabase reads every tag whose repository exists, as Tag would.
func tagsInDatabase(t *testing.T, s *Store) map[[3]string]tagRow {
	t.Helper()
	rows, err := s.read.QueryContext(t.Context(), `SELECT t.registry, t.repository, t.name, t.digest, t.read_enabled, r.read_enabled
FROM tags t JOIN repositories r ON r.registry = t.registry AND r.name = t.repository`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[[3]string]tagRow{}
	for rows.Next() {
		var k [3]string
		var r tagRow
		if err := rows.Scan(&k[0], &k[1], &k[2], &r.d, &r.readable, &r.repoReadable); err != nil {
			t.Fatal(err)
		}
		out[k] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// tagsInIndex copies what the index holds.
func tagsInIndex(s *Store) map[[3]string]tagRow {
	x := s.tags
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := map[[3]string]tagRow{}
	for k, rt := range x.repos {
		rt.tags.each(func(name string, d digest.Digest, readable bool) {
			out[[3]string{k.registry, k.repo, name}] = tagRow{d, readable, rt.readable}
		})
	}
	return out
}

// wantIndexMatches fails unless the index holds exactly the tags of the
// database, and counts them right.
func wantIndexMatches(t *testing.T, s *Store) {
	t.Helper()
	db, idx := tagsInDatabase(t, s), tagsInIndex(s)
	for k, want := range db {
		if got, ok := idx[k]; !ok || got != want {
			t.Errorf("tag %v: index holds %+v (%v), database %+v", k, got, ok, want)
		}
	}
	for k, got := range idx {
		if _, ok := db[k]; !ok {
			t.Errorf("tag %v: index holds %+v, database nothing", k, got)
		}
	}
	if want := len(idx) + repoWeight*len(s.tags.repos); s.tags.n != want {
		t.Errorf("index counts %d, holds %d tags in %d repositories", s.tags.n, len(idx), len(s.tags.repos))
	}
}

// putIndexTestManifest stores manifest number i, with one layer, in repo.
func putIndexTestManifest(ctx context.Context, s *Store, registry, repo string, i int, tag string) error {
	layer := digest.FromString(fmt.Sprint("layer ", i))
	if err := s.LinkBlob(ctx, registry, repo, layer, 7); err != nil {
		return err
	}
	payload := fmt.Appendf(nil, `{"schemaVersion":2,"n":%d}`, i)
	return s.PutManifest(ctx, registry, repo, &berth.Manifest{
		Digest: digest.FromBytes(payload), MediaType: "application/vnd.oci.image.manifest.v1+json",
		Payload: payload, References: []berth.Reference{{Digest: layer}},
	}, tag)
}

// putTwoTags tags manifests 0 and 1 of r/a as v0 and v1 and returns the
// digest of v1, as the store resolves it.
func putTwoTags(t *testing.T, s *Store) digest.Digest {
	t.Helper()
	ctx := t.Context()
	for i := range 2 {
		if err := putIndexTestManifest(ctx, s, "r", "a", i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	v1, err := s.Tag(ctx, "r", "a", "v1")
	if err != nil {
		t.Fatal(err)
	}
	return v1
}

// TestTagIndexFollowsWrites runs random writes of every kind that changes a
// tag or a repository, from concurrent callers so that they share batches
// and some fail inside them, and checks after each round that the index
// holds exactly what the database does, and again after a restart.
func TestTagIndexFollowsWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metadata.db")
	s := openIndexedStore(t, path, 1_000_000)
	ctx := t.Context()
	registries := []string{"r1", "r2"}
	repos := []string{"a", "b/c", "d"}
	pick := func(rng *rand.Rand, xs []string) string { return xs[rng.IntN(len(xs))] }
	op := func(rng *rand.Rand) error {
		reg, repo, tag := pick(rng, registries), pick(rng, repos), fmt.Sprint("t", rng.IntN(12))
		m := rng.IntN(6)
		a := berth.AllEnabled
		a.ReadEnabled = rng.IntN(3) > 0
		switch k := rng.IntN(20); {
		case k < 9:
			return putIndexTestManifest(ctx, s, reg, repo, m, tag)
		case k < 12:
			return s.DeleteTag(ctx, reg, repo, tag)
		case k < 14:
			payload := fmt.Appendf(nil, `{"schemaVersion":2,"n":%d}`, m)
			return s.DeleteManifest(ctx, reg, repo, digest.FromBytes(payload))
		case k < 17:
			return s.SetTagAttributes(ctx, reg, repo, tag, a)
		case k < 19:
			return s.SetRepositoryAttributes(ctx, reg, repo, a)
		default:
			return s.DeleteRepository(ctx, reg, repo)
		}
	}
	for round := range 20 {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(round), uint64(w)))
				for range 40 {
					err := op(rng)
					var be *berth.Error
					if err != nil && (!errors.As(err, &be) || be.Kind == berth.KindInternal) {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		wantIndexMatches(t, s)
		if t.Failed() {
			t.Fatalf("after round %d", round)
		}
	}
	if len(tagsInIndex(s)) == 0 {
		t.Fatal("the writes left no tag; the test checks nothing")
	}

	// Every answer of Tag agrees with the database.
	db := tagsInDatabase(t, s)
	for k, want := range db {
		d, err := s.Tag(ctx, k[0], k[1], k[2])
		switch {
		case !want.repoReadable || !want.readable:
			if berth.KindOf(err) != berth.KindDenied {
				t.Errorf("Tag%v = %s, %v; want denied", k, d, err)
			}
		case err != nil || d != want.d:
			t.Errorf("Tag%v = %s, %v; want %s", k, d, err, want.d)
		}
	}

	s.Close()
	s = openIndexedStore(t, path, 1_000_000)
	wantIndexMatches(t, s)
}

// TestTagIndexWriteAroundBatch changes a tag around the batches, on the
// writer connection: the triggers record it and the next batch applies it.
func TestTagIndexWriteAroundBatch(t *testing.T) {
	s := openIndexedStore(t, filepath.Join(t.TempDir(), "metadata.db"), 100)
	ctx := t.Context()
	v1 := putTwoTags(t, s)
	if _, err := s.write.ExecContext(ctx, `UPDATE tags SET digest = $1 WHERE name = 'v0'`, string(v1)); err != nil {
		t.Fatal(err)
	}
	if err := putIndexTestManifest(ctx, s, "r", "other", 3, "x"); err != nil {
		t.Fatal(err)
	}
	wantIndexMatches(t, s)
	if d, err := s.Tag(ctx, "r", "a", "v0"); err != nil || d != v1 {
		t.Fatalf("v0 = %s, %v; want %s", d, err, v1)
	}
}

// TestTagIndexLimit checks that an index past its limit turns off, and that
// tags then still resolve, from the database.
func TestTagIndexLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metadata.db")
	s := openIndexedStore(t, path, 3+repoWeight)
	ctx := t.Context()
	for i := range 3 {
		if err := putIndexTestManifest(ctx, s, "r", "a", i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	if !s.tags.on() || s.tags.n != 3+repoWeight {
		t.Fatalf("on %v counting %d; want on, counting 3 tags and a repository", s.tags.on(), s.tags.n)
	}
	if err := putIndexTestManifest(ctx, s, "r", "a", 3, "v3"); err != nil {
		t.Fatal(err)
	}
	if s.tags.on() {
		t.Fatal("index of limit 3 holds 4 tags")
	}
	for i := range 4 {
		if _, err := s.Tag(ctx, "r", "a", fmt.Sprint("v", i)); err != nil {
			t.Fatalf("v%d with the index off: %v", i, err)
		}
	}
	s.Close()
	if s = openIndexedStore(t, path, 3+repoWeight); s.tags.on() {
		t.Fatal("index of limit 3 tags and a repository loaded 4 tags")
	}
}

// TestTagIndexLostRecord takes away the record of changes, as a new writer
// connection would: the next batch cannot tell what it changed, so the index
// turns off, and tags resolve from the database.
func TestTagIndexLostRecord(t *testing.T) {
	s := openIndexedStore(t, filepath.Join(t.TempDir(), "metadata.db"), 100)
	ctx := t.Context()
	if err := putIndexTestManifest(ctx, s, "r", "a", 0, "v"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.write.ExecContext(ctx, `DROP TRIGGER tagidx_tags_insert; DROP TRIGGER tagidx_tags_update;
DROP TRIGGER tagidx_tags_delete; DROP TRIGGER tagidx_repos_insert; DROP TRIGGER tagidx_repos_update;
DROP TRIGGER tagidx_repos_delete; DROP TABLE temp.tagidx_tags; DROP TABLE temp.tagidx_repos`); err != nil {
		t.Fatal(err)
	}
	if err := putIndexTestManifest(ctx, s, "r", "a", 1, "v"); err != nil {
		t.Fatal(err)
	}
	if s.tags.on() {
		t.Fatal("index still on without its record of changes")
	}
	want := digest.FromBytes([]byte(`{"schemaVersion":2,"n":1}`))
	if d, err := s.Tag(ctx, "r", "a", "v"); err != nil || d != want {
		t.Fatalf("v = %s, %v; want %s", d, err, want)
	}
}

// BenchmarkTagIndexLoad loads an index of a million tags in one repository,
// as a restart does, and reports the load time and the heap the index holds
// per tag.
func BenchmarkTagIndexLoad(b *testing.B) {
	const n = 1_000_000
	path := filepath.Join(b.TempDir(), "metadata.db")
	s := openIndexedStore(b, path, 2*n)
	ctx := b.Context()
	if err := putIndexTestManifest(ctx, s, "r", "app", 0, ""); err != nil {
		b.Fatal(err)
	}
	d := digest.FromBytes([]byte(`{"schemaVersion":2,"n":0}`))
	if _, err := s.write.ExecContext(ctx, `WITH RECURSIVE seq(i) AS (
    SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < $1 - 1)
INSERT INTO tags (registry, repository, name, digest, updated_at)
SELECT 'r', 'app', printf('tag-%07d', i), $2, 0 FROM seq`, n, string(d)); err != nil {
		b.Fatal(err)
	}
	s.Close()
	var held uint64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		x := openIndexedStore(b, path, 2*n)
		runtime.GC()
		runtime.ReadMemStats(&after)
		if x.tags.n != n+repoWeight {
			b.Fatalf("index counts %d, want %d tags and a repository", x.tags.n, n)
		}
		held = after.HeapAlloc - before.HeapAlloc
		x.Close()
	}
	b.ReportMetric(float64(held)/n, "heap-B/tag")
}

// TestTagIndexOtherWriter changes a tag through another connection, as a
// second process or a database tool would: the next batch sees that the
// database changed under it and turns the index off, so tags resolve from
// the database, and then drops the triggers.
func TestTagIndexOtherWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metadata.db")
	s := openIndexedStore(t, path, 100)
	ctx := t.Context()
	v1 := putTwoTags(t, s)
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.ExecContext(ctx, `UPDATE tags SET digest = $1 WHERE name = 'v0'`, string(v1)); err != nil {
		t.Fatal(err)
	}
	if err := putIndexTestManifest(ctx, s, "r", "b", 3, "x"); err != nil {
		t.Fatal(err)
	}
	if s.tags.on() {
		t.Fatal("index still on after another connection wrote the database")
	}
	if d, err := s.Tag(ctx, "r", "a", "v0"); err != nil || d != v1 {
		t.Fatalf("v0 = %s, %v; want %s", d, err, v1)
	}
	if err := putIndexTestManifest(ctx, s, "r", "b", 4, "y"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.write.QueryRowContext(ctx, `SELECT count(*) FROM temp.sqlite_master WHERE name LIKE 'tagidx%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d triggers and tables of the index are left after it turned off", n)
	}
}
