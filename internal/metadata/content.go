package metadata

import (
	"context"
	"database/sql"
	"errors"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// The ContentAdmin methods show everything a repository holds, whatever its
// attributes: what readEnabled and listEnabled hide from the /v2 API is
// listed here with its attributes, so that it can be unlocked.

// Repository describes repo: its attributes, how many manifests and tags it
// holds, when it was created and when a manifest or a tag was last pushed to
// it (its creation time if never); KindNotFound if it does not exist.
func (s *Store) Repository(ctx context.Context, registry, repo string) (berth.RepositoryInfo, error) {
	const op = "metadata.Repository"
	info := berth.RepositoryInfo{Registry: registry, Name: repo}
	var created, lastManifest, lastTag int64
	targets := append([]any{&created}, attributeTargets(&info.Attributes)...)
	targets = append(targets, &info.ManifestCount, &info.TagCount, &lastManifest, &lastTag)
	err := s.read.QueryRowContext(ctx, `SELECT r.created_at,
r.delete_enabled, r.write_enabled, r.read_enabled, r.list_enabled,
(SELECT count(*) FROM manifests m WHERE m.registry = r.registry AND m.repository = r.name),
(SELECT count(*) FROM tags t WHERE t.registry = r.registry AND t.repository = r.name),
(SELECT COALESCE(max(m.created_at), 0) FROM manifests m WHERE m.registry = r.registry AND m.repository = r.name),
(SELECT COALESCE(max(t.updated_at), 0) FROM tags t WHERE t.registry = r.registry AND t.repository = r.name)
FROM repositories r WHERE r.registry = $1 AND r.name = $2`, registry, repo).Scan(targets...)
	if errors.Is(err, sql.ErrNoRows) {
		return berth.RepositoryInfo{}, berth.E(op, berth.KindNotFound, "repository %q not found", repo)
	}
	if err != nil {
		return berth.RepositoryInfo{}, s.fail(op, err)
	}
	info.CreatedAt = fromNanos(created)
	info.UpdatedAt = fromNanos(max(created, lastManifest, lastTag))
	return info, nil
}

// SetRepositoryAttributes replaces the attributes of repo; KindNotFound if
// it does not exist. Its tags and manifests keep their own.
func (s *Store) SetRepositoryAttributes(ctx context.Context, registry, repo string, a berth.Attributes) error {
	const op = "metadata.SetRepositoryAttributes"
	return s.setAttributes(ctx, op, a, berth.E(op, berth.KindNotFound, "repository %q not found", repo),
		`repositories`, `registry = $5 AND name = $6`, registry, repo)
}

// SetTagAttributes replaces the attributes of a tag; KindNotFound if there
// is no such tag. Its update time stays: it records pushes.
func (s *Store) SetTagAttributes(ctx context.Context, registry, repo, tag string, a berth.Attributes) error {
	const op = "metadata.SetTagAttributes"
	return s.setAttributes(ctx, op, a, berth.E(op, berth.KindNotFound, "tag %q not found in repository %q", tag, repo),
		`tags`, `registry = $5 AND repository = $6 AND name = $7`, registry, repo, tag)
}

// SetManifestAttributes replaces the attributes of manifest d of repo;
// KindNotFound if it is not there.
func (s *Store) SetManifestAttributes(ctx context.Context, registry, repo string, d digest.Digest, a berth.Attributes) error {
	const op = "metadata.SetManifestAttributes"
	return s.setAttributes(ctx, op, a, berth.E(op, berth.KindNotFound, "manifest %s not found in repository %q", d, repo),
		`manifests`, `registry = $5 AND repository = $6 AND digest = $7`, registry, repo, string(d))
}

// setAttributes sets a in the row of table that where (a condition on $5
// and after, bound to args) selects, and returns notFound when there is
// none.
func (s *Store) setAttributes(ctx context.Context, op string, a berth.Attributes, notFound error, table, where string, args ...any) error {
	args = append([]any{a.DeleteEnabled, a.WriteEnabled, a.ReadEnabled, a.ListEnabled}, args...)
	return s.update(ctx, op, func(ctx context.Context, tx *wtx) error {
		n, err := rowsAffected(tx.ExecContext(ctx, `UPDATE `+table+
			` SET delete_enabled = $1, write_enabled = $2, read_enabled = $3, list_enabled = $4 WHERE `+where, args...))
		if err != nil {
			return err
		}
		if n == 0 {
			return notFound
		}
		return nil
	})
}

// DeleteRepository removes repo with its manifests, tags, manifest
// references and blob links, in one transaction; KindNotFound if it does not
// exist. KindDenied, and nothing removed, if the repository, one of its tags
// (the first by name) or one of its manifests (the first by digest) is not
// delete-enabled. Upload sessions stay: their bytes are the blob store's.
func (s *Store) DeleteRepository(ctx context.Context, registry, repo string) error {
	const op = "metadata.DeleteRepository"
	return s.update(ctx, op, func(ctx context.Context, tx *wtx) error {
		n, lockedRepo, err := deleteChecked(ctx, tx, `DELETE FROM repositories
WHERE registry = $1 AND name = $2 RETURNING name, delete_enabled`, registry, repo)
		if err != nil {
			return err
		}
		if n == 0 {
			return berth.E(op, berth.KindNotFound, "repository %q not found", repo)
		}
		if lockedRepo != "" {
			return locked(op, repositoryObject(repo), deleteEnabled)
		}
		_, lockedManifest, err := deleteChecked(ctx, tx, `DELETE FROM manifests
WHERE registry = $1 AND repository = $2 RETURNING digest, delete_enabled`, registry, repo)
		if err != nil {
			return err
		}
		_, lockedTag, err := deleteChecked(ctx, tx, `DELETE FROM tags
WHERE registry = $1 AND repository = $2 RETURNING name, delete_enabled`, registry, repo)
		if err != nil {
			return err
		}
		if lockedTag != "" {
			return locked(op, tagObject(repo, lockedTag), deleteEnabled)
		}
		if lockedManifest != "" {
			return locked(op, manifestObject(repo, digest.Digest(lockedManifest)), deleteEnabled)
		}
		for _, table := range []string{"manifest_references", "repository_blobs"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE registry = $1 AND repository = $2`,
				registry, repo); err != nil {
				return err
			}
		}
		return nil
	})
}

// tagInfoQuery selects the tags of a repository ($1, $2).
const tagInfoQuery = `SELECT name, digest, ` + attributeColumns + `, created_at, updated_at FROM tags
WHERE registry = $1 AND repository = $2`

// TagInfos lists the tags of repo ordered by name, those that are not
// list-enabled included; KindNotFound if the repository does not exist.
func (s *Store) TagInfos(ctx context.Context, registry, repo string) ([]berth.TagInfo, error) {
	const op = "metadata.TagInfos"
	tags, err := s.queryTagInfos(ctx, tagInfoQuery+` ORDER BY name`, registry, repo)
	if err != nil {
		return nil, s.fail(op, err)
	}
	if len(tags) == 0 {
		if err := s.requireRepository(ctx, op, registry, repo); err != nil {
			return nil, err
		}
	}
	return tags, nil
}

// TagInfo describes one tag; KindNotFound if there is no such tag.
func (s *Store) TagInfo(ctx context.Context, registry, repo, tag string) (berth.TagInfo, error) {
	const op = "metadata.TagInfo"
	tags, err := s.queryTagInfos(ctx, tagInfoQuery+` AND name = $3`, registry, repo, tag)
	if err != nil {
		return berth.TagInfo{}, s.fail(op, err)
	}
	if len(tags) == 0 {
		return berth.TagInfo{}, berth.E(op, berth.KindNotFound, "tag %q not found in repository %q", tag, repo)
	}
	return tags[0], nil
}

// queryTagInfos runs a query of tagInfoQuery and returns its rows, never nil.
func (s *Store) queryTagInfos(ctx context.Context, query string, args ...any) ([]berth.TagInfo, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []berth.TagInfo{}
	for rows.Next() {
		var (
			t                berth.TagInfo
			d                string
			created, updated int64
		)
		targets := append([]any{&t.Name, &d}, attributeTargets(&t.Attributes)...)
		if err := rows.Scan(append(targets, &created, &updated)...); err != nil {
			return nil, err
		}
		t.Digest = digest.Digest(d)
		t.CreatedAt, t.UpdatedAt = fromNanos(created), fromNanos(updated)
		out = append(out, t)
	}
	return out, rows.Err()
}

// manifestInfoQuery selects the manifests of a repository ($1, $2), one row
// per tag (one with a NULL tag when a manifest has none).
const manifestInfoQuery = `SELECT m.digest, m.media_type, m.artifact_type, length(m.payload), m.created_at,
m.delete_enabled, m.write_enabled, m.read_enabled, m.list_enabled, t.name
FROM manifests m LEFT JOIN tags t ON t.registry = m.registry AND t.repository = m.repository AND t.digest = m.digest
WHERE m.registry = $1 AND m.repository = $2`

// ManifestInfos lists the manifests of repo, newest first (by creation
// time, then by digest), each with its tags in byte order, those that are
// not list-enabled included; KindNotFound if the repository does not exist.
func (s *Store) ManifestInfos(ctx context.Context, registry, repo string) ([]berth.ManifestInfo, error) {
	const op = "metadata.ManifestInfos"
	ms, err := s.queryManifestInfos(ctx, manifestInfoQuery+` ORDER BY m.created_at DESC, m.digest, t.name`,
		registry, repo)
	if err != nil {
		return nil, s.fail(op, err)
	}
	if len(ms) == 0 {
		if err := s.requireRepository(ctx, op, registry, repo); err != nil {
			return nil, err
		}
	}
	return ms, nil
}

// ManifestInfo describes manifest d of repo, with its tags in byte order;
// KindNotFound if it is not there.
func (s *Store) ManifestInfo(ctx context.Context, registry, repo string, d digest.Digest) (berth.ManifestInfo, error) {
	const op = "metadata.ManifestInfo"
	ms, err := s.queryManifestInfos(ctx, manifestInfoQuery+` AND m.digest = $3 ORDER BY t.name`,
		registry, repo, string(d))
	if err != nil {
		return berth.ManifestInfo{}, s.fail(op, err)
	}
	if len(ms) == 0 {
		return berth.ManifestInfo{}, berth.E(op, berth.KindNotFound, "manifest %s not found in repository %q", d, repo)
	}
	return ms[0], nil
}

// queryManifestInfos runs a query of manifestInfoQuery whose rows are
// grouped by manifest and folds each group into one ManifestInfo.
func (s *Store) queryManifestInfos(ctx context.Context, query string, args ...any) ([]berth.ManifestInfo, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []berth.ManifestInfo{}
	for rows.Next() {
		var (
			m       berth.ManifestInfo
			d       string
			created int64
			tag     sql.NullString
		)
		targets := append([]any{&d, &m.MediaType, &m.ArtifactType, &m.Size, &created},
			attributeTargets(&m.Attributes)...)
		if err := rows.Scan(append(targets, &tag)...); err != nil {
			return nil, err
		}
		if len(out) == 0 || string(out[len(out)-1].Digest) != d {
			m.Digest = digest.Digest(d)
			m.CreatedAt = fromNanos(created)
			m.Tags = []string{}
			out = append(out, m)
		}
		if tag.Valid {
			last := &out[len(out)-1]
			last.Tags = append(last.Tags, tag.String)
		}
	}
	return out, rows.Err()
}

// requireRepository returns KindNotFound of op unless repo exists.
func (s *Store) requireRepository(ctx context.Context, op, registry, repo string) error {
	ok, err := s.RepositoryExists(ctx, registry, repo)
	if err != nil {
		return err
	}
	if !ok {
		return berth.E(op, berth.KindNotFound, "repository %q not found", repo)
	}
	return nil
}
