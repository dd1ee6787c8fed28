package metadata

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// attribute is one of the four columns that lock a repository, a tag or a
// manifest, with the name the management API gives it.
type attribute struct {
	column string
	name   string
}

// The attributes.
var (
	deleteEnabled = attribute{"delete_enabled", "deleteEnabled"}
	writeEnabled  = attribute{"write_enabled", "writeEnabled"}
	readEnabled   = attribute{"read_enabled", "readEnabled"}
)

// attributeColumns selects the four attributes of a row, in the order of
// attributeTargets.
const attributeColumns = `delete_enabled, write_enabled, read_enabled, list_enabled`

// attributeTargets returns the four fields of a for Scan, in the order of
// attributeColumns.
func attributeTargets(a *berth.Attributes) []any {
	return []any{&a.DeleteEnabled, &a.WriteEnabled, &a.ReadEnabled, &a.ListEnabled}
}

// repositoryObject, tagObject and manifestObject name what an attribute
// locks in the messages of refusals.
func repositoryObject(repo string) string { return fmt.Sprintf("repository %q", repo) }

func tagObject(repo, tag string) string {
	return fmt.Sprintf("tag %q of repository %q", tag, repo)
}

func manifestObject(repo string, d digest.Digest) string {
	return fmt.Sprintf("manifest %s of repository %q", d, repo)
}

// locked returns the KindDenied error of op refused because attribute a of
// object is false.
func locked(op, object string, a attribute) error {
	return berth.E(op, berth.KindDenied, "%s is locked: %s is false", object, a.name)
}

// checkRepository returns the KindDenied error of op when repo exists and
// its attribute a is false. A missing repository passes.
func checkRepository(ctx context.Context, tx *wtx, op, registry, repo string, a attribute) error {
	var enabled bool
	err := tx.QueryRowContext(ctx, `SELECT `+a.column+` FROM repositories WHERE registry = $1 AND name = $2`,
		registry, repo).Scan(&enabled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if !enabled {
		return locked(op, repositoryObject(repo), a)
	}
	return nil
}

// deleteChecked runs query, a DELETE ... RETURNING of a key and a boolean
// attribute, and returns how many rows it removed and the least key among
// those whose attribute is false ("" if none). The caller refuses, rolling
// the deletion back, when that key is not "". The returned values are those
// of the rows as deleted, so a lock committed by another transaction just
// before is seen.
func deleteChecked(ctx context.Context, tx *wtx, query string, args ...any) (n int, lockedKey string, err error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, "", err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			key     string
			enabled bool
		)
		if err := rows.Scan(&key, &enabled); err != nil {
			return 0, "", err
		}
		n++
		if !enabled && (lockedKey == "" || key < lockedKey) {
			lockedKey = key
		}
	}
	return n, lockedKey, rows.Err()
}

// putTag points tag of repo at d, creating the tag with every attribute
// enabled if needed. Moving an existing tag to another digest is refused
// (KindDenied) when the tag is not write-enabled, or when the manifest it
// points to is not: a locked manifest keeps its tags. Pointing a tag at the
// digest it already has only renews its update time. The conflict clause
// locks an existing tag row before its attributes are tested, so a lock
// committed concurrently is honoured.
func putTag(ctx context.Context, tx *wtx, op, registry, repo, tag string, d digest.Digest, now int64) error {
	n, err := rowsAffected(tx.ExecContext(ctx, `INSERT INTO tags
(registry, repository, name, digest, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
ON CONFLICT (registry, repository, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at
WHERE tags.digest = excluded.digest OR (tags.write_enabled AND NOT EXISTS (
    SELECT 1 FROM manifests m WHERE m.registry = tags.registry AND m.repository = tags.repository
    AND m.digest = tags.digest AND NOT m.write_enabled))`,
		registry, repo, tag, string(d), now))
	if err != nil || n > 0 {
		return err
	}
	var (
		current  string
		tagWrite bool
	)
	if err := tx.QueryRowContext(ctx, `SELECT digest, write_enabled FROM tags
WHERE registry = $1 AND repository = $2 AND name = $3`, registry, repo, tag).Scan(&current, &tagWrite); err != nil {
		return fmt.Errorf("reading tag %q after a refused move: %w", tag, err)
	}
	if !tagWrite {
		return locked(op, tagObject(repo, tag), writeEnabled)
	}
	return berth.E(op, berth.KindDenied, "%s is locked: %s is false, so its tag %q cannot move",
		manifestObject(repo, digest.Digest(current)), writeEnabled.name, tag)
}
