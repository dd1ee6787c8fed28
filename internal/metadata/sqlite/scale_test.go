package sqlite

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// putManifest stores a manifest of one linked layer in r/app under tag.
func putManifest(t testing.TB, s berth.MetadataStore, seed, tag string) *berth.Manifest {
	t.Helper()
	ctx := t.Context()
	layer := digest.FromString("layer " + seed)
	if err := s.LinkBlob(ctx, "r", "app", layer, 6); err != nil {
		t.Fatal(err)
	}
	payload := []byte(`{"schemaVersion":2,"seed":"` + seed + `"}`)
	m := &berth.Manifest{
		Digest:     digest.FromBytes(payload),
		MediaType:  "application/vnd.oci.image.manifest.v1+json",
		Payload:    payload,
		References: []berth.Reference{{Digest: layer}},
	}
	if err := s.PutManifest(ctx, "r", "app", m, tag); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestManyTags fills one repository with 100,000 tags and checks that lookups
// and listing still answer correctly, and that the reads of a pull (tag,
// manifest, blob) are searches of primary keys, whatever the number of tags.
func TestManyTags(t *testing.T) {
	const n = 100_000
	s := open(t, filepath.Join(t.TempDir(), "metadata.db"))
	ctx := t.Context()
	m := putManifest(t, s, "many", "")

	// One statement, straight into the table: n PutManifest calls would
	// each sync to disk.
	if _, err := s.write.ExecContext(ctx, `WITH RECURSIVE seq(i) AS (
    SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < $1 - 1)
INSERT INTO tags (registry, repository, name, digest, updated_at)
SELECT 'r', 'app', printf('t%06d', i), $2, $3 FROM seq`, n, string(m.Digest), time.Now().UnixNano()); err != nil {
		t.Fatal(err)
	}
	var count int
	if err := s.read.QueryRow(`SELECT count(*) FROM tags`).Scan(&count); err != nil || count != n {
		t.Fatalf("%d tags, %v; want %d", count, err, n)
	}
	other := putManifest(t, s, "other", "t050000") // a tag moved through the API

	for _, tag := range []string{"t000000", "t012345", "t099999"} {
		got, err := s.Tag(ctx, "r", "app", tag)
		if err != nil || got != m.Digest {
			t.Fatalf("Tag(%q) = %s, %v; want %s", tag, got, err, m.Digest)
		}
	}
	if got, err := s.Tag(ctx, "r", "app", "t050000"); err != nil || got != other.Digest {
		t.Fatalf("moved tag = %s, %v; want %s", got, err, other.Digest)
	}
	if _, err := s.Tag(ctx, "r", "app", "t100000"); berth.KindOf(err) != berth.KindNotFound {
		t.Fatalf("Tag of a missing tag = %v, want KindNotFound", err)
	}
	page, err := s.Tags(ctx, "r", "app", "t099997", 5)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(page, ",") != "t099998,t099999" {
		t.Fatalf("last page = %q", page)
	}

	// The reads of a pull are one search of a primary key per table.
	wantPlan(t, s, `SELECT t.digest, t.read_enabled, r.read_enabled FROM tags t
JOIN repositories r ON r.registry = t.registry AND r.name = t.repository
WHERE t.registry = $1 AND t.repository = $2 AND t.name = $3`,
		"t (registry=? AND repository=? AND name=?)",
		"r (registry=? AND name=?)")
	wantPlan(t, s, `SELECT m.payload, m.read_enabled, r.read_enabled
FROM manifests m JOIN repositories r ON r.registry = m.registry AND r.name = m.repository
WHERE m.registry = $1 AND m.repository = $2 AND m.digest = $3`,
		"m (registry=? AND repository=? AND digest=?)",
		"r (registry=? AND name=?)")
	wantPlan(t, s, `SELECT b.size, r.read_enabled FROM repository_blobs rb
JOIN repositories r ON r.registry = rb.registry AND r.name = rb.repository
JOIN blobs b ON b.registry = rb.registry AND b.digest = rb.digest
WHERE rb.registry = $1 AND rb.repository = $2 AND rb.digest = $3`,
		"rb (registry=? AND repository=? AND digest=?)",
		"r (registry=? AND name=?)",
		"b (registry=? AND digest=?)")
}

// wantPlan fails the test unless SQLite's plan of query, with three
// parameters, searches each table of want ("alias (key=? AND ...)") by the
// key given.
func wantPlan(t *testing.T, s *Store, query string, want ...string) {
	t.Helper()
	rows, err := s.read.Query(`EXPLAIN QUERY PLAN `+query, "r", "app", "x")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	for _, w := range want {
		table, key, _ := strings.Cut(w, " ")
		if !slices.ContainsFunc(plan, func(line string) bool {
			return strings.HasPrefix(line, "SEARCH "+table+" USING ") && strings.HasSuffix(line, key)
		}) {
			t.Fatalf("plan of %s\nis\n%s\nwithout %q", query, strings.Join(plan, "\n"), w)
		}
	}
}

// childEnv names the database a child process of TestCommitSurvivesKill
// writes to.
const childEnv = "BERTH_SQLITE_KILL_CHILD"

// TestCommitSurvivesKill commits in a child process, kills it with SIGKILL as
// soon as the commit is acknowledged, and finds the commit in the file.
func TestCommitSurvivesKill(t *testing.T) {
	if path := os.Getenv(childEnv); path != "" {
		s, err := Open(path)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		putManifest(t, s, "killed", "v1")
		fmt.Println("committed")
		time.Sleep(time.Minute) // killed before it wakes up
		os.Exit(1)
	}

	path := filepath.Join(t.TempDir(), "metadata.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCommitSurvivesKill$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if strings.TrimSpace(line) != "committed" {
		t.Fatalf("child process said %q", line)
	}

	s := open(t, path)
	want := digest.FromBytes([]byte(`{"schemaVersion":2,"seed":"killed"}`))
	if got, err := s.Tag(t.Context(), "r", "app", "v1"); err != nil || got != want {
		t.Fatalf("tag after SIGKILL = %s, %v; want %s", got, err, want)
	}
}
