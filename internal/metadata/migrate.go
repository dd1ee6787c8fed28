package metadata

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered schema change.
type migration struct {
	version int64
	name    string // the file name, e.g. "0001_init.sql"
	sql     string
}

// loadMigrations returns the embedded migrations ordered by version. Every
// file is named NNNN_description.sql with a distinct positive number.
func loadMigrations() ([]migration, error) {
	entries, err := migrationFiles.ReadDir("migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	seen := map[int64]string{}
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || v <= 0 || path.Ext(name) != ".sql" {
			return nil, fmt.Errorf("migration file %q is not named NNNN_description.sql", name)
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %q and %q have the same number", other, name)
		}
		seen[v] = name
		b, err := migrationFiles.ReadFile("migrations/" + name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// Migrate brings the schema of db up to date and returns how many migrations
// it applied. Each embedded migration not yet recorded in the
// schema_migrations table runs, in order, in its own transaction together
// with its record, so a failure leaves the schema at the last migration that
// succeeded and running Migrate again is a no-op. db must be the pool that
// writes (for SQLite, the one that begins transactions with BEGIN IMMEDIATE).
// Two processes migrating one PostgreSQL database at once must be serialized
// by the caller.
func Migrate(ctx context.Context, db *sql.DB, d Dialect) (int, error) {
	const op = "metadata.Migrate"
	ms, err := loadMigrations()
	if err != nil {
		return 0, fail(op, d, err)
	}
	_, err = db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    BIGINT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)`)
	if err != nil {
		return 0, fail(op, d, fmt.Errorf("creating schema_migrations: %w", err))
	}
	applied := 0
	for _, m := range ms {
		done, err := applyMigration(ctx, db, d, m)
		if err != nil {
			return applied, fail(op, d, fmt.Errorf("migration %s: %w", m.name, err))
		}
		if done {
			applied++
		}
	}
	return applied, nil
}

// applyMigration runs m unless it is recorded already, and reports whether it
// ran. The record is inserted first: a concurrent migrator that inserted it
// too waits for this transaction and then finds it.
func applyMigration(ctx context.Context, db *sql.DB, d Dialect, m migration) (bool, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx,
		`INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)
ON CONFLICT (version) DO NOTHING`, m.version, m.name, time.Now().UnixNano())
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	text := m.sql
	if d.CollateC != "" {
		text = strings.ReplaceAll(text, `COLLATE "C"`, d.CollateC)
	}
	if _, err := tx.ExecContext(ctx, text); err != nil {
		return false, err
	}
	return true, tx.Commit()
}
