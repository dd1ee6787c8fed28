package metadata

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"berth/internal/berth"
)

// CreateUpload records a new upload session; KindExists if the registry
// already has a session with u.ID. Zero CreatedAt and UpdatedAt mean now.
func (s *Store) CreateUpload(ctx context.Context, u berth.Upload) error {
	const op = "metadata.CreateUpload"
	if u.ID == "" || u.Offset < 0 {
		return berth.E(op, berth.KindInvalid, "upload %q at offset %d cannot be created", u.ID, u.Offset)
	}
	created := nanos(u.CreatedAt)
	updated := created
	if !u.UpdatedAt.IsZero() {
		updated = u.UpdatedAt.UnixNano()
	}
	return s.update(ctx, op, func(ctx context.Context, tx *wtx) error {
		n, err := rowsAffected(tx.ExecContext(ctx, `INSERT INTO uploads
(registry, id, repository, offset_bytes, algorithm, hash_state, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (registry, id) DO NOTHING`,
			u.Registry, u.ID, u.Repository, u.Offset, u.Algorithm, u.HashState, created, updated))
		if err != nil {
			return err
		}
		if n == 0 {
			return berth.E(op, berth.KindExists, "upload %q already exists", u.ID)
		}
		return nil
	})
}

// uploadQuery reads one upload session; every upload's PUT runs it.
const uploadQuery = `SELECT repository, offset_bytes, algorithm, hash_state, created_at, updated_at, closed
FROM uploads WHERE registry = $1 AND id = $2`

// Upload returns a session, also a closed one (Closed set);
// KindNotFound if it does not exist.
func (s *Store) Upload(ctx context.Context, registry, id string) (berth.Upload, error) {
	const op = "metadata.Upload"
	u := berth.Upload{Registry: registry, ID: id}
	var created, updated int64
	err := s.uploadStmt.QueryRowContext(s.detached(ctx), registry, id).Scan(
		&u.Repository, &u.Offset, &u.Algorithm, &u.HashState, &created, &updated, &u.Closed)
	if errors.Is(err, sql.ErrNoRows) {
		return berth.Upload{}, berth.E(op, berth.KindNotFound, "upload %q not found", id)
	}
	if err != nil {
		return berth.Upload{}, s.fail(op, err)
	}
	u.CreatedAt, u.UpdatedAt = fromNanos(created), fromNanos(updated)
	return u, nil
}

// AdvanceUpload stores u's offset, algorithm and hash state if the stored
// session is still at offset from; KindConflict if another writer moved it,
// KindNotFound if it is gone or closed. A zero UpdatedAt means now; the repository and
// creation time of a session never change.
func (s *Store) AdvanceUpload(ctx context.Context, u berth.Upload, from int64) error {
	const op = "metadata.AdvanceUpload"
	updated := u.UpdatedAt
	if updated.IsZero() {
		updated = time.Now()
	}
	return s.update(ctx, op, func(ctx context.Context, tx *wtx) error {
		n, err := rowsAffected(tx.ExecContext(ctx, `UPDATE uploads
SET offset_bytes = $1, algorithm = $2, hash_state = $3, updated_at = $4
WHERE registry = $5 AND id = $6 AND offset_bytes = $7 AND NOT closed`,
			u.Offset, u.Algorithm, u.HashState, updated.UnixNano(), u.Registry, u.ID, from))
		if err != nil || n == 1 {
			return err
		}
		var at int64
		var closed bool
		err = tx.QueryRowContext(ctx,
			`SELECT offset_bytes, closed FROM uploads WHERE registry = $1 AND id = $2`, u.Registry, u.ID).Scan(&at, &closed)
		if errors.Is(err, sql.ErrNoRows) || closed {
			return berth.E(op, berth.KindNotFound, "upload %q not found", u.ID)
		}
		if err != nil {
			return err
		}
		return berth.E(op, berth.KindConflict, "upload %q is at offset %d, not %d", u.ID, at, from)
	})
}

// DeleteUpload removes a session; KindNotFound if it does not exist.
func (s *Store) DeleteUpload(ctx context.Context, registry, id string) error {
	const op = "metadata.DeleteUpload"
	return s.update(ctx, op, func(ctx context.Context, tx *wtx) error {
		n, err := rowsAffected(tx.ExecContext(ctx,
			`DELETE FROM uploads WHERE registry = $1 AND id = $2`, registry, id))
		if err != nil {
			return err
		}
		if n == 0 {
			return berth.E(op, berth.KindNotFound, "upload %q not found", id)
		}
		return nil
	})
}

