import type { Config } from '../config/config.ts';
import type { Pool } from '../db/pool.ts';
import { isDatabaseUnavailable } from '../db/sqlstate.ts';
import { coerceError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { delay } from '../lib/time.ts';
import type { HealthMachine } from '../machine/health-machine.ts';
import type { Boss } from './boss.ts';
import { recordBatch, type JobToRecord, type RecordResult } from './record-batch.ts';

/** undefined: the check could not be recorded and its job was failed, for pg-boss to retry. */
export type RecordOutcome = RecordResult | undefined;

interface Pending {
  job: JobToRecord;
  resolve: (outcome: RecordOutcome) => void;
}

export interface RecorderDeps {
  pool: Pool;
  boss: Boss;
  config: Config;
  machine: HealthMachine;
  logger: Logger;
}

/** Largest batch of results written in one transaction. */
export const MAX_RECORD_BATCH = 250;

/**
 * Records finished checks with group commit: while one batch's transaction runs, results that
 * finish meanwhile queue up and go together in the next one. At low load each result is written
 * at once; under load a transaction carries hundreds (one host update, one history insert and one
 * job completion statement for all of them), which is what lets a worker record thousands of
 * checks a second. A result is settled with its job in the same transaction.
 */
export class ResultRecorder {
  private readonly pending: Pending[] = [];
  private running: Promise<void> | undefined;
  private readonly deps: RecorderDeps;
  private unavailableSince: number | undefined;
  private writing = 0;
  private express: Promise<void> | undefined;

  constructor(deps: RecorderDeps) {
    this.deps = deps;
  }

  /** Results handed in and not yet written. */
  get backlog(): number {
    return this.pending.length + this.writing;
  }

  record(job: JobToRecord): Promise<RecordOutcome> {
    return new Promise((resolve) => {
      this.pending.push({ job, resolve });
      this.kick();
    });
  }

  /** Resolves once everything handed in so far is written (or given up on). */
  async drained(): Promise<void> {
    while (this.running || this.express) await Promise.all([this.running, this.express]);
  }

  private kick(): void {
    if (!this.running) {
      this.running = this.drain().finally(() => {
        this.running = undefined;
        if (this.pending.length > 0) this.kick();
      });
    } else if (!this.express && this.pending.some((p) => p.job.checkedBy === 'jit')) {
      // Someone waits for a JIT result: write it in a small transaction of its own rather than
      // after the large batch in progress (and the next one).
      this.express = this.flush(takeBatch(this.pending, MAX_RECORD_BATCH, true)).finally(() => {
        this.express = undefined;
        if (this.pending.length > 0) this.kick();
      });
    }
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = takeBatch(this.pending, MAX_RECORD_BATCH);
      this.writing = batch.length;
      await this.flush(batch);
      this.writing = 0;
    }
  }

  private async flush(batch: Pending[]): Promise<void> {
    try {
      const results = await recordBatch(this.deps, batch.map((p) => p.job));
      if (this.unavailableSince !== undefined) this.deps.logger.info('recording check results again', { after_ms: Date.now() - this.unavailableSince });
      this.unavailableSince = undefined;
      batch.forEach((p, i) => p.resolve(results[i]));
    } catch (err) {
      if (isDatabaseUnavailable(err)) {
        // Keep the results and try again: if the outage outlasts the jobs' heartbeats, pg-boss
        // hands the jobs to another worker and settling ours then finds them gone (claim_lost).
        if (this.unavailableSince === undefined) this.deps.logger.warn('database unavailable; holding check results', { err: coerceError(err).message, results: batch.length });
        this.unavailableSince ??= Date.now();
        this.pending.unshift(...batch);
        await delay(1000);
      } else if (batch.length > 1) {
        // One bad result must not sink the others: record them one by one to find it.
        for (const p of batch) await this.flush([p]);
      } else {
        const { job, resolve } = batch[0]!;
        this.deps.logger.warn('check result could not be recorded; pg-boss will retry the job', { job_id: job.jobId, host_id: job.hostId, err: coerceError(err).message });
        await this.deps.boss.fail(job.queue, job.attempt, { message: coerceError(err).message }).catch(() => {});
        resolve(undefined);
      }
    }
  }
}

/**
 * Up to `max` pending results, one per host (a second result for a host waits for the next batch),
 * JIT results first (or only): someone is waiting for those. A result left waiting holds back the
 * later results of its job, so the one that completes the job is never written before the others.
 */
function takeBatch(pending: Pending[], max: number, jitOnly = false): Pending[] {
  const hosts = new Set<string>();
  const taken = new Set<Pending>();
  const heldBack = new Set<string>();
  for (const jitFirst of jitOnly ? [true] : [true, false]) {
    for (const p of pending) {
      if ((p.job.checkedBy === 'jit') !== jitFirst) continue;
      if (taken.size >= max || hosts.has(p.job.hostId) || heldBack.has(p.job.jobId)) {
        heldBack.add(p.job.jobId);
        continue;
      }
      hosts.add(p.job.hostId);
      taken.add(p);
    }
  }
  const rest = pending.filter((p) => !taken.has(p));
  pending.splice(0, pending.length, ...rest);
  return [...taken];
}
