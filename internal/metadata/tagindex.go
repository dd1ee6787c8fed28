package metadata

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/opencontainers/go-digest"
)

// tagIndex holds every tag of the database in memory: its digest, and
// whether it and its repository may be read. Resolving a tag then costs a
// map lookup instead of a query, however many tags a repository has.
//
// It is exact, not a cache with a lifetime. Temporary triggers on the single
// writer connection record every tag and repository row that is inserted,
// updated or deleted; each batch of write transactions reads the new state
// of those rows just before it commits and applies it to the index once the
// commit is durable, before any caller of the batch learns its result. A
// job rolled back to its savepoint rolls back what its triggers recorded.
// This holds only while the process is the database's only writer, which
// is what Dialect.SingleWriter promises.
//
// The index answers only for the tags it holds, and the store asks the
// database about any other. Past its size limit it turns itself off for
// good, and so it does when it cannot tell what a batch changed.
type tagIndex struct {
	max         int   // most tags held; beyond, the index is off
	dataVersion int64 // PRAGMA data_version of the writer connection at load
	tornDown    bool  // the triggers are gone (a committed batch dropped them); batcher only

	off atomic.Bool // set with mu held

	mu    sync.RWMutex
	n     int // tags held, plus repoWeight for each repository
	repos map[repoKey]*repoTags
}

// repoWeight is what a repository of the index counts for against the
// limit, in tags: a repository's own table costs about 400 bytes, a tag
// about 70, so that many repositories of few tags cannot grow the index
// past what the limit means to allow.
const repoWeight = 6

type repoKey struct{ registry, repo string }

// repoTags is one repository of the index.
type repoTags struct {
	readable bool
	tags     *tagTable
}

// tagIndexSetup creates, on the connection it runs on, the temporary tables
// that record which tags and repositories changed, and the triggers that
// fill them. Temporary objects belong to one connection and vanish with it.
// The tables have no key: a conflict clause inside a trigger gives way to
// that of the statement that fired it, so a key could fail an upsert.
const tagIndexSetup = `
CREATE TEMP TABLE IF NOT EXISTS tagidx_tags (registry TEXT, repository TEXT, name TEXT);
CREATE TEMP TABLE IF NOT EXISTS tagidx_repos (registry TEXT, repository TEXT);
CREATE TEMP TRIGGER IF NOT EXISTS tagidx_tags_insert AFTER INSERT ON main.tags BEGIN
    INSERT INTO tagidx_tags VALUES (new.registry, new.repository, new.name);
END;
CREATE TEMP TRIGGER IF NOT EXISTS tagidx_tags_update AFTER UPDATE ON main.tags BEGIN
    INSERT INTO tagidx_tags VALUES (old.registry, old.repository, old.name);
    INSERT INTO tagidx_tags VALUES (new.registry, new.repository, new.name);
END;
CREATE TEMP TRIGGER IF NOT EXISTS tagidx_tags_delete AFTER DELETE ON main.tags BEGIN
    INSERT INTO tagidx_tags VALUES (old.registry, old.repository, old.name);
END;
CREATE TEMP TRIGGER IF NOT EXISTS tagidx_repos_insert AFTER INSERT ON main.repositories BEGIN
    INSERT INTO tagidx_repos VALUES (new.registry, new.name);
END;
CREATE TEMP TRIGGER IF NOT EXISTS tagidx_repos_update AFTER UPDATE ON main.repositories BEGIN
    INSERT INTO tagidx_repos VALUES (old.registry, old.name);
    INSERT INTO tagidx_repos VALUES (new.registry, new.name);
END;
CREATE TEMP TRIGGER IF NOT EXISTS tagidx_repos_delete AFTER DELETE ON main.repositories BEGIN
    INSERT INTO tagidx_repos VALUES (old.registry, old.name);
END;`

// tagIndexTeardown removes what tagIndexSetup made, once the index is off.
const tagIndexTeardown = `
DROP TRIGGER IF EXISTS tagidx_tags_insert; DROP TRIGGER IF EXISTS tagidx_tags_update;
DROP TRIGGER IF EXISTS tagidx_tags_delete; DROP TRIGGER IF EXISTS tagidx_repos_insert;
DROP TRIGGER IF EXISTS tagidx_repos_update; DROP TRIGGER IF EXISTS tagidx_repos_delete;
DROP TABLE IF EXISTS temp.tagidx_tags; DROP TABLE IF EXISTS temp.tagidx_repos`

