package metadata

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"time"

	"berth/internal/berth"
)

// Dialect describes what differs between the SQL databases a Store runs on.
// Everything else, the schema and every statement, is shared: statements use
// $1 placeholders and ON CONFLICT, which both databases accept.
type Dialect struct {
	// Name names the database in error messages: "sqlite" or "postgres".
	Name string
	// CollateC, when not empty, replaces every `COLLATE "C"` of the
	// migrations: the collation that orders text by its bytes. SQLite has
	// no collation of that name and uses "COLLATE BINARY".
	CollateC string
	// Retry reports whether a write transaction that failed with err may
	// simply run again (a deadlock or serialization failure). Nil never
	// retries.
	Retry func(err error) bool
	// SingleWriter says that the database is a local file written through
	// one connection (SQLite), so write transactions queue anyway:
	// concurrent ones then share one database transaction, a savepoint
	// each, and one commit (one sync of the disk), and their statements are
	// prepared once and kept. Retry is not used with it. Its short
	// statements also run without the caller's cancellation (see detached).
	SingleWriter bool
	// TagIndexMax, when above zero with SingleWriter, keeps every tag in
	// memory (see tagIndex), as long as there are no more than this many.
	// It requires that this process be the database's only writer.
	TagIndexMax int
}

// Store implements berth.MetadataStore over two database/sql pools: one that
// reads and one that writes. For PostgreSQL they are the same pool; for
// SQLite the writer is a single connection, so writes queue in the process
// instead of failing with "database is locked", while reads run beside them.
type Store struct {
	read, write *sql.DB
	dialect     Dialect
	stmts       []*sql.Stmt
	batch       *batcher   // nil unless the dialect has a single writer
	wstmts      *stmtCache // idem
	tags        *tagIndex  // nil unless the dialect asks for it

	// Statements of the hot read path, prepared on the read pool.
	manifestStmt *sql.Stmt
	tagStmt      *sql.Stmt
	blobStmt     *sql.Stmt
	uploadStmt   *sql.Stmt
}

var (
	_ berth.MetadataStore = (*Store)(nil)
	_ berth.IdentityStore = (*Store)(nil)
	_ berth.KeyStore      = (*Store)(nil)
	_ berth.ContentAdmin  = (*Store)(nil)
)

// maxRetries bounds how often a write transaction runs again after a failure
// that Dialect.Retry accepts.
const maxRetries = 3

// New returns a Store over an already migrated database (see Migrate). read
// and write may be the same pool. The Store owns the pools: Close closes
// them. New fails if the hot statements cannot be prepared, for instance
// because the schema is missing.
func New(ctx context.Context, read, write *sql.DB, d Dialect) (*Store, error) {
	s := &Store{read: read, write: write, dialect: d}
	if d.SingleWriter {
		if d.TagIndexMax > 0 {
			x, err := loadTagIndex(ctx, write, d.TagIndexMax)
			if err != nil {
				return nil, fail("metadata.New", d, err)
			}
			s.tags = x
		}
		s.wstmts = &stmtCache{db: write}
		s.batch = &batcher{db: write, stmts: s.wstmts, tags: s.tags}
	}
	for _, p := range []struct {
		stmt  **sql.Stmt
		query string
	}{
		{&s.manifestStmt, `SELECT m.media_type, m.artifact_type, m.subject, m.annotations, m.refs, m.payload,
m.created_at, m.read_enabled, r.read_enabled
FROM manifests m JOIN repositories r ON r.registry = m.registry AND r.name = m.repository
WHERE m.registry = $1 AND m.repository = $2 AND m.digest = $3`},
		{&s.tagStmt, tagQuery},
		{&s.blobStmt, `SELECT b.size, r.read_enabled FROM repository_blobs rb
JOIN repositories r ON r.registry = rb.registry AND r.name = rb.repository
JOIN blobs b ON b.registry = rb.registry AND b.digest = rb.digest
WHERE rb.registry = $1 AND rb.repository = $2 AND rb.digest = $3`},
		{&s.uploadStmt, uploadQuery},
	} {
		stmt, err := read.PrepareContext(ctx, p.query)
		if err != nil {
			s.closeStmts()
			return nil, fail("metadata.New", d, fmt.Errorf("preparing statements: %w", err))
		}
		*p.stmt = stmt
		s.stmts = append(s.stmts, stmt)
	}
	return s, nil
}

// detached returns the context for a statement that takes microseconds: the
// hot point reads (Tag, Manifest, Blob, Upload) and the single-row writes made
// straight on the write pool. With a single local writer it is ctx without
// its cancellation: watching the caller's context costs the driver and
// database/sql a goroutine each per query, more than the read itself, and
// an interrupted statement makes the driver discard the one writer
// connection, and with it the tag index's triggers (the index then turns
// off).
func (s *Store) detached(ctx context.Context) context.Context {
	if s.dialect.SingleWriter {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// Close releases the prepared statements and closes the pools.
func (s *Store) Close() error {
	s.closeStmts()
	err := s.read.Close()
	if s.write != s.read {
		err = errors.Join(err, s.write.Close())
	}
	return fail("metadata.Close", s.dialect, err)
}

func (s *Store) closeStmts() {
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = nil
	if s.wstmts != nil {
		s.wstmts.close()
	}
}

// update runs fn in a write transaction and commits it, running it again when
// the dialect says the failure was transient. An error fn returns that is
// already a *berth.Error is returned as it is. fn must use the context it is
// given for its statements: with group commit it is not cancelled with ctx.
func (s *Store) update(ctx context.Context, op string, fn func(ctx context.Context, tx *wtx) error) error {
	if s.batch != nil {
		return s.fail(op, s.batch.run(ctx, fn))
	}
	for attempt := 0; ; attempt++ {
		err := s.tryUpdate(ctx, fn)
		if err == nil {
			return nil
		}
		var be *berth.Error
		retry := !errors.As(err, &be) && s.dialect.Retry != nil && s.dialect.Retry(err)
		if !retry || attempt == maxRetries || ctx.Err() != nil {
			return s.fail(op, err)
		}
	}
}

func (s *Store) tryUpdate(ctx context.Context, fn func(ctx context.Context, tx *wtx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(ctx, &wtx{Tx: tx}); err != nil {
		return err
	}
	return tx.Commit()
}

// fail returns err as a *berth.Error of op; see the package function fail.
func (s *Store) fail(op string, err error) error { return fail(op, s.dialect, err) }

// fail returns err unchanged when it is already a *berth.Error, and otherwise
// as a failure of the database: KindUnavailable when the database could not
// be reached or the context ended, KindInternal else. nil stays nil.
func fail(op string, d Dialect, err error) error {
	if err == nil {
		return nil
	}
	var be *berth.Error
	if errors.As(err, &be) {
		return err
	}
	kind := berth.KindInternal
	var ne net.Error
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, driver.ErrBadConn) || errors.As(err, &ne) {
		kind = berth.KindUnavailable
	}
	return berth.E(op, kind, "%s metadata database: %w", d.Name, err)
}

// rowsAffected returns how many rows res changed.
func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// nanos returns t as stored: Unix nanoseconds, with the zero time meaning now.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		t = time.Now()
	}
	return t.UnixNano()
}

// fromNanos returns a stored time as a UTC time.Time.
func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// optionalNanos returns a time that may be absent as stored: Unix
// nanoseconds, with the zero time stored as 0.
func optionalNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromOptionalNanos returns a time stored by optionalNanos: 0 is the zero
// time.
func fromOptionalNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return fromNanos(n)
}
