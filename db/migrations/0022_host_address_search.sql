-- GET /api/hosts?q= matches the address as well as the name (the dashboard's search box, an
-- operator pasting an IP). A trigram index on address, beside the one on name, lets the planner
-- OR the two bitmap scans instead of reading the table, where pg_trgm is installed (0010).
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
    CREATE INDEX hosts_address_trgm_idx ON hosts USING gin (address gin_trgm_ops);
  END IF;
END
$$;
