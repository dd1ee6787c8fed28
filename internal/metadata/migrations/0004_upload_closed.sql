-- A cancelled upload session, and a completed one that had a row, keeps a
-- row marked closed, so that its id is not taken up again: sessions that
-- hold no bytes yet have no row at all, and the registry API recognises
-- their ids by their form. Closed rows are dropped once such an id would
-- have expired anyway; the partial index finds them.
ALTER TABLE uploads ADD COLUMN closed BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX uploads_closed_at ON uploads (updated_at) WHERE closed;
