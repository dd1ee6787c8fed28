package metadata

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"berth/internal/berth"
)

// registryColumns selects a registry and its settings joined with its
// aliases, one row per alias (one row with a NULL host when it has none),
// from registries r and registry_aliases a.
const registryColumns = `SELECT r.name, r.location, r.created_at, r.sku, r.admin_user_enabled,
r.anonymous_pull_enabled, r.data_endpoint_enabled, r.data_endpoint_url_ttl, a.host FROM `

// CreateRegistry records r with its settings and aliases; KindExists if the
// name, or one of the aliases, is taken. Aliases are host names, compared without regard to
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
	return s.update(ctx, op, func(ctx context.Context, tx *wtx) error {
		n, err := rowsAffected(tx.ExecContext(ctx,
			`INSERT INTO registries (name, location, created_at, sku, admin_user_enabled,
anonymous_pull_enabled, data_endpoint_enabled, data_endpoint_url_ttl) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (name) DO NOTHING`, r.Name, r.Location, nanos(r.CreatedAt), string(r.SKU),
			r.AdminUserEnabled, r.AnonymousPullEnabled, r.DataEndpointEnabled, int64(r.DataEndpointURLTTL)))
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
			sku     string
			host    sql.NullString
		)
		var ttl int64
		if err := rows.Scan(&r.Name, &r.Location, &created, &sku, &r.AdminUserEnabled,
			&r.AnonymousPullEnabled, &r.DataEndpointEnabled, &ttl, &host); err != nil {
			return nil, err
		}
		r.DataEndpointURLTTL = time.Duration(ttl)
		if len(rs) == 0 || rs[len(rs)-1].Name != r.Name {
			r.CreatedAt = fromNanos(created)
			r.SKU = berth.SKU(sku)
			rs = append(rs, r)
		}
		if host.Valid {
			last := &rs[len(rs)-1]
			last.Aliases = append(last.Aliases, host.String)
		}
	}
	return rs, rows.Err()
}

// UpdateSettings replaces the settings of a registry; KindNotFound if there
// is no such registry. Name, location, aliases and creation time stay.
func (s *Store) UpdateSettings(ctx context.Context, registry string, st berth.Settings) error {
	const op = "metadata.UpdateSettings"
	n, err := rowsAffected(s.write.ExecContext(s.detached(ctx), `UPDATE registries
SET sku = $1, admin_user_enabled = $2, anonymous_pull_enabled = $3, data_endpoint_enabled = $4,
data_endpoint_url_ttl = $5
WHERE name = $6`, string(st.SKU), st.AdminUserEnabled, st.AnonymousPullEnabled, st.DataEndpointEnabled,
		int64(st.DataEndpointURLTTL), registry))
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return berth.E(op, berth.KindNotFound, "registry %q not found", registry)
	}
	return nil
}
