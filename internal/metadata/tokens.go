package metadata

import (
	"context"

	"berth/internal/berth"
)

// CreateToken records t; KindExists if the registry has a token of that
// name, KindNotFound if the registry does not exist, KindInvalid if the name
// is empty. The scope map is not checked: built-in maps are not stored, so
// the caller checks it. A zero CreatedAt means now.
func (s *Store) CreateToken(ctx context.Context, t berth.Token) error {
	const op = "metadata.CreateToken"
	if t.Name == "" {
		return berth.E(op, berth.KindInvalid, "token name is empty")
	}
	return s.update(ctx, op, func(ctx context.Context, tx *wtx) error {
		if err := requireRegistry(ctx, tx, op, t.Registry); err != nil {
			return err
		}
		n, err := rowsAffected(tx.ExecContext(ctx, `INSERT INTO tokens
(registry, name, scope_map, enabled, created_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (registry, name) DO NOTHING`, t.Registry, t.Name, t.ScopeMap, t.Enabled, nanos(t.CreatedAt)))
		if err != nil {
			return err
		}
		if n == 0 {
			return berth.E(op, berth.KindExists, "token %q already exists in registry %q", t.Name, t.Registry)
		}
		return nil
	})
}

// UpdateToken replaces the scope map and the status of token t.Name;
// KindNotFound if there is none. Its creation time and secrets stay.
func (s *Store) UpdateToken(ctx context.Context, t berth.Token) error {
	const op = "metadata.UpdateToken"
	n, err := rowsAffected(s.write.ExecContext(s.detached(ctx), `UPDATE tokens SET scope_map = $1, enabled = $2
WHERE registry = $3 AND name = $4`, t.ScopeMap, t.Enabled, t.Registry, t.Name))
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return berth.E(op, berth.KindNotFound, "token %q not found in registry %q", t.Name, t.Registry)
	}
	return nil
}

// tokenQuery selects the tokens of a registry ($1).
const tokenQuery = `SELECT name, scope_map, enabled, created_at FROM tokens WHERE registry = $1`

// Token returns one token; KindNotFound if there is none.
func (s *Store) Token(ctx context.Context, registry, name string) (berth.Token, error) {
	const op = "metadata.Token"
	ts, err := s.queryTokens(ctx, registry, tokenQuery+` AND name = $2`, registry, name)
	if err != nil {
		return berth.Token{}, s.fail(op, err)
	}
	if len(ts) == 0 {
		return berth.Token{}, berth.E(op, berth.KindNotFound, "token %q not found in registry %q", name, registry)
	}
	return ts[0], nil
}

// Tokens lists the tokens of a registry ordered by name; the list is empty,
// not nil, when there are none.
func (s *Store) Tokens(ctx context.Context, registry string) ([]berth.Token, error) {
	ts, err := s.queryTokens(ctx, registry, tokenQuery+` ORDER BY name`, registry)
	return ts, s.fail("metadata.Tokens", err)
}

// queryTokens runs a query of tokenQuery and returns its rows.
func (s *Store) queryTokens(ctx context.Context, registry, query string, args ...any) ([]berth.Token, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []berth.Token{}
	for rows.Next() {
		t := berth.Token{Registry: registry}
		var created int64
		if err := rows.Scan(&t.Name, &t.ScopeMap, &t.Enabled, &created); err != nil {
			return nil, err
		}
		t.CreatedAt = fromNanos(created)
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteToken removes a token and its secrets in one transaction;
// KindNotFound if there is no such token.
func (s *Store) DeleteToken(ctx context.Context, registry, name string) error {
	const op = "metadata.DeleteToken"
	return s.update(ctx, op, func(ctx context.Context, tx *wtx) error {
		n, err := rowsAffected(tx.ExecContext(ctx,
			`DELETE FROM tokens WHERE registry = $1 AND name = $2`, registry, name))
		if err != nil {
			return err
		}
		if n == 0 {
			return berth.E(op, berth.KindNotFound, "token %q not found in registry %q", name, registry)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM secrets WHERE registry = $1 AND owner = $2`,
			registry, berth.TokenOwner(name))
		return err
	})
}
