-- The host list's search indexes, moved off the row every check writes.
--
-- Every check updates its host row twice (the claim's lease and the record), and neither update
-- can be HOT (next_check_time and the change stamp are indexed), so each wrote an entry into
-- every index of hosts: four of them GIN (name and address trigrams, probes, tags), some twenty
-- to forty entries a row. On the benchmark (2x demand, pg_stat_statements) dropping those four
-- halved both updates: the record's from 123 to 54 us a row, the claim's from 129 to 63, and the
-- WAL they wrote from 436 to 155 MB. Search needs these columns indexed, not the check path, so
-- they live in host_search: written when a host is created and when one of them changes
-- (a trigger, so every writer keeps it without code of its own), never by a check.
CREATE TABLE host_search (
  host_id uuid PRIMARY KEY REFERENCES hosts (id) ON DELETE CASCADE,
  name text NOT NULL,
  address text NOT NULL,
  -- The types of the host's probes: the list's `probe=` filter needs nothing else of them.
  probe_types text[] NOT NULL,
  tags text[] NOT NULL
);

CREATE FUNCTION vigil_probe_types(probes jsonb) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT COALESCE(array_agg(DISTINCT p ->> 'type') FILTER (WHERE p ->> 'type' IS NOT NULL), '{}') FROM jsonb_array_elements(probes) AS p
$$;

CREATE FUNCTION vigil_add_host_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO host_search (host_id, name, address, probe_types, tags)
  SELECT id, name, address, vigil_probe_types(probes), tags FROM added;
  RETURN NULL;
END
$$;

-- Statement-level with a transition table: a bulk import of thousands of hosts is one insert here.
CREATE TRIGGER hosts_add_search AFTER INSERT ON hosts
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION vigil_add_host_search();

CREATE FUNCTION vigil_update_host_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE host_search SET name = NEW.name, address = NEW.address, probe_types = vigil_probe_types(NEW.probes), tags = NEW.tags
   WHERE host_id = NEW.id;
  RETURN NULL;
END
$$;

-- Row-level, and only when a searched column changed: the check path's updates never name these
-- columns, so the trigger costs them nothing (PostgreSQL skips an UPDATE OF trigger whose
-- columns are not in the SET list).
CREATE TRIGGER hosts_update_search AFTER UPDATE OF name, address, probes, tags ON hosts
  FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.address IS DISTINCT FROM NEW.address
                     OR OLD.probes IS DISTINCT FROM NEW.probes OR OLD.tags IS DISTINCT FROM NEW.tags)
  EXECUTE FUNCTION vigil_update_host_search();

INSERT INTO host_search (host_id, name, address, probe_types, tags)
SELECT id, name, address, vigil_probe_types(probes), tags FROM hosts;

DROP INDEX IF EXISTS hosts_name_trgm_idx;
DROP INDEX IF EXISTS hosts_address_trgm_idx;
DROP INDEX hosts_probes_idx;
DROP INDEX hosts_tags_idx;

-- GET /api/hosts?probe= and ?tag=, and maintenance windows applied by tag.
CREATE INDEX host_search_probe_types_idx ON host_search USING gin (probe_types);
CREATE INDEX host_search_tags_idx ON host_search USING gin (tags);

-- GET /api/hosts?q=: ILIKE on name or address, a trigram index each where pg_trgm is installed
-- (0010 installs it when it may).
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
    CREATE INDEX host_search_name_trgm_idx ON host_search USING gin (name gin_trgm_ops);
    CREATE INDEX host_search_address_trgm_idx ON host_search USING gin (address gin_trgm_ops);
  END IF;
END
$$;
