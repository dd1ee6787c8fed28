package metadata

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// openBatchDB opens a fresh SQLite database with one writer connection and
// a table t(k).
func openBatchDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "b.db")+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE t (k TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	return db
}

func insert(k string) func(ctx context.Context, tx *wtx) error {
	return func(ctx context.Context, tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO t (k) VALUES ($1)`, k)
		return err
	}
}

func keys(t *testing.T, db *sql.DB) map[string]bool {
	t.Helper()
	rows, err := db.Query(`SELECT k FROM t`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		got[k] = true
	}
	return got
}

// TestBatchIsolatesJobs queues jobs behind a blocked one so that they share
// one batch, and checks that a failing job and a cancelled caller change
// nothing while the others commit.
func TestBatchIsolatesJobs(t *testing.T) {
	db := openBatchDB(t)
	b := &batcher{db: db, stmts: &stmtCache{db: db}}

	release := make(chan struct{})
	started := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(map[string]error)
	var mu sync.Mutex
	runJob := func(name string, ctx context.Context, fn func(ctx context.Context, tx *wtx) error) {
		defer wg.Done()
		err := b.run(ctx, fn)
		mu.Lock()
		errs[name] = err
		mu.Unlock()
	}
	wg.Add(1)
	go runJob("first", context.Background(), func(ctx context.Context, tx *wtx) error {
		close(started)
		<-release
		return insert("first")(ctx, tx)
	})
	<-started
	boom := errors.New("boom")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	jobs := []struct {
		name string
		ctx  context.Context
		fn   func(ctx context.Context, tx *wtx) error
	}{
		{"a", context.Background(), insert("a")},
		{"fails", context.Background(), func(ctx context.Context, tx *wtx) error {
			if err := insert("fails")(ctx, tx); err != nil {
				return err
			}
			return boom
		}},
		{"duplicate", context.Background(), insert("a")},
		{"cancelled", cancelled, insert("cancelled")},
		{"b", context.Background(), insert("b")},
	}
	for _, j := range jobs {
		wg.Add(1)
		go runJob(j.name, j.ctx, j.fn)
	}
	// Let every job queue behind the blocked leader.
	deadline := time.Now().Add(5 * time.Second)
	for {
		b.mu.Lock()
		n := len(b.queue)
		b.mu.Unlock()
		if n == len(jobs) || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()

	for _, name := range []string{"first", "b"} {
		if errs[name] != nil {
			t.Errorf("job %s: %v", name, errs[name])
		}
	}
	if !errors.Is(errs["fails"], boom) {
		t.Errorf("failing job: got %v, want boom", errs["fails"])
	}
	if (errs["a"] == nil) == (errs["duplicate"] == nil) {
		t.Errorf("two inserts of one key: errors %v and %v, want exactly one", errs["a"], errs["duplicate"])
	}
	if !errors.Is(errs["cancelled"], context.Canceled) {
		t.Errorf("cancelled job: got %v", errs["cancelled"])
	}
	want := map[string]bool{"first": true, "a": true, "b": true}
	got := keys(t, db)
	if len(got) != len(want) {
		t.Errorf("rows %v, want %v", got, want)
	}
	for k := range want {
		if !got[k] {
			t.Errorf("row %q missing; rows %v", k, got)
		}
	}
}

// TestBatchConcurrent runs many writers at once and finds every row; the
// statement cache is filled between batches and then used.
func TestBatchConcurrent(t *testing.T) {
	db := openBatchDB(t)
	cache := &stmtCache{db: db}
	b := &batcher{db: db, stmts: cache}
	const n = 200
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.run(context.Background(), insert(string(rune('A'+i%26))+time.Duration(i).String())); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := len(keys(t, db)); got != n {
		t.Errorf("%d rows, want %d", got, n)
	}
	if st := cache.get(`INSERT INTO t (k) VALUES ($1)`); st == nil {
		t.Error("the insert statement was not prepared between batches")
	}
	cache.close()
}
