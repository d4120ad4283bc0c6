import type { Config } from '../config/config.ts';
import type { Client, Pool } from '../db/pool.ts';
import { ancestorsOf, makeHostsDueNow, makeUnreachableDescendantsDue } from '../db/queries/dependencies.ts';
import { heldJobAttempts, insertCheckHistory, lockHostsForRecord, notifyChecksDone, updateCheckedHosts, type CheckWrite, type LockedHost } from '../db/queries/checks.ts';
import { clearJitJobs } from '../db/queries/jit.ts';
import { withTransaction } from '../db/transaction.ts';
import { recordCheckEffects, type RecordedCheck as IncidentInput } from '../incidents/record.ts';
import { decideOutcome, type CheckedBy, type CheckOutcome, type FinishedCheck, type ParentAtRecord } from '../machine/check-outcome.ts';
import type { HealthMachine } from '../machine/health-machine.ts';
import { PARENT_FAILING_STATES } from '../machine/states.ts';
import { transactionDb, type Boss } from './boss.ts';
import { machineFor } from '../policies/machines.ts';
import { effectivePolicyOf } from '../policies/resolve.ts';

/** The attempt of a job a worker fetched: pg-boss fences settles to it. */
export interface JobAttempt {
  id: string;
  retryCount: number;
}

/** A check job whose probes have run (or that needs no run: `finished` null), to record and settle. */
export interface JobToRecord {
  hostId: string;
  jobId: string;
  checkedBy: CheckedBy;
  queue: string;
  attempt: JobAttempt;
  /**
   * complete: this result settles its job (the job's last host, or its only one); fence: the job
   * carries other hosts still to be recorded, so the result is only fenced to the job's attempt.
   */
  settle: 'complete' | 'fence';
  finished: FinishedCheck | null;
}

export type RecordResult =
  | { recorded: true; historyId: string; outcome: CheckOutcome }
  /**
   * host_deleted: the host is gone; stale_lease: the host was leased to a newer job;
   * claim_lost: the job is no longer this worker's (pg-boss retried it elsewhere after missed heartbeats).
   */
  | { recorded: false; reason: 'host_deleted' | 'stale_lease' | 'claim_lost' };

/** A check recorded in this batch: what its incidents and events are made of. */
interface RecordedCheck extends IncidentInput {
  check: JobToRecord;
  host: LockedHost;
}

export interface RecordBatchDeps {
  pool: Pool;
  boss: Boss;
  config: Config;
  machine: HealthMachine;
}

/**
 * Records a batch of finished checks in one transaction, in this order:
 * 1. lock the hosts, in id order (concurrent batches cannot deadlock);
 * 2. settle the jobs: a job that can no longer be settled is not this worker's, and its result is
 *    dropped, so a result and its job's completion commit together or not at all;
 * 3. decide each outcome from the host row as it is now, locked (not as it was when the probe started),
 *    and from its failing ancestors (a failure behind a failing parent makes the host UNREACHABLE);
 * 4. update the hosts and 5. insert the history rows, one statement each for the whole batch;
 * 6. make due now the parents a held failure awaits, and the UNREACHABLE descendants of hosts
 *    that recovered (spread);
 * 7. clear the JIT checks' marks (host_jit_checks) and announce their results to the API requests
 *    waiting for them;
 * 8. open, update or resolve incidents and append the events (the outbox).
 * A scheduled check whose lease was taken over by a newer job is dropped, so every due time is
 * checked once. Each host may appear at most once per batch.
 */
