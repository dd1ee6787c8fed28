package metadata

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"berth/internal/berth"
)

// registryColumns selects a registry joined with its aliases, one row per
// alias (one row with a NULL host when it has none), from registries r and
// registry_aliases a.
const registryColumns = `SELECT r.name, r.location, r.created_at, a.host FROM `

// CreateRegistry records r and its aliases; KindExists if the name, or one of
// the aliases, is taken. Aliases are host names, compared without regard to
// case and stored in lower case. A zero CreatedAt means now.
func (s *Store) CreateRegistry(ctx context.Context, r berth.Registry) error {
	const op = "metadata.CreateRegistry"
	if r.Name == "" {
		return berth.E(op, berth.KindInvalid, "registry name is empty")
	}
	aliases, err := normalizeHosts(op, r.Aliases)
	if err != nil {
		return err
	}
	return s.update(ctx, op, func(tx *sql.Tx) error {
		n, err := rowsAffected(tx.ExecContext(ctx,
			`INSERT INTO registries (name, location, created_at) VALUES ($1, $2, $3)
ON CONFLICT (name) DO NOTHING`, r.Name, r.Location, nanos(r.CreatedAt)))
		if err != nil {
			return err
		}
		if n == 0 {
			return berth.E(op, berth.KindExists, "registry %q already exists", r.Name)
		}
		for _, host := range aliases {
			n, err := rowsAffected(tx.ExecContext(ctx,
				`INSERT INTO registry_aliases (host, registry) VALUES ($1, $2)
ON CONFLICT (host) DO NOTHING`, host, r.Name))
			if err != nil {
				return err
			}
			if n == 0 {
				return berth.E(op, berth.KindExists, "host %q already belongs to another registry", host)
			}
		}
		return nil
	})
}

// normalizeHosts returns hosts in lower case, sorted and without duplicates;
// KindInvalid if one is empty.
func normalizeHosts(op string, hosts []string) ([]string, error) {
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		if h == "" {
			return nil, berth.E(op, berth.KindInvalid, "registry alias is empty")
		}
		out = append(out, strings.ToLower(h))
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Registry returns the registry called name; KindNotFound if there is none.
func (s *Store) Registry(ctx context.Context, name string) (berth.Registry, error) {
	const op = "metadata.Registry"
	rs, err := s.queryRegistries(ctx, registryColumns+`registries r
LEFT JOIN registry_aliases a ON a.registry = r.name
WHERE r.name = $1 ORDER BY a.host`, name)
	if err != nil {
		return berth.Registry{}, s.fail(op, err)
	}
	if len(rs) == 0 {
		return berth.Registry{}, berth.E(op, berth.KindNotFound, "registry %q not found", name)
	}
	return rs[0], nil
}

// RegistryByAlias returns the registry that answers for host, compared
// without regard to case; KindNotFound if none.
func (s *Store) RegistryByAlias(ctx context.Context, host string) (berth.Registry, error) {
	const op = "metadata.RegistryByAlias"
	rs, err := s.queryRegistries(ctx, registryColumns+`registry_aliases h
JOIN registries r ON r.name = h.registry
LEFT JOIN registry_aliases a ON a.registry = r.name
WHERE h.host = $1 ORDER BY a.host`, strings.ToLower(host))
	if err != nil {
		return berth.Registry{}, s.fail(op, err)
	}
	if len(rs) == 0 {
		return berth.Registry{}, berth.E(op, berth.KindNotFound, "no registry answers for host %q", host)
	}
	return rs[0], nil
}

// Registries lists every registry ordered by name.
func (s *Store) Registries(ctx context.Context) ([]berth.Registry, error) {
	rs, err := s.queryRegistries(ctx, registryColumns+`registries r
LEFT JOIN registry_aliases a ON a.registry = r.name
ORDER BY r.name, a.host`)
	return rs, s.fail("metadata.Registries", err)
}

// queryRegistries runs a query of registryColumns whose rows are grouped by
// registry and folds each group into one Registry.
func (s *Store) queryRegistries(ctx context.Context, query string, args ...any) ([]berth.Registry, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	rs := []berth.Registry{}
	for rows.Next() {
		var (
			r       berth.Registry
			created int64
			host    sql.NullString
		)
		if err := rows.Scan(&r.Name, &r.Location, &created, &host); err != nil {
			return nil, err
		}
		if len(rs) == 0 || rs[len(rs)-1].Name != r.Name {
			r.CreatedAt = fromNanos(created)
			rs = append(rs, r)
		}
		if host.Valid {
			last := &rs[len(rs)-1]
			last.Aliases = append(last.Aliases, host.String)
		}
	}
	return rs, rows.Err()
}
