package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"berth/internal/berth"
	"berth/internal/metadata"
)

// dialect is the metadata dialect of SQLite; Open sets TagIndexMax.
var dialect = metadata.Dialect{Name: "sqlite", CollateC: "COLLATE BINARY", SingleWriter: true}

// DefaultTagIndexMax is the most tags a store holds in memory unless
// Options say otherwise: about 140 MB of heap for names of a dozen bytes.
const DefaultTagIndexMax = 2_000_000

// Options tunes a store; the zero value gives the defaults.
type Options struct {
	// TagIndexMax bounds the tags held in memory, about 70 bytes each for
	// short names, so that a tag resolves without a query however many
	// there are; each repository counts as 6 tags (its table costs about
	// 400 bytes). A store with more, at start or later, resolves every tag
	// with a query. Zero means DefaultTagIndexMax; below zero, no tag is
	// held.
	TagIndexMax int
}

// errLocked says that another process holds the database's lock.
var errLocked = errors.New("locked by another process")

// busyTimeoutMillis is how long a connection waits for a lock held by another
// process before it fails with SQLITE_BUSY.
const busyTimeoutMillis = 10000

// Store is the metadata store on an SQLite file.
type Store struct {
	*metadata.Store
	read, write *sql.DB
	lock        *os.File // <path>.lock, held while the store is open
}

// Open opens, creating it if needed, the SQLite database at path and brings
// its schema up to date. path names a file; ":memory:" and names containing
// '?' are not supported (KindInvalid). Errors opening or migrating the file
// are KindInternal. The store holds an exclusive lock on <path>.lock until
// it is closed: it keeps every tag in memory and must be the database's only
// writer, so a second Open of the same path, in this process or another,
// is KindConflict. The caller closes the Store.
func Open(path string) (*Store, error) { return OpenWith(path, Options{}) }

// OpenWith is Open with options.
func OpenWith(path string, o Options) (*Store, error) {
	const op = "sqlite.Open"
	d := dialect
	switch {
	case o.TagIndexMax == 0:
		d.TagIndexMax = DefaultTagIndexMax
	case o.TagIndexMax > 0:
		d.TagIndexMax = o.TagIndexMax
	}
	if !lockWorks {
		d.TagIndexMax = 0
	}
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.Contains(path, "?") {
		return nil, berth.E(op, berth.KindInvalid, "sqlite database path %q is not a plain file name", path)
	}
	ctx := context.Background()
	lock, err := lockFile(path + ".lock")
	if errors.Is(err, errLocked) {
		return nil, berth.E(op, berth.KindConflict,
			"%s is open in another process: a database serves one berth process at a time", path)
	}
	if err != nil {
		return nil, berth.E(op, berth.KindInternal, "locking %s: %w", path, err)
	}
	write, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		lock.Close()
		return nil, berth.E(op, berth.KindInternal, "opening %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	if _, err := metadata.Migrate(ctx, write, d); err != nil {
		write.Close()
		lock.Close()
		return nil, berth.E(op, berth.KindInternal, "opening %s: %w", path, err)
	}

	read, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		write.Close()
		lock.Close()
		return nil, berth.E(op, berth.KindInternal, "opening %s: %w", path, err)
	}
	// Two readers per core the process may run on, not per P of the Go
	// scheduler: a node runs more Ps than cores (see cmd/berth), and every
	// reader keeps a page cache of its own.
	readers := max(4, 2*runtime.NumCPU())
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	read.SetConnMaxLifetime(0)
	read.SetConnMaxIdleTime(0)

	s, err := metadata.New(ctx, read, write, d)
	if err != nil {
		read.Close()
		write.Close()
		lock.Close()
		return nil, berth.E(op, berth.KindInternal, "opening %s: %w", path, err)
	}
	return &Store{Store: s, read: read, write: write, lock: lock}, nil
}

// Close closes the database and then releases its lock.
func (s *Store) Close() error {
	err := s.Store.Close()
	s.lock.Close()
	return err
}

// dsn returns the data source name of a connection to path: WAL, full sync
// of every commit, a busy timeout and foreign keys on every connection;
// writers begin with BEGIN IMMEDIATE so a transaction holds the write lock
// from its first statement, and readers are read-only.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMillis))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(ON)")
	if readOnly {
		q.Add("_pragma", "query_only(ON)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return path + "?" + q.Encode()
}
