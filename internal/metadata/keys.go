package metadata

import (
	"context"

	"berth/internal/berth"
)

// SigningKeys lists every signing key, newest first (by CreatedAt, then by
// ID); the list is empty, not nil, when there are none.
func (s *Store) SigningKeys(ctx context.Context) ([]berth.SigningKey, error) {
	const op = "metadata.SigningKeys"
	rows, err := s.read.QueryContext(ctx, `SELECT id, private_key, created_at, not_after FROM signing_keys
ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, s.fail(op, err)
	}
	defer rows.Close()
	out := []berth.SigningKey{}
	for rows.Next() {
		var (
			k                 berth.SigningKey
			created, notAfter int64
		)
		if err := rows.Scan(&k.ID, &k.Private, &created, &notAfter); err != nil {
			return nil, s.fail(op, err)
		}
		k.CreatedAt, k.NotAfter = fromNanos(created), fromOptionalNanos(notAfter)
		out = append(out, k)
	}
	return out, s.fail(op, rows.Err())
}

// PutSigningKey creates or replaces the key k.ID; KindInvalid if the ID or
// the private key is empty. A zero CreatedAt means now for a new key and
// keeps the stored time of an existing one, so that replacing a key to set
// its NotAfter does not make it the newest; a zero NotAfter means no end.
func (s *Store) PutSigningKey(ctx context.Context, k berth.SigningKey) error {
	const op = "metadata.PutSigningKey"
	if k.ID == "" || len(k.Private) == 0 {
		return berth.E(op, berth.KindInvalid, "signing key %q has no ID or no private key", k.ID)
	}
	_, err := s.write.ExecContext(s.detached(ctx), `INSERT INTO signing_keys (id, private_key, created_at, not_after)
VALUES ($1, $2, $3, $4)
ON CONFLICT (id) DO UPDATE SET private_key = excluded.private_key,
created_at = CASE WHEN $5 THEN signing_keys.created_at ELSE excluded.created_at END,
not_after = excluded.not_after`,
		k.ID, k.Private, nanos(k.CreatedAt), optionalNanos(k.NotAfter), k.CreatedAt.IsZero())
	return s.fail(op, err)
}

// DeleteSigningKey removes the key id; removing a missing key is not an
// error.
func (s *Store) DeleteSigningKey(ctx context.Context, id string) error {
	_, err := s.write.ExecContext(s.detached(ctx), `DELETE FROM signing_keys WHERE id = $1`, id)
	return s.fail("metadata.DeleteSigningKey", err)
}
