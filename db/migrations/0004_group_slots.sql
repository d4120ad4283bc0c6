-- A lease-based semaphore per group: a check of a host in a group holds one of the group's
-- max_concurrent_checks slots while it runs. pg-boss's groupConcurrency filters fetches, but
-- concurrent fetches each see the same active count, so it can over-admit; these rows are the
-- hard limit across all workers. A crashed worker's slot frees itself when its lease runs out.
CREATE TABLE group_check_slots (
  group_name text NOT NULL,
  slot integer NOT NULL,
  job_id uuid,
  lease_until timestamptz,
  PRIMARY KEY (group_name, slot)
);
