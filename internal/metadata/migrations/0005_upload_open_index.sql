-- The upload sweeper looks for open sessions that nothing was written to
-- for a while, oldest first; the partial index finds them without reading
-- the closed rows that are kept for eight days.
CREATE INDEX uploads_open_at ON uploads (updated_at) WHERE NOT closed;
