-- Registry settings, credentials, scope maps, tokens, signing keys, and the
-- attributes that lock repositories, tags and manifests. Same rules as the
-- initial schema: one text for both databases, Unix-nanosecond times, key
-- columns COLLATE "C".

-- The settings of a registry; the defaults are the zero berth.Settings.
ALTER TABLE registries ADD COLUMN sku TEXT NOT NULL DEFAULT '';
ALTER TABLE registries ADD COLUMN admin_user_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE registries ADD COLUMN anonymous_pull_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE registries ADD COLUMN data_endpoint_enabled BOOLEAN NOT NULL DEFAULT FALSE;

-- Attributes: everything is enabled until someone locks it.
ALTER TABLE repositories ADD COLUMN delete_enabled BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE repositories ADD COLUMN write_enabled BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE repositories ADD COLUMN read_enabled BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE repositories ADD COLUMN list_enabled BOOLEAN NOT NULL DEFAULT TRUE;

ALTER TABLE manifests ADD COLUMN delete_enabled BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE manifests ADD COLUMN write_enabled BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE manifests ADD COLUMN read_enabled BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE manifests ADD COLUMN list_enabled BOOLEAN NOT NULL DEFAULT TRUE;

ALTER TABLE tags ADD COLUMN delete_enabled BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE tags ADD COLUMN write_enabled BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE tags ADD COLUMN read_enabled BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE tags ADD COLUMN list_enabled BOOLEAN NOT NULL DEFAULT TRUE;

-- When a tag was first pushed; updated_at is when it last moved. Tags that
-- exist already take their last move as their creation.
ALTER TABLE tags ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
UPDATE tags SET created_at = updated_at;

-- Passwords of the admin user ("admin") and of tokens ("token/<name>"), as
-- bcrypt hashes. expiry is 0 when the secret never expires. The rows of a
-- registry go with it.
CREATE TABLE secrets (
    registry   TEXT COLLATE "C" NOT NULL REFERENCES registries (name) ON DELETE CASCADE,
    owner      TEXT COLLATE "C" NOT NULL,
    name       TEXT COLLATE "C" NOT NULL,
    hash       BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    expiry     BIGINT NOT NULL,
    PRIMARY KEY (registry, owner, name)
);

-- Scope maps; actions is a JSON array of strings. Built-in maps are not
-- stored.
CREATE TABLE scope_maps (
    registry    TEXT COLLATE "C" NOT NULL REFERENCES registries (name) ON DELETE CASCADE,
    name        TEXT COLLATE "C" NOT NULL,
    description TEXT NOT NULL,
    actions     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (registry, name)
);

-- Tokens. scope_map names a stored or a built-in map, so it is no foreign key.
CREATE TABLE tokens (
    registry   TEXT COLLATE "C" NOT NULL REFERENCES registries (name) ON DELETE CASCADE,
    name       TEXT COLLATE "C" NOT NULL,
    scope_map  TEXT COLLATE "C" NOT NULL,
    enabled    BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (registry, name)
);
CREATE INDEX tokens_scope_map ON tokens (registry, scope_map, name);

-- Keys that sign bearer tokens, shared by every node of a region.
-- private_key is PKCS#8 DER; not_after is 0 while the key has no end.
CREATE TABLE signing_keys (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    private_key BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    not_after   BIGINT NOT NULL
);
CREATE INDEX signing_keys_created ON signing_keys (created_at, id);
