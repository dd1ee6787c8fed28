package postgres

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"berth/internal/berth"
	"berth/internal/metadata"
)

// dialect is the metadata dialect of PostgreSQL.
var dialect = metadata.Dialect{Name: "postgres", Retry: transient}

// migrationLock is the key of the advisory lock held while migrating.
const migrationLock int64 = 0x62657274686d6967 // "berthmig"

// Pool limits. Every node keeps at most maxConns connections to the database.
const (
	maxConns        = 32
	connMaxIdleTime = 5 * time.Minute
)

// Store is the metadata store on a PostgreSQL database.
type Store struct {
	*metadata.Store
	db *sql.DB
}

// Open connects to the PostgreSQL database named by dsn (a postgres:// URL
// or key=value settings, as pgx reads them; unknown settings such as
// search_path are sent to the server), brings its schema up to date and
// returns the Store, which keeps at most 32 connections. A dsn that cannot be
// parsed is KindInvalid; a database that cannot be reached, KindUnavailable.
// The caller closes the Store.
func Open(ctx context.Context, dsn string) (*Store, error) {
	const op = "postgres.Open"
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, berth.E(op, berth.KindInvalid, "postgres connection string: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(connMaxIdleTime)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, berth.E(op, berth.KindUnavailable, "connecting to postgres at %s: %w", cfg.Host, err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, berth.Wrap(op, berth.KindOf(err), err)
	}
	s, err := metadata.New(ctx, db, db, dialect)
	if err != nil {
		db.Close()
		return nil, berth.Wrap(op, berth.KindOf(err), err)
	}
	return &Store{Store: s, db: db}, nil
}

// migrate runs metadata.Migrate while holding the migration advisory lock of
// the database on a connection of its own.
func migrate(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return berth.E("postgres.migrate", berth.KindUnavailable, "connecting to postgres: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return berth.E("postgres.migrate", berth.KindUnavailable, "taking the migration lock: %w", err)
	}
	// Unlock even when ctx has ended; closing the connection would too.
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)
	_, err = metadata.Migrate(ctx, db, dialect)
	return err
}

// transient reports whether err is a deadlock or a serialization failure,
// after which a transaction may run again.
func transient(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}