export async function recordBatch(deps: RecordBatchDeps, checks: JobToRecord[]): Promise<RecordResult[]> {
  if (new Set(checks.map((c) => c.hostId)).size !== checks.length) throw new Error('recordBatch: a host appears twice in one batch');
  return withTransaction(deps.pool, async (tx) => {
    const hosts = await lockHostsForRecord(tx, checks.map((c) => c.hostId));
    const settled = await settleJobs(deps.boss, tx, checks);
    // Only a failure asks whether a parent is to blame (or should be checked before the failure counts);
    // parents are read as they are committed now.
    const failed = checks.filter((c) => c.finished && !c.finished.result.success && hosts.has(c.hostId)).map((c) => c.hostId);
    const parents = await ancestorsOf(tx, failed, deps.config.dependencies.maxDepth);
    const results: RecordResult[] = [];
    const recorded: RecordedCheck[] = [];
    checks.forEach((check, index) => {
      const host = hosts.get(check.hostId);
      if (!settled.has(check.jobId)) results[index] = { recorded: false, reason: 'claim_lost' };
      else if (!host) results[index] = { recorded: false, reason: 'host_deleted' };
      else if (check.checkedBy === 'scheduler' && host.lease_job_id !== check.jobId) results[index] = { recorded: false, reason: 'stale_lease' };
      else if (check.finished) recorded.push({ check, host, outcome: decideWithPolicy(deps, host, check.finished, parents.get(host.id)), historyId: '' });
      else throw new Error(`recordBatch: job ${check.jobId} of a leased host has no result`);
    });
    if (recorded.length === 0) return results;
    const writes: CheckWrite[] = recorded.map((r) => ({ ...r.outcome, hostId: r.host.id, jobId: r.check.jobId, checkedBy: r.check.checkedBy }));
    await updateCheckedHosts(tx, writes);
    const historyIds = await insertCheckHistory(tx, writes);
    for (const r of recorded) {
      r.historyId = historyIds.get(r.host.id)!;
      results[checks.indexOf(r.check)] = { recorded: true, historyId: r.historyId, outcome: r.outcome };
    }
    await makeHostsDueNow(tx, [...new Set(recorded.flatMap((r) => r.outcome.awaitingParents.map((p) => p.id)))]);
    await makeUnreachableDescendantsDue(tx, recoveredParents(recorded), deps.config.dependencies.maxDepth, deps.config.dependencies.recoverySpreadSeconds, deps.config.states.HEALTHY.priority);
    // Only JIT callers wait for a result (the API's wait=true); scheduled checks need no announcement.
    const jit = recorded.filter((r) => r.check.checkedBy === 'jit');
    await clearJitJobs(tx, jit.map((r) => ({ hostId: r.host.id, jobId: r.check.jobId })));
    await notifyChecksDone(tx, jit.map((r) => r.check.jobId));
    await recordCheckEffects(tx, recorded, deps.config);
    return results;
  });
}

/** Decides a check's outcome by the host's effective policy: its thresholds, intervals and priorities. */
function decideWithPolicy(deps: RecordBatchDeps, host: LockedHost, finished: FinishedCheck, parents: ParentAtRecord[] | undefined): CheckOutcome {
  const { policy } = effectivePolicyOf(deps.config, host);
  return decideOutcome(machineFor(policy.machine), deps.config, host, finished, parents, policy);
}

/** Hosts that left a parent-failing state with this check: whatever they kept UNREACHABLE may answer again. */
function recoveredParents(recorded: RecordedCheck[]): string[] {
  return recorded
    .filter((r) => PARENT_FAILING_STATES.includes(r.outcome.previousState) && !PARENT_FAILING_STATES.includes(r.outcome.state))
    .map((r) => r.host.id);
}

/** What pg-boss 12's settle statements report (its typings leave CommandResponse empty). */
interface SettleResponse {
  affected: number;
  settled?: string[];
}

/**
 * Settles the batch's jobs in the caller's transaction, fenced to the attempts fetched; returns
 * the ids of the jobs still this worker's. Results that leave their job open are checked first
 * (a job's other results may complete it in the same batch), then the jobs whose last result
 * this is are completed.
 */
async function settleJobs(boss: Boss, tx: Client, checks: JobToRecord[]): Promise<Set<string>> {
  const settled = new Set<string>();
  for (const [queue, attempts] of groupBy(checks.filter((c) => c.settle === 'fence'), (c) => c.queue, (c) => c.attempt)) {
    for (const id of await heldJobAttempts(tx, queue, attempts)) settled.add(id);
  }
  for (const [queue, attempts] of groupBy(checks.filter((c) => c.settle === 'complete'), (c) => c.queue, (c) => c.attempt)) {
    const response = (await boss.complete(queue, attempts, null, { db: transactionDb(tx) })) as SettleResponse;
    const ids = response.settled ?? (response.affected === attempts.length ? attempts.map((a) => a.id) : undefined);
    // Without the ids a short count cannot say which jobs are gone: throwing splits the batch.
    if (!ids) throw new Error(`settled ${response.affected} of ${attempts.length} jobs, not saying which`);
    for (const id of ids) settled.add(id);
  }
  return settled;
}

function groupBy<T, V>(items: T[], key: (t: T) => string, value: (t: T) => V): Map<string, V[]> {
  const groups = new Map<string, V[]>();
  for (const item of items) {
    const list = groups.get(key(item)) ?? [];
    list.push(value(item));
    groups.set(key(item), list);
  }
  return groups;
}
