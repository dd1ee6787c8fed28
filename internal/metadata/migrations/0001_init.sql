-- The initial schema. It is written once for both PostgreSQL and SQLite:
-- TEXT, BIGINT, BOOLEAN and BYTEA only. In SQLite BYTEA has NUMERIC affinity,
-- which converts only TEXT values, so the byte slices bound to it are stored
-- as blobs, intact. Key columns are COLLATE "C": names and digests compare and
-- sort by their bytes whatever the database's locale (SQLite runs this with
-- COLLATE BINARY, the same order). Times are Unix nanoseconds.

CREATE TABLE registries (
    name       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    location   TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Host names (lower case, no port) that reach a registry.
CREATE TABLE registry_aliases (
    host     TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    registry TEXT COLLATE "C" NOT NULL REFERENCES registries (name)
);
CREATE INDEX registry_aliases_registry ON registry_aliases (registry);

CREATE TABLE repositories (
    registry   TEXT COLLATE "C" NOT NULL,
    name       TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (registry, name)
);

-- Blobs known to exist in a registry's blob store.
CREATE TABLE blobs (
    registry   TEXT COLLATE "C" NOT NULL,
    digest     TEXT COLLATE "C" NOT NULL,
    size       BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (registry, digest)
);

-- Which repository may read which blob.
CREATE TABLE repository_blobs (
    registry   TEXT COLLATE "C" NOT NULL,
    repository TEXT COLLATE "C" NOT NULL,
    digest     TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (registry, repository, digest)
);
CREATE INDEX repository_blobs_digest ON repository_blobs (registry, digest);

-- Manifests. subject is '' when there is none; annotations is a JSON object or
-- ''; refs is a JSON copy of the references in manifest order, so that a read
-- is one row, while manifest_references indexes them.
CREATE TABLE manifests (
    registry      TEXT COLLATE "C" NOT NULL,
    repository    TEXT COLLATE "C" NOT NULL,
    digest        TEXT COLLATE "C" NOT NULL,
    media_type    TEXT NOT NULL,
    artifact_type TEXT NOT NULL,
    subject       TEXT COLLATE "C" NOT NULL,
    annotations   TEXT NOT NULL,
    refs          TEXT NOT NULL,
    payload       BYTEA NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (registry, repository, digest)
);
CREATE INDEX manifests_subject ON manifests (registry, repository, subject, digest);

CREATE TABLE manifest_references (
    registry    TEXT COLLATE "C" NOT NULL,
    repository  TEXT COLLATE "C" NOT NULL,
    digest      TEXT COLLATE "C" NOT NULL,
    ref_digest  TEXT COLLATE "C" NOT NULL,
    is_manifest BOOLEAN NOT NULL,
    PRIMARY KEY (registry, repository, digest, ref_digest)
);
CREATE INDEX manifest_references_ref ON manifest_references (registry, ref_digest);

CREATE TABLE tags (
    registry   TEXT COLLATE "C" NOT NULL,
    repository TEXT COLLATE "C" NOT NULL,
    name       TEXT COLLATE "C" NOT NULL,
    digest     TEXT COLLATE "C" NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (registry, repository, name)
);
CREATE INDEX tags_digest ON tags (registry, repository, digest);

CREATE TABLE uploads (
    registry     TEXT COLLATE "C" NOT NULL,
    id           TEXT COLLATE "C" NOT NULL,
    repository   TEXT NOT NULL,
    offset_bytes BIGINT NOT NULL,
    algorithm    TEXT NOT NULL,
    hash_state   BYTEA,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (registry, id)
);
