package metadata

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// maxBatch bounds how many write transactions share one commit.
const maxBatch = 64

// batcher runs the write transactions of concurrent callers in one database
// transaction, each inside a savepoint of its own, so that one commit (for
// SQLite, one sync of the write-ahead log) serves all of them. A caller's
// changes are kept or undone as a whole, exactly as with a transaction of
// its own, and it learns its result only once the shared commit is durable.
// It suits a database with a single writer connection, where transactions
// queue anyway; the transactions of one batch run one after another, so each
// sees the changes of those before it, as if they had committed first.
type batcher struct {
	db    *sql.DB
	stmts *stmtCache
	tags  *tagIndex // nil: no index to keep up to date

	mu      sync.Mutex
	queue   []*job
	leading bool // a goroutine is committing batches
}

// job is one caller's transaction.
type job struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *wtx) error
	err  error
	done chan struct{}
}

// run runs fn as part of the next batch and returns its error, or the error
// of the commit that was to keep its changes. fn is given a context that is
// not cancelled with ctx: a statement interrupted half-way would abort the
// whole shared transaction. A ctx already done when fn's turn comes skips fn.
func (b *batcher) run(ctx context.Context, fn func(ctx context.Context, tx *wtx) error) error {
	j := &job{ctx: ctx, fn: fn, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, j)
	lead := !b.leading
	b.leading = true
	b.mu.Unlock()
	if lead {
		b.lead()
	}
	<-j.done
	return j.err
}

// lead commits one batch of the queue; when more jobs queued after the
// batch was closed, a new goroutine leads the next batch, so that no caller
// waits for batches after its own.
func (b *batcher) lead() {
	b.mu.Lock()
	n := min(len(b.queue), maxBatch)
	batch := b.queue[:n:n]
	b.queue = b.queue[n:]
	b.mu.Unlock()

	b.commit(batch)
	if b.stmts != nil {
		b.stmts.prepareMissing(context.Background())
	}

	b.mu.Lock()
	more := len(b.queue) > 0
	b.leading = more
	b.mu.Unlock()
	if more {
		go b.lead()
	}
}

// commit runs batch in one transaction and tells each job its result. Jobs
// that queue while the batch runs join it (up to maxBatch), so that the
// batch closes, and commits, only when no caller is waiting.
func (b *batcher) commit(batch []*job) {
	ctx := context.Background()
	defer func() {
		for _, j := range batch {
			close(j.done)
		}
	}()
	failAll := func(err error) {
		for _, j := range batch {
			if j.err == nil {
				j.err = err
			}
		}
	}
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		failAll(err)
		return
	}
	defer tx.Rollback()
	wt := &wtx{Tx: tx, cache: b.stmts}
	ran := false
	for i := 0; i < len(batch); i++ {
		if i == len(batch)-1 {
			batch = b.join(batch)
		}
		j := batch[i]
		if j.err = j.ctx.Err(); j.err != nil {
			continue
		}
		if _, err := wt.ExecContext(ctx, "SAVEPOINT job"); err != nil {
			failAll(err)
			return
		}
		j.err = j.fn(context.WithoutCancel(j.ctx), wt)
		if j.err != nil {
			if _, err := wt.ExecContext(ctx, "ROLLBACK TO job"); err != nil {
				failAll(errors.Join(j.err, err))
				return
			}
		}
		if _, err := wt.ExecContext(ctx, "RELEASE job"); err != nil {
			failAll(err)
			return
		}
		ran = ran || j.err == nil
	}
	if !ran {
		return
	}
	var (
		changes *tagChanges
		tore    bool
	)
	if b.tags != nil {
		changes, tore = b.tags.keepUp(ctx, wt)
	}
	if err := tx.Commit(); err != nil {
		failAll(err)
		if changes != nil {
			b.tags.forget(changes)
		}
		return
	}
	if changes != nil {
		b.tags.apply(changes)
	}
	if tore {
		b.tags.tornDown = true
	}
}

// join appends to batch the jobs queued meanwhile, up to maxBatch in all.
func (b *batcher) join(batch []*job) []*job {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := min(len(b.queue), maxBatch-len(batch))
	if n <= 0 {
		return batch
	}
	batch = append(batch, b.queue[:n]...)
	b.queue = b.queue[n:]
	return batch
}
