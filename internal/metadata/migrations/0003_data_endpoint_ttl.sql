-- The lifetime of a registry's signed data endpoint URLs, in nanoseconds;
-- 0 means the node's default.
ALTER TABLE registries ADD COLUMN data_endpoint_url_ttl BIGINT NOT NULL DEFAULT 0;
