-- Cheap polling (ETags, the change feed), host deletions for the feed, and indexes for the host
-- list's probe and name filters and the transitions view.

-- Every write to a host stamps the row with the id of the writing transaction, so every writer
-- (API, scheduler, workers, future ones) feeds the change feed without code of its own.
--
-- Why a transaction id and not nextval() of a sequence: a sequence value is taken when the row is
-- written but becomes visible when the transaction commits, and commits do not happen in sequence
-- order. A poller that saw 105 (committed first) and moved its cursor past it would never see 104
-- (committed a millisecond later). With transaction ids the feed only hands out rows of
-- transactions older than the oldest one still running (pg_snapshot_xmin of the reader's
-- snapshot), and every later write gets a higher id, so nothing is skipped. xid8 is the 64-bit
-- epoch-extended id: it does not wrap around.
--
-- (id, change_xid) also names one committed version of a host row exactly: the ETags use it.
--
-- Transaction ids belong to the server: after restoring a logical dump into another server, run
-- `UPDATE hosts SET name = name; UPDATE host_tombstones SET change_xid = pg_current_xact_id();`
-- once, so the stamps are this server's again (the API answers old cursors with 410).
ALTER TABLE hosts ADD COLUMN change_xid xid8;

CREATE FUNCTION vigil_stamp_host_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.change_xid := pg_current_xact_id();
  RETURN NEW;
END
$$;

CREATE TRIGGER hosts_stamp_change BEFORE INSERT OR UPDATE ON hosts
  FOR EACH ROW EXECUTE FUNCTION vigil_stamp_host_change();

UPDATE hosts SET change_xid = pg_current_xact_id();
ALTER TABLE hosts ALTER COLUMN change_xid SET NOT NULL;
CREATE INDEX hosts_change_idx ON hosts (change_xid, id);

-- Deleted hosts, so the change feed can report deletions. One small row per deleted host, kept
-- (host ids are never reused); a deleted host's history goes with it.
CREATE TABLE host_tombstones (
  host_id uuid PRIMARY KEY,
  change_xid xid8 NOT NULL,
  deleted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX host_tombstones_change_idx ON host_tombstones (change_xid, host_id);

CREATE FUNCTION vigil_record_host_deletions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO host_tombstones (host_id, change_xid) SELECT id, pg_current_xact_id() FROM gone;
  RETURN NULL;
END
$$;

CREATE TRIGGER hosts_record_deletions AFTER DELETE ON hosts
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION vigil_record_host_deletions();

-- GET /api/hosts?probe=ssh: `probes @> '[{"type":"ssh"}]'`.
CREATE INDEX hosts_probes_idx ON hosts USING gin (probes jsonb_path_ops);

-- GET /api/hosts?q=: the query is always an ILIKE substring match; a trigram index makes it an
-- index scan where pg_trgm is available and may be installed (it is a trusted extension, so the
-- database owner may). Without it the same query scans hosts, which is fine for thousands.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX hosts_name_trgm_idx ON hosts USING gin (name gin_trgm_ops);
  END IF;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'pg_trgm not installed (%): host name search scans the table', SQLERRM;
END
$$;

-- GET …/transitions: state changes are a small fraction of checks; this finds them directly.
CREATE INDEX history_transitions_idx ON host_monitoring_history (host_id, check_time DESC, id DESC)
  WHERE monitoring_state <> previous_state;
