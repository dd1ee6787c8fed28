package metadata

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// tagQuery reads a tag with its readEnabled and that of its repository: one
// search of each primary key.
const tagQuery = `SELECT t.digest, t.read_enabled, r.read_enabled FROM tags t
JOIN repositories r ON r.registry = t.registry AND r.name = t.repository
WHERE t.registry = $1 AND t.repository = $2 AND t.name = $3`

// Tag returns the digest tag points to; KindNotFound if no such tag,
// KindDenied if the repository or the tag is not read-enabled.
func (s *Store) Tag(ctx context.Context, registry, repo, tag string) (digest.Digest, error) {
	const op = "metadata.Tag"
	if s.tags != nil {
		if d, readable, repoReadable, ok := s.tags.lookup(registry, repo, tag); ok {
			return readableTag(op, repo, tag, d, readable, repoReadable)
		}
	}
	var (
		d                      string
		readable, repoReadable bool
	)
	err := s.tagStmt.QueryRowContext(s.detached(ctx), registry, repo, tag).Scan(&d, &readable, &repoReadable)
	if errors.Is(err, sql.ErrNoRows) {
		return "", berth.E(op, berth.KindNotFound, "tag %q not found in repository %q", tag, repo)
	}
	if err != nil {
		return "", s.fail(op, err)
	}
	return readableTag(op, repo, tag, digest.Digest(d), readable, repoReadable)
}

// TagsInMemory reports whether Tag answers from memory, as exactly as the
// database would, for every tag that exists (names it does not hold go to
// the database): a cache in front of the store then gains nothing on tags.
func (s *Store) TagsInMemory() bool { return s.tags != nil && s.tags.on() }

// readableTag returns d, or KindDenied if the repository or the tag is not
// read-enabled.
func readableTag(op, repo, tag string, d digest.Digest, readable, repoReadable bool) (digest.Digest, error) {
	if !repoReadable {
		return "", locked(op, repositoryObject(repo), readEnabled)
	}
	if !readable {
		return "", locked(op, tagObject(repo, tag), readEnabled)
	}
	return d, nil
}

// DeleteTag removes a tag, not the manifest it points to; KindNotFound if no
// such tag, KindDenied if the repository or the tag is not delete-enabled.
func (s *Store) DeleteTag(ctx context.Context, registry, repo, tag string) error {
	const op = "metadata.DeleteTag"
	return s.update(ctx, op, func(ctx context.Context, tx *wtx) error {
		if err := checkRepository(ctx, tx, op, registry, repo, deleteEnabled); err != nil {
			return err
		}
		n, lockedTag, err := deleteChecked(ctx, tx, `DELETE FROM tags
WHERE registry = $1 AND repository = $2 AND name = $3 RETURNING name, delete_enabled`, registry, repo, tag)
		if err != nil {
			return err
		}
		if n == 0 {
			return berth.E(op, berth.KindNotFound, "tag %q not found in repository %q", tag, repo)
		}
		if lockedTag != "" {
			return locked(op, tagObject(repo, tag), deleteEnabled)
		}
		return nil
	})
}

// Tags lists up to n tags of repo in byte order, starting after last ("" for
// the start; n <= 0 for no limit), leaving out tags that are not
// list-enabled. The list is empty, not nil, when repo has no tags to list;
// KindNotFound if the repository does not exist.
func (s *Store) Tags(ctx context.Context, registry, repo, last string, n int) ([]string, error) {
	const op = "metadata.Tags"
	tags, err := s.names(ctx, `SELECT name FROM tags
WHERE registry = $1 AND repository = $2 AND name > $3 AND list_enabled ORDER BY name`, n, registry, repo, last)
	if err != nil {
		return nil, s.fail(op, err)
	}
	if len(tags) == 0 {
		ok, err := s.RepositoryExists(ctx, registry, repo)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, berth.E(op, berth.KindNotFound, "repository %q not found", repo)
		}
	}
	return tags, nil
}

// Repositories lists up to n repository names of the registry in byte order
// after last (n <= 0 for no limit), leaving out repositories that are not
// list-enabled. A repository exists from the first blob linked or manifest
// stored in it.
func (s *Store) Repositories(ctx context.Context, registry, last string, n int) ([]string, error) {
	names, err := s.names(ctx, `SELECT name FROM repositories
WHERE registry = $1 AND name > $2 AND list_enabled ORDER BY name`, n, registry, last)
	return names, s.fail("metadata.Repositories", err)
}

// names runs query, limited to n rows when n > 0, and returns the one text
// column of its rows, never nil.
func (s *Store) names(ctx context.Context, query string, n int, args ...any) ([]string, error) {
	if n > 0 {
		query += ` LIMIT $` + strconv.Itoa(len(args)+1)
		args = append(args, n)
	}
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		out = append(out, name)
	}
	return out, rows.Err()
}

// RepositoryExists reports whether repo exists in the registry.
func (s *Store) RepositoryExists(ctx context.Context, registry, repo string) (bool, error) {
	const op = "metadata.RepositoryExists"
	var one int
	err := s.read.QueryRowContext(ctx,
		`SELECT 1 FROM repositories WHERE registry = $1 AND name = $2`, registry, repo).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, s.fail(op, err)
}
