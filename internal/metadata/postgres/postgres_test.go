package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"berth/internal/berth"
	"berth/internal/metadata/metadatatest"
)

// serverDSN returns the DSN of the test server's maintenance database.
func serverDSN() string {
	if dsn := os.Getenv("BERTH_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// withSettings returns dsn with the given settings replaced or added.
func withSettings(t *testing.T, dsn string, settings map[string]string) string {
	t.Helper()
	if !strings.Contains(dsn, "://") {
		for k, v := range settings {
			dsn += fmt.Sprintf(" %s=%s", k, v)
		}
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for k, v := range settings {
		if k == "dbname" {
			u.Path = "/" + v
			continue
		}
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// testDatabase is a database created for one test.
type testDatabase struct {
	dsn     string
	db      *sql.DB
	schemas atomic.Int64
}

// newDatabase creates a fresh database for t, dropped when t ends. When the
// server cannot be reached the test is skipped, or fails when CI=true. The
// database orders text by dictionary rules (ICU en-US) where the server
// supports it, so that tests see any ordering that relies on the locale.
func newDatabase(t *testing.T) *testDatabase {
	t.Helper()
	ctx := t.Context()
	admin, err := sql.Open("pgx", serverDSN())
	if err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := admin.PingContext(pctx); err != nil {
		admin.Close()
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s cannot be reached: %v", serverDSN(), err)
		}
		t.Skipf("PostgreSQL at %s cannot be reached (set BERTH_TEST_POSTGRES): %v", serverDSN(), err)
	}
	name := "berth_test_" + strings.ToLower(rand.Text()[:12])
	_, err = admin.ExecContext(ctx, `CREATE DATABASE `+name+
		` TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`)
	if err != nil {
		t.Logf("creating %s with ICU collation: %v; using the server's default", name, err)
		if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
			admin.Close()
			t.Fatal(err)
		}
	}
	td := &testDatabase{dsn: withSettings(t, serverDSN(), map[string]string{"dbname": name})}
	t.Cleanup(func() {
		if td.db != nil {
			td.db.Close()
		}
		if _, err := admin.Exec(`DROP DATABASE ` + name + ` WITH (FORCE)`); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
		admin.Close()
	})
	if td.db, err = sql.Open("pgx", td.dsn); err != nil {
		t.Fatal(err)
	}
	return td
}

// schemaDSN creates a fresh schema in the database and returns a DSN whose
// connections work in it.
func (td *testDatabase) schemaDSN(t *testing.T) string {
	t.Helper()
	schema := fmt.Sprintf("s%d", td.schemas.Add(1))
	if _, err := td.db.ExecContext(t.Context(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	return withSettings(t, td.dsn, map[string]string{"search_path": schema})
}

// open opens a store on dsn and closes it when t ends.
func open(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	td := newDatabase(t)
	metadatatest.Run(t, func(t *testing.T) metadatatest.Store {
		return open(t, td.schemaDSN(t))
	})
}

func TestReopen(t *testing.T) {
	dsn := newDatabase(t).schemaDSN(t)
	metadatatest.Reopen(t, func(t *testing.T) metadatatest.Store {
		s, err := Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestUpgradeFromInitialSchema opens a database that holds the initial
// schema and content written by the first version of the store.
func TestUpgradeFromInitialSchema(t *testing.T) {
	initial, err := os.ReadFile(filepath.Join("..", "migrations", "0001_init.sql"))
	if err != nil {
		t.Fatal(err)
	}
	dsn := newDatabase(t).schemaDSN(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	metadatatest.SeedInitialSchema(t, db, string(initial))
	metadatatest.CheckUpgraded(t, open(t, dsn))
}

// TestConcurrentOpen opens one new database from several nodes at once:
// exactly one of them migrates it, and all of them work.
func TestConcurrentOpen(t *testing.T) {
	td := newDatabase(t)
	dsn := td.schemaDSN(t)
	const nodes = 4
	var wg sync.WaitGroup
	stores := make([]*Store, nodes)
	errs := make([]error, nodes)
	for i := range nodes {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	var recorded int
	if err := stores[0].db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	s := open(t, dsn)
	var again int
	if err := s.db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&again); err != nil {
		t.Fatal(err)
	}
	if recorded == 0 || again != recorded {
		t.Fatalf("schema_migrations holds %d rows, then %d after opening again", recorded, again)
	}
	for i, s := range stores {
		if err := s.CreateRegistry(t.Context(), berth.Registry{Name: fmt.Sprint("r", i), Location: "eastus"}); err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
	}
}

func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2")
	if berth.KindOf(err) != berth.KindUnavailable {
		t.Fatalf("Open of a closed port = %v, want KindUnavailable", err)
	}
	_, err = Open(ctx, "postgres://%zz")
	if berth.KindOf(err) != berth.KindInvalid {
		t.Fatalf("Open of a malformed DSN = %v, want KindInvalid", err)
	}
}
