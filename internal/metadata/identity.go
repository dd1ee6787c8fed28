package metadata

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"berth/internal/berth"
)

// registryTables lists, after registry_aliases and registries, every table
// whose rows belong to a registry through their registry column, in the
// order DeleteRegistry empties them: manifests before tags, the order in
// which PutManifest locks them.
var registryTables = []string{
	"secrets", "tokens", "scope_maps", "uploads",
	"manifests", "tags", "manifest_references", "repository_blobs", "blobs", "repositories",
}

// DeleteRegistry removes a registry and every row of it in every table
// (aliases, settings, credentials, scope maps, tokens, repositories,
// manifests, tags, blobs, uploads) in one transaction, whatever the
// attributes of its content; KindNotFound if there is no such registry. The
// bytes in the blob store are the caller's to delete. A registry created
// later under the same name starts empty. Content writes do not check that
// their registry exists, so the caller stops serving the registry first: a
// push still running when the registry goes could otherwise leave content
// behind.
func (s *Store) DeleteRegistry(ctx context.Context, registry string) error {
	const op = "metadata.DeleteRegistry"
	return s.update(ctx, op, func(ctx context.Context, tx *wtx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM registry_aliases WHERE registry = $1`, registry); err != nil {
			return err
		}
		// The registry row next: removing it cascades to the credentials
		// of transactions that commit meanwhile, and blocks new ones.
		n, err := rowsAffected(tx.ExecContext(ctx, `DELETE FROM registries WHERE name = $1`, registry))
		if err != nil {
			return err
		}
		if n == 0 {
			return berth.E(op, berth.KindNotFound, "registry %q not found", registry)
		}
		for _, table := range registryTables {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE registry = $1`, registry); err != nil {
				return fmt.Errorf("emptying %s: %w", table, err)
			}
		}
		return nil
	})
}

// requireRegistry returns KindNotFound unless the registry exists.
func requireRegistry(ctx context.Context, tx *wtx, op, registry string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM registries WHERE name = $1`, registry).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return berth.E(op, berth.KindNotFound, "registry %q not found", registry)
	}
	return err
}

// PutSecret creates or replaces the secret sec.Name of owner (berth.AdminOwner
// or berth.TokenOwner(name)); KindNotFound if the registry does not exist,
// KindInvalid if owner, name or hash is empty. A zero CreatedAt means now; a
// zero Expiry, never. Whether the owning token exists is not checked.
func (s *Store) PutSecret(ctx context.Context, registry, owner string, sec berth.Secret) error {
	const op = "metadata.PutSecret"
	if owner == "" || sec.Name == "" || len(sec.Hash) == 0 {
		return berth.E(op, berth.KindInvalid, "secret %q of owner %q has no owner, name or hash", sec.Name, owner)
	}
	return s.update(ctx, op, func(ctx context.Context, tx *wtx) error {
		if err := requireRegistry(ctx, tx, op, registry); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO secrets (registry, owner, name, hash, created_at, expiry)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (registry, owner, name) DO UPDATE
SET hash = excluded.hash, created_at = excluded.created_at, expiry = excluded.expiry`,
			registry, owner, sec.Name, sec.Hash, nanos(sec.CreatedAt), optionalNanos(sec.Expiry))
		return err
	})
}

// Secrets lists the secrets of owner ordered by name; the list is empty, not
// nil, when there are none or the registry does not exist.
func (s *Store) Secrets(ctx context.Context, registry, owner string) ([]berth.Secret, error) {
	const op = "metadata.Secrets"
	rows, err := s.read.QueryContext(ctx, `SELECT name, hash, created_at, expiry FROM secrets
WHERE registry = $1 AND owner = $2 ORDER BY name`, registry, owner)
	if err != nil {
		return nil, s.fail(op, err)
	}
	defer rows.Close()
	out := []berth.Secret{}
	for rows.Next() {
		var (
			sec             berth.Secret
			created, expiry int64
		)
		if err := rows.Scan(&sec.Name, &sec.Hash, &created, &expiry); err != nil {
			return nil, s.fail(op, err)
		}
		sec.CreatedAt, sec.Expiry = fromNanos(created), fromOptionalNanos(expiry)
		out = append(out, sec)
	}
	return out, s.fail(op, rows.Err())
}

// DeleteSecret removes one secret of owner; KindNotFound if there is none.
func (s *Store) DeleteSecret(ctx context.Context, registry, owner, name string) error {
	const op = "metadata.DeleteSecret"
	n, err := rowsAffected(s.write.ExecContext(s.detached(ctx),
		`DELETE FROM secrets WHERE registry = $1 AND owner = $2 AND name = $3`, registry, owner, name))
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return berth.E(op, berth.KindNotFound, "secret %q of %q not found in registry %q", name, owner, registry)
	}
	return nil
}

// encodeActions returns the stored form of a scope map's actions: a JSON
// array, "[]" when there are none.
func encodeActions(actions []string) (string, error) {
	if actions == nil {
		actions = []string{}
	}
	b, err := json.Marshal(actions)
	return string(b), err
}