// CloseUpload marks session u.ID closed, recording it (with u's
// repository) if it has no record yet. Closing twice is not an error.
func (s *Store) CloseUpload(ctx context.Context, u berth.Upload) error {
	const op = "metadata.CloseUpload"
	if u.ID == "" {
		return berth.E(op, berth.KindInvalid, "an upload without id cannot be closed")
	}
	now := time.Now()
	return s.update(ctx, op, func(ctx context.Context, tx *wtx) error {
		return closeUpload(ctx, tx, u.Registry, u.ID, u.Repository, now)
	})
}

// closedUploadsKept is how long the row of a closed session is kept: as
// long as the registry API accepts the id of a session without record.
const closedUploadsKept = 8 * 24 * time.Hour

// closeUploadRow closes the row of session $3 of registry $2 at time $1,
// dropping its offset and hash state; callers may add conditions.
const closeUploadRow = `UPDATE uploads SET closed = TRUE, offset_bytes = 0, hash_state = NULL, updated_at = $1
WHERE registry = $2 AND id = $3`

// closeRecordedUpload marks session id closed if it has a record, and then
// drops rows of sessions closed more than closedUploadsKept ago.
func closeRecordedUpload(ctx context.Context, tx *wtx, registry, id string, now time.Time) error {
	n, err := rowsAffected(tx.ExecContext(ctx, closeUploadRow, now.UnixNano(), registry, id))
	if err != nil || n == 0 {
		return err
	}
	return dropClosedUploads(ctx, tx, now)
}

// dropClosedUploads deletes the rows of sessions closed more than
// closedUploadsKept before now.
func dropClosedUploads(ctx context.Context, tx *wtx, now time.Time) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM uploads WHERE closed AND updated_at < $1`,
		now.Add(-closedUploadsKept).UnixNano())
	return err
}

// closeUpload marks session id closed, recording it if needed, and drops
// rows of sessions closed more than closedUploadsKept ago.
func closeUpload(ctx context.Context, tx *wtx, registry, id, repo string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO uploads
(registry, id, repository, offset_bytes, algorithm, hash_state, created_at, updated_at, closed)
VALUES ($1, $2, $3, 0, '', NULL, $4, $4, TRUE)
ON CONFLICT (registry, id) DO UPDATE SET closed = TRUE, offset_bytes = 0, hash_state = NULL, updated_at = $4`,
		registry, id, repo, now.UnixNano()); err != nil {
		return err
	}
	return dropClosedUploads(ctx, tx, now)
}

// CloseStaleUploads closes at most limit open upload sessions, of every
// registry, that were last written before before, oldest first, and
// returns them as they were; KindInvalid if limit is not positive. Each is
// closed only if it is still open and still that old when the update runs,
// so a session that a client moves on meanwhile, or that another node's
// sweep closed first, is neither closed nor returned. The bytes of the
// sessions returned are the caller's to remove.
func (s *Store) CloseStaleUploads(ctx context.Context, before time.Time, limit int) ([]berth.Upload, error) {
	const op = "metadata.CloseStaleUploads"
	if limit <= 0 {
		return nil, berth.E(op, berth.KindInvalid, "limit %d is not positive", limit)
	}
	now := time.Now()
	var closed []berth.Upload
	err := s.update(ctx, op, func(ctx context.Context, tx *wtx) error {
		closed = nil // the closure runs again when a transaction is retried
		var found []berth.Upload
		rows, err := tx.QueryContext(ctx, `SELECT registry, id, repository, offset_bytes, algorithm, created_at, updated_at
FROM uploads WHERE NOT closed AND updated_at < $1 ORDER BY updated_at LIMIT $2`, before.UnixNano(), limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			var u berth.Upload
			var created, updated int64
			if err := rows.Scan(&u.Registry, &u.ID, &u.Repository, &u.Offset, &u.Algorithm, &created, &updated); err != nil {
				rows.Close()
				return err
			}
			u.CreatedAt, u.UpdatedAt = fromNanos(created), fromNanos(updated)
			found = append(found, u)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, u := range found {
			n, err := rowsAffected(tx.ExecContext(ctx, closeUploadRow+` AND NOT closed AND updated_at < $4`,
				now.UnixNano(), u.Registry, u.ID, before.UnixNano()))
			if err != nil {
				return err
			}
			if n == 1 {
				closed = append(closed, u)
			}
		}
		if len(closed) == 0 {
			return nil
		}
		return dropClosedUploads(ctx, tx, now)
	})
	if err != nil {
		return nil, err
	}
	return closed, nil
}
