package metadatatest

import (
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// Times of the content SeedInitialSchema writes.
var (
	seedRegistryCreated = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	seedManifestCreated = time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	seedTagUpdated      = time.Date(2024, 1, 3, 0, 0, 0, 0, time.UTC)
)

// Content SeedInitialSchema writes.
var (
	seedLayer   = digest.FromString("old layer")
	seedPayload = []byte(`{"schemaVersion":2,"seed":"old"}`)
	seedDigest  = digest.FromBytes(seedPayload)
)

// SeedInitialSchema creates in db, an empty database, the initial schema
// (initial is the text of migration 0001 as the dialect runs it), records
// it as migration 1, and writes a registry with content as the first version
// of the store wrote it. Opening a store over db then migrates it;
// CheckUpgraded checks the result.
func SeedInitialSchema(t *testing.T, db *sql.DB, initial string) {
	t.Helper()
	ctx := t.Context()
	refs := fmt.Sprintf(`[{"digest":%q}]`, seedLayer)
	for _, st := range []struct {
		query string
		args  []any
	}{
		{`CREATE TABLE schema_migrations (
    version    BIGINT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)`, nil},
		{initial, nil},
		{`INSERT INTO schema_migrations (version, name, applied_at) VALUES (1, '0001_init.sql', $1)`,
			[]any{seedRegistryCreated.UnixNano()}},
		{`INSERT INTO registries (name, location, created_at) VALUES ('old', 'eastus', $1)`,
			[]any{seedRegistryCreated.UnixNano()}},
		{`INSERT INTO registry_aliases (host, registry) VALUES ('old.test', 'old')`, nil},
		{`INSERT INTO repositories (registry, name, created_at) VALUES ('old', 'app', $1)`,
			[]any{seedRegistryCreated.UnixNano()}},
		{`INSERT INTO blobs (registry, digest, size, created_at) VALUES ('old', $1, 9, $2)`,
			[]any{string(seedLayer), seedRegistryCreated.UnixNano()}},
		{`INSERT INTO repository_blobs (registry, repository, digest, created_at) VALUES ('old', 'app', $1, $2)`,
			[]any{string(seedLayer), seedRegistryCreated.UnixNano()}},
		{`INSERT INTO manifests
(registry, repository, digest, media_type, artifact_type, subject, annotations, refs, payload, created_at)
VALUES ('old', 'app', $1, $2, '', '', '', $3, $4, $5)`,
			[]any{string(seedDigest), imageManifest, refs, seedPayload, seedManifestCreated.UnixNano()}},
		{`INSERT INTO manifest_references (registry, repository, digest, ref_digest, is_manifest)
VALUES ('old', 'app', $1, $2, $3)`, []any{string(seedDigest), string(seedLayer), false}},
		{`INSERT INTO tags (registry, repository, name, digest, updated_at) VALUES ('old', 'app', 'v1', $1, $2)`,
			[]any{string(seedDigest), seedTagUpdated.UnixNano()}},
	} {
		if _, err := db.ExecContext(ctx, st.query, st.args...); err != nil {
			t.Fatalf("seeding the initial schema: %v\n%s", err, st.query)
		}
	}
}

// CheckUpgraded checks a store opened over a database that SeedInitialSchema
// seeded: the content is whole, every attribute is enabled, the registry has
// the zero settings, a tag's creation time is its last update, and the new
// tables work.
func CheckUpgraded(t *testing.T, s Store) {
	t.Helper()
	ctx := t.Context()
	r, err := s.RegistryByAlias(ctx, "old.test")
	must(t, err)
	if r.Name != "old" || r.Location != "eastus" || !r.CreatedAt.Equal(seedRegistryCreated) || r.Settings != (berth.Settings{}) {
		t.Fatalf("registry after the upgrade = %+v", r)
	}
	wantTag(t, s, "old", "app", "v1", seedDigest)
	m, err := s.Manifest(ctx, "old", "app", seedDigest)
	must(t, err)
	if string(m.Payload) != string(seedPayload) || len(m.References) != 1 || m.References[0].Digest != seedLayer {
		t.Fatalf("manifest after the upgrade = %+v", m)
	}
	if size, err := s.Blob(ctx, "old", "app", seedLayer); err != nil || size != 9 {
		t.Fatalf("blob after the upgrade = %d, %v", size, err)
	}

	tag, err := s.TagInfo(ctx, "old", "app", "v1")
	must(t, err)
	if tag.Attributes != berth.AllEnabled || !tag.CreatedAt.Equal(seedTagUpdated) || !tag.UpdatedAt.Equal(seedTagUpdated) {
		t.Fatalf("tag after the upgrade = %+v", tag)
	}
	mi, err := s.ManifestInfo(ctx, "old", "app", seedDigest)
	must(t, err)
	if mi.Attributes != berth.AllEnabled || !mi.CreatedAt.Equal(seedManifestCreated) || len(mi.Tags) != 1 {
		t.Fatalf("manifest info after the upgrade = %+v", mi)
	}
	repo, err := s.Repository(ctx, "old", "app")
	must(t, err)
	if repo.Attributes != berth.AllEnabled || repo.ManifestCount != 1 || repo.TagCount != 1 ||
		!repo.UpdatedAt.Equal(seedTagUpdated) {
		t.Fatalf("repository after the upgrade = %+v", repo)
	}

	must(t, s.UpdateSettings(ctx, "old", berth.Settings{SKU: berth.SKUStandard, AdminUserEnabled: true}))
	must(t, s.PutSecret(ctx, "old", berth.AdminOwner, berth.Secret{Name: "password1", Hash: []byte("h")}))
	must(t, s.SetTagAttributes(ctx, "old", "app", "v1", noDelete))
	wantDenied(t, s.DeleteManifest(ctx, "old", "app", seedDigest), `tag "v1"`, "deleteEnabled")
	must(t, s.DeleteRegistry(ctx, "old"))
	_, err = s.RegistryByAlias(ctx, "old.test")
	wantKind(t, err, berth.KindNotFound)
}
