/** pg-boss queues Vigil uses. */
export const QUEUES = {
  /** One job = one check of one host, scheduled or JIT. */
  checks: 'vigil-checks',
} as const;

/** Payload of a job on QUEUES.checks. */
export interface CheckJobData {
  host_id: string;
  checked_by: 'scheduler' | 'jit';
  /** ISO time the host was due (scheduled checks); the schedule lag is measured from it. */
  due_at?: string;
}

export const PGBOSS_SCHEMA = 'pgboss';
