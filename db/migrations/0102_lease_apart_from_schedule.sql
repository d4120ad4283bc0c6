-- A scheduler's claim writes only the lease: when it runs out (lease_until) and which job holds it
-- (lease_job_id). It used to move next_check_time forward by the lease instead, and every claim
-- then rewrote all thirteen indexes of the host row (next_check_time is in hosts_due_idx, and the
-- change stamp below is indexed too): a claim was as costly as recording the check. Touching
-- neither an indexed column nor the stamp, a claim is a HOT update when the row's page has room,
-- so the table keeps some free (fillfactor; pages written from now on).
-- next_check_time now stays the time the host was due while its check is on the way.
ALTER TABLE hosts ADD COLUMN lease_until timestamptz;
ALTER TABLE hosts SET (fillfactor = 75);

-- The change feed's stamp is for what a client can see changing, not for the scheduler's lease:
-- the trigger fires on updates of any column but the lease's (and the stamp itself). A column
-- added to hosts later must be added here too (test/integration/migrate.test.ts checks it).
DROP TRIGGER hosts_stamp_change ON hosts;
CREATE TRIGGER hosts_stamp_change BEFORE INSERT OR UPDATE OF
  id, name, address, probes, enabled, tags, "group", machine_snapshot, monitoring_state, consecutive_failures,
  consecutive_successes, next_check_time, check_priority, last_state_change, last_check, last_success,
  last_response_time_ms, last_error_type, last_error_message, jit_job_id, state_version, created_at, updated_at,
  ssh_host_key_sha256, maintenance, flap_changes, flap_percent, flapping, policy_id, policy_overrides,
  maintenance_window_id, probe_memory, latest_values
  ON hosts FOR EACH ROW EXECUTE FUNCTION vigil_stamp_host_change();