// The statements of a batch that read and clear what it changed. Tags of a
// repository that is gone are left out: the index holds tags only of
// repositories it knows, and the repository's own deletion, recorded too,
// drops them all at once, however many a repository had.
const (
	tagIndexChangedTags = `SELECT c.registry, c.repository, c.name, t.digest, t.read_enabled, r.read_enabled
FROM (SELECT DISTINCT registry, repository, name FROM temp.tagidx_tags) c
LEFT JOIN main.tags t ON t.registry = c.registry AND t.repository = c.repository AND t.name = c.name
LEFT JOIN main.repositories r ON r.registry = c.registry AND r.name = c.repository
WHERE r.name IS NOT NULL`
	tagIndexChangedRepos = `SELECT c.registry, c.repository, r.read_enabled
FROM (SELECT DISTINCT registry, repository FROM temp.tagidx_repos) c
LEFT JOIN main.repositories r ON r.registry = c.registry AND r.name = c.repository`
	// tagIndexState tells in one statement whether another connection
	// wrote and whether the batch recorded anything: most batches (blob
	// links, upload sessions) touch no tag and stop there.
	tagIndexState = `SELECT data_version, EXISTS (SELECT 1 FROM temp.tagidx_tags),
EXISTS (SELECT 1 FROM temp.tagidx_repos) FROM pragma_data_version`
	tagIndexClearTags  = `DELETE FROM temp.tagidx_tags`
	tagIndexClearRepos = `DELETE FROM temp.tagidx_repos`
)

