package metadata

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// LinkBlob records that blob d of size bytes exists in the registry and that
// repository repo may read it, creating the repository if needed. Linking
// twice is not an error; the size first recorded for a digest stays.
// KindDenied if the repository exists and is not write-enabled.
func (s *Store) LinkBlob(ctx context.Context, registry, repo string, d digest.Digest, size int64) error {
	const op = "metadata.LinkBlob"
	if d == "" || size < 0 {
		return berth.E(op, berth.KindInvalid, "blob %q of size %d cannot be linked", d, size)
	}
	now := time.Now().UnixNano()
	return s.update(ctx, op, func(ctx context.Context, tx *wtx) error {
		return linkBlob(ctx, tx, op, registry, repo, d, size, now)
	})
}

// LinkUploadedBlob links blob d as LinkBlob does and, in the same
// transaction, closes upload session uploadID, which made it, when the
// session has a record (see CloseUpload); a session without record is left
// without one.
func (s *Store) LinkUploadedBlob(ctx context.Context, registry, repo string, d digest.Digest, size int64, uploadID string) error {
	const op = "metadata.LinkUploadedBlob"
	if d == "" || size < 0 {
		return berth.E(op, berth.KindInvalid, "blob %q of size %d cannot be linked", d, size)
	}
	now := time.Now()
	return s.update(ctx, op, func(ctx context.Context, tx *wtx) error {
		if err := linkBlob(ctx, tx, op, registry, repo, d, size, now.UnixNano()); err != nil {
			return err
		}
		return closeRecordedUpload(ctx, tx, registry, uploadID, now)
	})
}

// linkBlob records blob d and repo's link to it.
func linkBlob(ctx context.Context, tx *wtx, op, registry, repo string, d digest.Digest, size int64, now int64) error {
	if err := checkRepository(ctx, tx, op, registry, repo, writeEnabled); err != nil {
		return err
	}
	if err := createRepository(ctx, tx, registry, repo, now); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO blobs (registry, digest, size, created_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (registry, digest) DO NOTHING`, registry, string(d), size, now); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx,
		`INSERT INTO repository_blobs (registry, repository, digest, created_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (registry, repository, digest) DO NOTHING`, registry, repo, string(d), now)
	return err
}

// createRepository records repository repo of the registry unless it exists.
func createRepository(ctx context.Context, tx *wtx, registry, repo string, now int64) error {
	_, err := tx.ExecContext(ctx,
		`INSERT INTO repositories (registry, name, created_at) VALUES ($1, $2, $3)
ON CONFLICT (registry, name) DO NOTHING`, registry, repo, now)
	return err
}

// Blob returns the size of blob d if repository repo may read it;
// KindNotFound otherwise, KindDenied if the repository is not read-enabled.
func (s *Store) Blob(ctx context.Context, registry, repo string, d digest.Digest) (int64, error) {
	const op = "metadata.Blob"
	var (
		size     int64
		readable bool
	)
	err := s.blobStmt.QueryRowContext(s.detached(ctx), registry, repo, string(d)).Scan(&size, &readable)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, berth.E(op, berth.KindNotFound, "blob %s not found in repository %q", d, repo)
	}
	if err != nil {
		return 0, s.fail(op, err)
	}
	if !readable {
		return 0, locked(op, repositoryObject(repo), readEnabled)
	}
	return size, nil
}

// RegistryBlob returns the size of blob d if any repository of the registry
// may read it; KindNotFound otherwise.
func (s *Store) RegistryBlob(ctx context.Context, registry string, d digest.Digest) (int64, error) {
	const op = "metadata.RegistryBlob"
	var size int64
	err := s.read.QueryRowContext(ctx, `SELECT b.size FROM blobs b
WHERE b.registry = $1 AND b.digest = $2 AND EXISTS (
    SELECT 1 FROM repository_blobs rb WHERE rb.registry = $1 AND rb.digest = $2)`,
		registry, string(d)).Scan(&size)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, berth.E(op, berth.KindNotFound, "blob %s not found in registry %q", d, registry)
	}
	return size, s.fail(op, err)
}

// UnlinkBlob removes repo's link to blob d; KindNotFound if there is none,
// KindDenied if the repository is not delete-enabled. The blob stays
// recorded in the registry: deleting its bytes is the garbage collector's
// decision.
func (s *Store) UnlinkBlob(ctx context.Context, registry, repo string, d digest.Digest) error {
	const op = "metadata.UnlinkBlob"
	return s.update(ctx, op, func(ctx context.Context, tx *wtx) error {
		if err := checkRepository(ctx, tx, op, registry, repo, deleteEnabled); err != nil {
			return err
		}
		n, err := rowsAffected(tx.ExecContext(ctx,
			`DELETE FROM repository_blobs WHERE registry = $1 AND repository = $2 AND digest = $3`,
			registry, repo, string(d)))
		if err != nil {
			return err
		}
		if n == 0 {
			return berth.E(op, berth.KindNotFound, "blob %s not found in repository %q", d, repo)
		}
		return nil
	})
}
