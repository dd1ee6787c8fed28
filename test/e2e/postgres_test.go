package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// defaultPostgres is the administrative connection of the machine's
// PostgreSQL; BERTH_TEST_POSTGRES overrides it.
const defaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// postgresDatabase creates an empty database for one test and returns its
// URL; the database is dropped at cleanup. Without a reachable PostgreSQL
// the test is skipped, or fails in CI.
func postgresDatabase(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("BERTH_TEST_POSTGRES")
	if admin == "" {
		admin = defaultPostgres
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL at %s: %v", admin, err)
		if inCI() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	defer conn.Close(ctx)
	db := fmt.Sprintf("berth_e2e_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatalf("creating database %s: %v", db, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("dropping database %s: %v", db, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)"); err != nil {
			t.Logf("dropping database %s: %v", db, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parsing %s: %v", admin, err)
	}
	u.Path = "/" + db
	return u.String()
}