// loadTagIndex sets up the triggers on the single connection of db and
// reads every tag into a new index. It must run before anything else
// writes: the store calls it from New. With more than max tags it returns
// an index that is off.
func loadTagIndex(ctx context.Context, db *sql.DB, max int) (*tagIndex, error) {
	if _, err := db.ExecContext(ctx, tagIndexSetup); err != nil {
		return nil, fmt.Errorf("setting up the tag index: %w", err)
	}
	x := &tagIndex{max: max, repos: make(map[repoKey]*repoTags)}
	if err := db.QueryRowContext(ctx, "PRAGMA data_version").Scan(&x.dataVersion); err != nil {
		return nil, fmt.Errorf("loading the tag index: %w", err)
	}
	rows, err := db.QueryContext(ctx, `SELECT t.registry, t.repository, t.name, t.digest, t.read_enabled, r.read_enabled
FROM tags t JOIN repositories r ON r.registry = t.registry AND r.name = t.repository`)
	if err != nil {
		return nil, fmt.Errorf("loading the tag index: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanTagChange(rows)
		if err != nil {
			return nil, fmt.Errorf("loading the tag index: %w", err)
		}
		if x.put(c); x.off.Load() {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("loading the tag index: %w", err)
	}
	return x, nil
}

// lookup returns what the index holds of tag; ok is false when it holds
// nothing and the database must be asked.
func (x *tagIndex) lookup(registry, repo, tag string) (d digest.Digest, readable, repoReadable, ok bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	r := x.repos[repoKey{registry, repo}] // nil map once the index is off
	if r == nil {
		return "", false, false, false
	}
	d, readable, ok = r.tags.get(tag)
	if !ok {
		return "", false, false, false
	}
	return d, readable, r.readable, true
}

// tagChange is the state of one tag row after a batch; digest is not valid
// when the tag is gone, repoReadable not valid when its repository is.
type tagChange struct {
	registry, repo, name string
	digest               sql.NullString
	readable             sql.NullBool
	repoReadable         sql.NullBool
}

// repoChange is the state of one repository row after a batch; readable is
// not valid when the repository is gone.
type repoChange struct {
	registry, repo string
	readable       sql.NullBool
}

// tagChanges is what one batch changed.
type tagChanges struct {
	tags  []tagChange
	repos []repoChange
}

// collect reads, inside the batch's transaction, the new state of every tag
// and repository the batch changed, and clears the record. An error means
// that the index can no longer tell what changed: the caller turns it off.
func (x *tagIndex) collect(ctx context.Context, tx *wtx) (*tagChanges, error) {
	var v int64
	var anyTags, anyRepos bool
	if err := tx.QueryRowContext(ctx, tagIndexState).Scan(&v, &anyTags, &anyRepos); err != nil {
		return nil, err
	}
	if v != x.dataVersion {
		return nil, errors.New("another connection wrote the database")
	}
	c := &tagChanges{}
	var err error
	// Each record is cleared even when nothing comes back of it: a change
	// to a tag whose repository does not exist is recorded but not
	// returned.
	if anyTags {
		if c.tags, err = changedTags(ctx, tx); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, tagIndexClearTags); err != nil {
			return nil, err
		}
	}
	if anyRepos {
		if c.repos, err = changedRepos(ctx, tx); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, tagIndexClearRepos); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// scanTagChange reads a row of registry, repository, tag name, digest, the
// tag's read_enabled and the repository's.
func scanTagChange(rows *sql.Rows) (tagChange, error) {
	var c tagChange
	err := rows.Scan(&c.registry, &c.repo, &c.name, &c.digest, &c.readable, &c.repoReadable)
	return c, err
}

func changedTags(ctx context.Context, tx *wtx) ([]tagChange, error) {
	rows, err := tx.QueryContext(ctx, tagIndexChangedTags)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tagChange
	for rows.Next() {
		c, err := scanTagChange(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func changedRepos(ctx context.Context, tx *wtx) ([]repoChange, error) {
	rows, err := tx.QueryContext(ctx, tagIndexChangedRepos)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []repoChange
	for rows.Next() {
		var r repoChange
		if err := rows.Scan(&r.registry, &r.repo, &r.readable); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// apply makes the index hold the state a committed batch left.
func (x *tagIndex) apply(c *tagChanges) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, r := range c.repos {
		k := repoKey{r.registry, r.repo}
		if !r.readable.Valid {
			x.dropRepo(k)
		} else if rt := x.repos[k]; rt != nil {
			rt.readable = r.readable.Bool
		}
	}
	for _, t := range c.tags {
		x.put(t)
	}
}

// forget drops from the index everything a batch touched, for a batch
// whose commit failed and left the database's state unknown.
func (x *tagIndex) forget(c *tagChanges) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, r := range c.repos {
		x.dropRepo(repoKey{r.registry, r.repo})
	}
	for _, t := range c.tags {
		x.put(tagChange{registry: t.registry, repo: t.repo, name: t.name})
	}
}

// keepUp is what a batch does for the index inside its transaction: while
// the index is on, collect; once it is off, drop the triggers so that
// writes no longer pay for them (tore: the batch must mark them gone once it
// has committed). Nil changes means nothing to apply.
func (x *tagIndex) keepUp(ctx context.Context, tx *wtx) (c *tagChanges, tore bool) {
	if !x.on() {
		if x.tornDown {
			return nil, false
		}
		_, err := tx.Tx.ExecContext(ctx, tagIndexTeardown)
		return nil, err == nil
	}
	c, err := x.collect(ctx, tx)
	if err != nil {
		x.disable()
		return nil, false
	}
	return c, false
}

// disable turns the index off for good.
func (x *tagIndex) disable() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.turnOff()
}

// turnOff drops everything and answers nothing from now on. x.mu is held.
func (x *tagIndex) turnOff() {
	x.off.Store(true)
	x.repos, x.n = nil, 0
}

// on reports whether the index answers for the tags it holds.
func (x *tagIndex) on() bool { return !x.off.Load() }

// put records the state of one tag: held when the tag and its repository
// exist, dropped otherwise. x.mu is held, or x not yet shared.
func (x *tagIndex) put(t tagChange) {
	if x.off.Load() {
		return
	}
	k := repoKey{t.registry, t.repo}
	rt := x.repos[k]
	if !t.digest.Valid || !t.repoReadable.Valid {
		if rt == nil {
			return
		}
		if rt.tags.del(t.name) {
			x.n--
		}
		if rt.tags.len() == 0 {
			x.dropRepo(k)
		}
		return
	}
	if rt == nil {
		rt = &repoTags{tags: newTagTable()}
		x.repos[k] = rt
		x.n += repoWeight
	}
	rt.readable = t.repoReadable.Bool
	if rt.tags.set(t.name, digest.Digest(t.digest.String), t.readable.Bool) {
		x.n++
	} else if rt.tags.len() == 0 {
		x.dropRepo(k) // the table refused the repository's only name
	}
	if x.n > x.max {
		x.turnOff()
	}
}

// dropRepo drops a repository and its tags. x.mu is held.
func (x *tagIndex) dropRepo(k repoKey) {
	if rt := x.repos[k]; rt != nil {
		x.n -= rt.tags.len() + repoWeight
		delete(x.repos, k)
	}
}
