-- A host's pending JIT check is named in a table of its own, no longer in the hosts row. Writing it
-- there took the host's row lock, so a JIT request waited for any worker recording a batch that held
-- the host (up to hundreds of milliseconds when the workers saturate the CPU), and it rewrote the
-- wide hosts row and every one of its indexes for one uuid. A row here needs only a KEY SHARE lock
-- on the host (its foreign key), which the recorder's and the producer's FOR NO KEY UPDATE do not
-- block; JIT requests for one host take turns on an advisory lock (src/db/queries/jit.ts).
CREATE TABLE host_jit_checks (
  host_id uuid PRIMARY KEY REFERENCES hosts (id) ON DELETE CASCADE,
  job_id uuid NOT NULL
);

INSERT INTO host_jit_checks (host_id, job_id) SELECT id, jit_job_id FROM hosts WHERE jit_job_id IS NOT NULL;

ALTER TABLE hosts DROP COLUMN jit_job_id;
