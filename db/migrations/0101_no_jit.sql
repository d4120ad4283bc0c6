-- PostgreSQL's JIT compiler off for Vigil's database. Every statement Vigil runs is short, but
-- where the planner's statistics are missing or stale (a freshly loaded table, a server with
-- autovacuum off) its estimates run into the millions and cross jit_above_cost: the recorder's
-- recovery walk (an empty result) then took 520 ms, 509 ms of it compiling, inside the record
-- transaction, holding its hosts' locks. Set on the database so every connection gets it, pg-boss's
-- and PgBouncer's included; only the database's owner (or a superuser) may, so a Vigil running
-- as another role keeps the server's setting and says nothing here.
DO $$
BEGIN
  EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'jit left as the server sets it: only the owner of database % may change it', current_database();
END
$$;
-- This session too (the one migrating): the database's setting applies to connections made after it.
SET jit = off;
