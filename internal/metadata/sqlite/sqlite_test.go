package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
	"berth/internal/metadata"
	"berth/internal/metadata/metadatatest"
)

// open opens a store on path and closes it when t ends.
func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	metadatatest.Run(t, func(t *testing.T) metadatatest.Store {
		return open(t, filepath.Join(t.TempDir(), "metadata.db"))
	})
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metadata.db")
	metadatatest.Reopen(t, func(t *testing.T) metadatatest.Store {
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestOpenRejectsNonFiles(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		_, err := Open(path)
		if berth.KindOf(err) != berth.KindInvalid {
			t.Errorf("Open(%q) = %v, want a KindInvalid error", path, err)
		}
	}
}

func TestMigrateTwiceIsNoop(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metadata.db")
	s := open(t, path)
	n, err := metadata.Migrate(t.Context(), s.write, dialect)
	if err != nil || n != 0 {
		t.Fatalf("Migrate on a migrated database = %d, %v; want 0, nil", n, err)
	}
	var recorded int
	if err := s.read.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	if recorded == 0 {
		t.Fatal("schema_migrations records nothing")
	}
	s.Close()
	s = open(t, path)
	var again int
	if err := s.read.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&again); err != nil {
		t.Fatal(err)
	}
	if again != recorded {
		t.Fatalf("reopening changed schema_migrations from %d to %d rows", recorded, again)
	}
}

func TestPragmas(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "metadata.db"))
	for _, tc := range []struct {
		pool       string
		name, want string
	}{
		{"write", "journal_mode", "wal"},
		{"write", "synchronous", "2"},
		{"write", "foreign_keys", "1"},
		{"write", "busy_timeout", fmt.Sprint(busyTimeoutMillis)},
		{"write", "query_only", "0"},
		{"read", "journal_mode", "wal"},
		{"read", "synchronous", "2"},
		{"read", "busy_timeout", fmt.Sprint(busyTimeoutMillis)},
		{"read", "query_only", "1"},
	} {
		db := s.write
		if tc.pool == "read" {
			db = s.read
		}
		var got string
		if err := db.QueryRow("PRAGMA " + tc.name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s pool: PRAGMA %s = %s, want %s", tc.pool, tc.name, got, tc.want)
		}
	}
}

func TestReadsRunBesideAWriteTransaction(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "metadata.db"))
	ctx := t.Context()
	d := digest.FromString("layer")
	if err := s.LinkBlob(ctx, "r", "app", d, 5); err != nil {
		t.Fatal(err)
	}
	tx, err := s.write.BeginTx(ctx, nil) // BEGIN IMMEDIATE: holds the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`DELETE FROM repository_blobs`); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := s.Blob(rctx, "r", "app", d); err != nil {
		t.Fatalf("read during a write transaction: %v", err)
	}
}

// TestBytesStoredAsBlobs checks that the BYTEA columns, whose SQLite affinity
// is NUMERIC, hold what they are given as blobs, never converted.
func TestBytesStoredAsBlobs(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "metadata.db"))
	ctx := t.Context()
	putManifest(t, s, "blob", "v1")
	u := berth.Upload{ID: "u", Registry: "r", Repository: "app", Algorithm: "sha256", HashState: []byte("12345")}
	if err := s.CreateUpload(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRegistry(ctx, berth.Registry{Name: "r", Location: "eastus"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSecret(ctx, "r", berth.AdminOwner, berth.Secret{Name: "password1", Hash: []byte("12345")}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSigningKey(ctx, berth.SigningKey{ID: "k", Private: []byte("12345")}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`SELECT typeof(payload) FROM manifests`, `SELECT typeof(hash_state) FROM uploads`,
		`SELECT typeof(hash) FROM secrets`, `SELECT typeof(private_key) FROM signing_keys`,
	} {
		var typ string
		if err := s.read.QueryRow(q).Scan(&typ); err != nil {
			t.Fatal(err)
		}
		if typ != "blob" {
			t.Errorf("%s = %s, want blob", q, typ)
		}
	}
	got, err := s.Upload(ctx, "r", "u")
	if err != nil || string(got.HashState) != "12345" {
		t.Fatalf("hash state = %q, %v", got.HashState, err)
	}
}

// TestUpgradeFromInitialSchema opens a file that holds the initial schema and
// content written by the first version of the store.
func TestUpgradeFromInitialSchema(t *testing.T) {
	initial, err := os.ReadFile(filepath.Join("..", "migrations", "0001_init.sql"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "metadata.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	metadatatest.SeedInitialSchema(t, db, strings.ReplaceAll(string(initial), `COLLATE "C"`, dialect.CollateC))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	metadatatest.CheckUpgraded(t, open(t, path))
}

// TestOpenTwice checks that a database is open in one store at a time, and
// free again once that store is closed.
func TestOpenTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metadata.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); berth.KindOf(err) != berth.KindConflict ||
		!strings.Contains(err.Error(), "open in another process") {
		t.Fatalf("second Open = %v, want KindConflict naming the other process", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s.Close()
}
