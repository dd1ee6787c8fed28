package metadata

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds the statements a stmtCache keeps; statements built
// with a varying number of placeholders beyond it are prepared each time.
const maxCachedStmts = 256

// stmtCache keeps the statements of write transactions prepared on the
// write pool, so that a statement is parsed once instead of in every
// transaction. It suits a pool of one connection, on which every cached
// statement stays prepared. A statement cannot be prepared on the pool while
// a transaction holds its only connection, so a statement seen for the first
// time runs unprepared and is prepared by prepareMissing, between
// transactions.
type stmtCache struct {
	db      *sql.DB
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
	missing map[string]bool
}

// get returns the prepared statement of query, or nil when it is not (yet)
// prepared; the caller then runs the query unprepared.
func (c *stmtCache) get(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[query]; ok {
		return st
	}
	if len(c.stmts)+len(c.missing) < maxCachedStmts {
		if c.missing == nil {
			c.missing = make(map[string]bool)
		}
		c.missing[query] = true
	}
	return nil
}

// prepareMissing prepares the statements that get was asked for and did
// not have. It must not be called while the caller holds a connection of
// the pool. A statement that fails to prepare is not asked for again.
func (c *stmtCache) prepareMissing(ctx context.Context) {
	c.mu.Lock()
	missing := c.missing
	c.missing = nil
	c.mu.Unlock()
	for query := range missing {
		st, err := c.db.PrepareContext(ctx, query)
		c.mu.Lock()
		if c.stmts == nil {
			c.stmts = make(map[string]*sql.Stmt)
		}
		if err == nil {
			c.stmts[query] = st
		} else {
			c.stmts[query] = nil
		}
		c.mu.Unlock()
	}
}

// close releases every cached statement.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		if st != nil {
			st.Close()
		}
	}
	c.stmts = nil
}

// wtx is a write transaction. Its statements come from the store's
// statement cache when it has one.
type wtx struct {
	*sql.Tx
	cache *stmtCache // nil: statements are prepared by the driver each time
}

// stmt returns query prepared for this transaction, or nil.
func (t *wtx) stmt(ctx context.Context, query string) *sql.Stmt {
	if t.cache == nil {
		return nil
	}
	st := t.cache.get(query)
	if st == nil {
		return nil
	}
	return t.Tx.StmtContext(ctx, st)
}

// ExecContext runs a statement that returns no rows.
func (t *wtx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

// QueryContext runs a query that returns rows.
func (t *wtx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query that returns at most one row.
func (t *wtx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}