// CreateScopeMap records m; KindExists if the registry has a scope map of
// that name, KindNotFound if the registry does not exist, KindInvalid if the
// name is empty. BuiltIn is not stored; the actions are stored as given, not
// checked. A zero CreatedAt means now.
func (s *Store) CreateScopeMap(ctx context.Context, m berth.ScopeMap) error {
	const op = "metadata.CreateScopeMap"
	if m.Name == "" {
		return berth.E(op, berth.KindInvalid, "scope map name is empty")
	}
	actions, err := encodeActions(m.Actions)
	if err != nil {
		return berth.E(op, berth.KindInvalid, "scope map %q: actions: %w", m.Name, err)
	}
	return s.update(ctx, op, func(ctx context.Context, tx *wtx) error {
		if err := requireRegistry(ctx, tx, op, m.Registry); err != nil {
			return err
		}
		n, err := rowsAffected(tx.ExecContext(ctx, `INSERT INTO scope_maps
(registry, name, description, actions, created_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (registry, name) DO NOTHING`, m.Registry, m.Name, m.Description, actions, nanos(m.CreatedAt)))
		if err != nil {
			return err
		}
		if n == 0 {
			return berth.E(op, berth.KindExists, "scope map %q already exists in registry %q", m.Name, m.Registry)
		}
		return nil
	})
}

// UpdateScopeMap replaces the description and actions of scope map m.Name;
// KindNotFound if there is none. Its creation time stays.
func (s *Store) UpdateScopeMap(ctx context.Context, m berth.ScopeMap) error {
	const op = "metadata.UpdateScopeMap"
	actions, err := encodeActions(m.Actions)
	if err != nil {
		return berth.E(op, berth.KindInvalid, "scope map %q: actions: %w", m.Name, err)
	}
	n, err := rowsAffected(s.write.ExecContext(s.detached(ctx), `UPDATE scope_maps SET description = $1, actions = $2
WHERE registry = $3 AND name = $4`, m.Description, actions, m.Registry, m.Name))
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return berth.E(op, berth.KindNotFound, "scope map %q not found in registry %q", m.Name, m.Registry)
	}
	return nil
}

// scopeMapQuery selects the scope maps of a registry ($1).
const scopeMapQuery = `SELECT name, description, actions, created_at FROM scope_maps WHERE registry = $1`

// ScopeMap returns a stored scope map; KindNotFound if there is none. The
// built-in maps are not stored, so BuiltIn is always false.
func (s *Store) ScopeMap(ctx context.Context, registry, name string) (berth.ScopeMap, error) {
	const op = "metadata.ScopeMap"
	ms, err := s.queryScopeMaps(ctx, registry, scopeMapQuery+` AND name = $2`, registry, name)
	if err != nil {
		return berth.ScopeMap{}, s.fail(op, err)
	}
	if len(ms) == 0 {
		return berth.ScopeMap{}, berth.E(op, berth.KindNotFound, "scope map %q not found in registry %q", name, registry)
	}
	return ms[0], nil
}

// ScopeMaps lists the stored scope maps of a registry ordered by name; the
// list is empty, not nil, when there are none.
func (s *Store) ScopeMaps(ctx context.Context, registry string) ([]berth.ScopeMap, error) {
	ms, err := s.queryScopeMaps(ctx, registry, scopeMapQuery+` ORDER BY name`, registry)
	return ms, s.fail("metadata.ScopeMaps", err)
}

// queryScopeMaps runs a query of scopeMapQuery and returns its rows.
func (s *Store) queryScopeMaps(ctx context.Context, registry, query string, args ...any) ([]berth.ScopeMap, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []berth.ScopeMap{}
	for rows.Next() {
		var (
			m       = berth.ScopeMap{Registry: registry}
			actions string
			created int64
		)
		if err := rows.Scan(&m.Name, &m.Description, &actions, &created); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(actions), &m.Actions); err != nil {
			return nil, fmt.Errorf("scope map %q: actions: %w", m.Name, err)
		}
		if m.Actions == nil {
			m.Actions = []string{}
		}
		m.CreatedAt = fromNanos(created)
		out = append(out, m)
	}
	return out, rows.Err()
}

// DeleteScopeMap removes a stored scope map; KindNotFound if there is none,
// KindConflict, naming the token, if a token still uses it.
func (s *Store) DeleteScopeMap(ctx context.Context, registry, name string) error {
	const op = "metadata.DeleteScopeMap"
	return s.update(ctx, op, func(ctx context.Context, tx *wtx) error {
		n, err := rowsAffected(tx.ExecContext(ctx,
			`DELETE FROM scope_maps WHERE registry = $1 AND name = $2`, registry, name))
		if err != nil {
			return err
		}
		if n == 0 {
			return berth.E(op, berth.KindNotFound, "scope map %q not found in registry %q", name, registry)
		}
		var token string
		err = tx.QueryRowContext(ctx, `SELECT name FROM tokens WHERE registry = $1 AND scope_map = $2
ORDER BY name LIMIT 1`, registry, name).Scan(&token)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		return berth.E(op, berth.KindConflict, "scope map %q is used by token %q", name, token)
	})
}
