import type { Job } from 'pg-boss';
import type { Config } from '../config/config.ts';
import { CHECKS_QUEUED_CHANNEL } from '../db/queries/checks.ts';
import { releaseGroupSlot, tryAcquireGroupSlot } from '../db/queries/group-slots.ts';
import { anyGroupedHosts, groupLimit } from '../db/queries/groups.ts';
import { hostsToCheck, type HostToCheck } from '../db/queries/hosts.ts';
import { PgListener } from '../db/listener.ts';
import type { Pool } from '../db/pool.ts';
import type { Logger } from '../lib/logger.ts';
import { backoffMs, type Backoff } from '../lib/backoff.ts';
import { coerceError } from '../lib/errors.ts';
import { delay } from '../lib/time.ts';
import { Wakeup } from '../lib/wakeup.ts';
import type { HealthMachine } from '../machine/health-machine.ts';
import { observeCheck, type Metrics } from '../observability/metrics.ts';
import type { ResolvedCredential } from '../probes/types.ts';
import type { Boss } from './boss.ts';
import { probeTypes, type FinishedCheck } from '../machine/check-outcome.ts';
import { CLOCK_SYNC_INTERVAL_MS, DatabaseClock } from './database-clock.ts';
import { GROUP_TIERS, hostsOfJob, QUEUES, type CheckJobData, type JobHost } from './names.ts';
import type { JobAttempt } from './record-batch.ts';
import { ResultRecorder, type RecordOutcome } from './result-recorder.ts';
import { runCheck } from '../probes/run-check.ts';
import { withProbeRetries } from '../policies/probe-retries.ts';
import { effectivePolicyOf } from '../policies/resolve.ts';
import { pingerFor } from '../probes/icmp.ts';
import { saveProbeMemory } from '../db/queries/probe-memory.ts';
import type { WorkerActivity } from './worker-activity.ts';
import { valueWorkForHosts, type HostValueWork } from '../db/queries/value-templates.ts';
import { runValuesStep, type SampleSink } from '../values/check-values.ts';

/**
 * The worker role. Probes in flight are decoupled from queue round trips: each lane fetches jobs
 * in batches up to its free capacity, runs every check on its own, and hands each result to a
 * shared recorder that writes finished checks in group-committed batches, each result in the same
 * transaction as its job's completion. A fast check never waits for a slow one in its batch.
 */

export interface WorkerDeps {
  pool: Pool;
  boss: Boss;
  config: Config;
  machine: HealthMachine;
  logger: Logger;
  databaseUrl: string;
  resolveCredential?: (id: string) => Promise<ResolvedCredential | undefined>;
  /** Counts running and finished checks for the worker heartbeat. */
  activity?: WorkerActivity;
  metrics?: Metrics;
  /** Where collected values go (the remote writer); absent when no remote-write URL is set. */
  sampleSink?: SampleSink;
}

export interface CheckWorker {
  /** Stops fetching, lets checks in flight finish and be recorded (up to the grace period). */
  stop(): Promise<void>;
}

/** Checks in flight per lane: failing hosts get their share, at least one when the lane exists. */
export function laneSlots(config: Config): { normal: number; failing: number } {
  const { concurrency, failingShare } = config.worker;
  const failing = failingShare > 0 ? Math.max(1, Math.round(concurrency * failingShare)) : 0;
  return { normal: Math.max(1, concurrency - failing), failing };
}

/**
 * Starts both check lanes of this process. Group limits hold across every worker process.
 * With `jitSlots`, only one lane runs, fetching JIT checks alone (at least the JIT priority), with
 * that many slots: the API process runs it (src/runtime.ts), so a JIT answer never waits for the
 * scheduled checks that keep the workers busy.
 */
export async function startCheckWorker(deps: WorkerDeps, options: { jitSlots?: number } = {}): Promise<CheckWorker> {
  const recorder = new ResultRecorder(deps);
  const groups = new GroupPresence(deps.pool);
  await groups.refresh();
  const clock = new DatabaseClock(deps.pool);
  await clock.sync();
  const slots = laneSlots(deps.config);
  const lanes =
    options.jitSlots !== undefined
      ? [new CheckLane(deps, recorder, groups, clock, QUEUES.checks, options.jitSlots, true)]
      : [new CheckLane(deps, recorder, groups, clock, QUEUES.checks, slots.normal)];
  if (options.jitSlots === undefined && slots.failing > 0) lanes.push(new CheckLane(deps, recorder, groups, clock, QUEUES.failingChecks, slots.failing));
  // The producer and JIT requests announce new jobs, so an idle lane fetches at once instead of
  // at its next poll.
  const listener = new PgListener({
    databaseUrl: deps.databaseUrl,
    channels: [CHECKS_QUEUED_CHANNEL],
    onNotify: (_channel, payload) => {
      const [queue, kind] = payload.split(' ');
      lanes.find((l) => l.queue === queue)?.notify(kind === 'jit');
    },
    onReconnect: () => lanes.forEach((l) => l.notify()),
    logger: deps.logger,
  });
  await listener.start();
  // pg-boss retries a job whose heartbeat stops (its worker died); keep ours beating. Each job is
  // beaten once its last beat (its fetch, or the last touch) is a third of the heartbeat old, so a
  // beat is never older than half the heartbeat — as when every held job was touched every half —
  // while the many checks that end sooner are never touched: a touch is a row update per job,
  // which at thousands of checks a second was one more write per check.
  const beatMs = deps.config.worker.jobHeartbeatSeconds * 1000;
  const heartbeat = setInterval(() => lanes.forEach((l) => void l.touch(beatMs / 3)), beatMs / 6);
  const groupsTimer = setInterval(() => void groups.refresh(), GROUP_PRESENCE_REFRESH_MS);
  // A failed sync keeps the last offset: clocks do not jump between two syncs.
  const clockTimer = setInterval(() => void clock.sync().catch(() => {}), CLOCK_SYNC_INTERVAL_MS);
  for (const lane of lanes) lane.start();
  return {
    stop: async () => {
      const settled = Promise.all(lanes.map((l) => l.stop()));
      // The grace timer is cancelled once the lanes settle, or it would hold the process open for the whole grace.
      const grace = new AbortController();
      await Promise.race([settled, delay(deps.config.shutdownGraceMs, grace.signal).catch(() => {})]);
      grace.abort();
      clearInterval(heartbeat);
      clearInterval(groupsTimer);
      clearInterval(clockTimer);
      await listener.stop();
    },
  };
}

const GROUP_PRESENCE_REFRESH_MS = 5000;

/**
 * Whether any host is in a group. pg-boss's group-aware fetch counts every active job of the queue
 * on each fetch (a third of the database's fetch time under load in the benchmark), so lanes ask
 * for it only while groups exist. The group slot table stays the hard limit either way, so a group
 * created between two refreshes is still limited, its checks just wait for slots instead.
 */
class GroupPresence {
  present = true;
  private readonly pool: Pool;

  constructor(pool: Pool) {
    this.pool = pool;
  }

  async refresh(): Promise<void> {
    this.present = await anyGroupedHosts(this.pool).catch(() => this.present);
  }
}

/** A lane whose fetches fail retries after 0.5 s, 1 s, … up to 10 s. */
const FETCH_BACKOFF: Backoff = { baseMs: 500, maxMs: 10_000 };

/** How long a lane with less free capacity than a useful batch waits for more before fetching anyway. */
const LINGER_MS = 10;

/**
 * One queue's fetch loop. It fetches when it has room for a useful batch (an eighth of its
 * capacity, or whatever is free after a short linger), so under load a fetch brings many jobs;
 * after a fetch that came back short it sleeps until a notification or its poll interval.
 */
class CheckLane {
  readonly queue: string;
  private readonly capacity: number;
  private readonly deps: WorkerDeps;
  private readonly recorder: ResultRecorder;
  /** Jobs fetched and not yet settled, with the attempt fetched (settles are fenced to it). */
  private readonly held = new Map<string, JobAttempt>();
  /** When each held job's heartbeat was last refreshed in the database (fetch or touch), epoch ms. */
  private readonly beatAt = new Map<string, number>();
  /** Jobs fetched whose probes have not ended: what `capacity` limits (recording is the recorder's). */
  private probing = 0;
  private readonly wakeup = new Wakeup();
  private notified = false;
  private fetchFailures = 0;
  private jitQueued = false;
  private stopping = false;
  private loop: Promise<void> | undefined;

  private readonly groups: GroupPresence;
  private readonly clock: DatabaseClock;
  /** Fetches JIT checks only (the API's lane): scheduled jobs are the workers'. */
  private readonly jitOnly: boolean;

  constructor(deps: WorkerDeps, recorder: ResultRecorder, groups: GroupPresence, clock: DatabaseClock, queue: string, capacity: number, jitOnly = false) {
    this.deps = deps;
    this.jitOnly = jitOnly;
    this.groups = groups;
    this.clock = clock;
    this.recorder = recorder;
    this.queue = queue;
    this.capacity = capacity;
  }

  start(): void {
    this.loop = this.run();
  }

  /** New jobs were queued; a JIT check is fetched even when the lane is busy (see run). */
  notify(jit = false): void {
    if (this.jitOnly && !jit) return;
    this.notified = true;
    if (jit) this.jitQueued = true;
    this.wakeup.wake();
  }

  /** Refreshes the heartbeat of the held jobs whose last beat is at least `olderThanMs` old. */
  async touch(olderThanMs: number): Promise<void> {
    const startedAt = Date.now();
    const due = [...this.held.values()].filter((a) => startedAt - (this.beatAt.get(a.id) ?? 0) >= olderThanMs);
    if (due.length === 0) return;
    try {
      await this.deps.boss.touch(this.queue, due);
      for (const a of due) if (this.beatAt.has(a.id)) this.beatAt.set(a.id, startedAt);
    } catch (err) {
      this.deps.logger.warn('job heartbeat failed', { queue: this.queue, err: coerceError(err).message });
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeup.wake();
    await this.loop;
    while (this.held.size > 0) await this.wakeup.sleep(1000);
    await this.recorder.drained();
  }

  private async run(): Promise<void> {
    const { config } = this.deps;
    const pollMs = config.worker.pollSeconds * 1000;
    const minBatch = Math.max(1, Math.floor(this.capacity / 8));
    const jitReserve = Math.max(1, Math.floor(this.capacity / 10));
    let drained = false;
    let lastFetchAt = 0;
    while (!this.stopping) {
      // Results waiting to be recorded hold no probe, but when the database falls behind they
      // pile up: stop fetching until it catches up.
      // (Jobs left in the queue keep their priority order; results in the backlog are just late.)
      const free = this.recorder.backlog > this.capacity ? 0 : this.capacity - this.probing;
      // Someone is waiting for a JIT check: a busy lane fetches it anyway, over its capacity by at
      // most a tenth, rather than make the caller wait for a free slot.
      const overCapacity = this.probing - this.capacity;
      if (!this.jitOnly && this.jitQueued && free < minBatch && overCapacity < jitReserve) {
        this.jitQueued = false;
        await this.fetchAndCheck({ batchSize: jitReserve - Math.max(0, overCapacity), minPriority: config.jitPriority });
        continue;
      }
      const sinceFetch = Date.now() - lastFetchAt;
      const waitMs =
        free <= 0 ? pollMs
          : drained ? (this.notified ? 0 : pollMs - sinceFetch)
            : free >= minBatch || this.probing === 0 ? 0 : LINGER_MS - sinceFetch;
      if (waitMs > 0) {
        await this.wakeup.sleep(waitMs);
        continue;
      }
      this.notified = false;
      this.jitQueued = false;
      lastFetchAt = Date.now();
      // A scheduled job carries up to checksPerJob checks: ask for as many jobs as fill the free
      // slots (at least one, so a lane may run over by less than a job's worth).
      // A JIT job carries one check.
      const batchSize = this.jitOnly ? free : Math.max(1, Math.floor(free / config.producer.checksPerJob));
      const fetched = await this.fetchAndCheck(this.jitOnly ? { batchSize, minPriority: config.jitPriority } : { batchSize });
      if (fetched === undefined) {
        await this.wakeup.sleep(backoffMs(this.fetchFailures, FETCH_BACKOFF));
        continue;
      }
      drained = fetched < batchSize;
    }
  }

  /** Fetches a batch and starts its checks; returns how many jobs came, undefined when the fetch failed. */
  private async fetchAndCheck(options: { batchSize: number; minPriority?: number }): Promise<number | undefined> {
    const { config, logger } = this.deps;
    let jobs: Job<CheckJobData>[];
    const fetchStartedAt = Date.now();
    try {
      jobs = await this.deps.boss.fetch<CheckJobData>(this.queue, {
        ...options,
        ...(this.groups.present ? { groupConcurrency: { default: config.groupDefaultConcurrency, tiers: GROUP_TIERS } } : {}),
      });
      this.fetchFailures = 0;
    } catch (err) {
      this.fetchFailures++;
      if (this.fetchFailures === 1 || this.fetchFailures % 30 === 0) logger.warn('fetching check jobs failed; retrying', { queue: this.queue, err: coerceError(err).message, consecutive_failures: this.fetchFailures });
      return undefined;
    }
    // pg-boss set each fetched job's heartbeat when it handed it out; count from the fetch's start.
    for (const job of jobs) {
      this.held.set(job.id, { id: job.id, retryCount: job.retryCount });
      this.beatAt.set(job.id, fetchStartedAt);
    }
    this.probing += jobs.reduce((n, job) => n + hostsOfJob(job.data).length, 0);
    if (jobs.length > 0) void this.checkBatch(jobs);
    return jobs.length;
  }

  private async checkBatch(jobs: Job<CheckJobData>[]): Promise<void> {
    let hosts: Map<string, HostToCheck>;
    let values: Map<string, HostValueWork>;
    try {
      const ids = [...new Set(jobs.flatMap((j) => hostsOfJob(j.data).map((h) => h.host_id)))];
      [hosts, values] = await Promise.all([hostsToCheck(this.deps.pool, ids), valueWorkForHosts(this.deps.pool, ids)]);
    } catch (err) {
      // Database gone between fetch and load: hand the jobs back for a retry.
      const message = coerceError(err).message;
      this.deps.logger.warn('loading hosts for fetched checks failed; pg-boss will retry them', { queue: this.queue, jobs: jobs.length, err: message });
      const checks = jobs.reduce((n, job) => n + hostsOfJob(job.data).length, 0);
      this.deps.metrics?.checksNotRun.inc({ outcome: 'retried' }, checks);
      await this.deps.boss.fail(this.queue, jobs.map((j) => this.held.get(j.id)!), { message }).catch(() => {});
      this.probing -= checks;
      for (const job of jobs) this.release(job.id);
      return;
    }
    await Promise.all(jobs.map((job) => this.checkJob(job, hosts, values)));
  }

  /**
   * Checks every host of a job at once and records each as it finishes. The job is settled with
   * the result of the host that finishes last (recorded in order, so after the others); earlier
   * results are only fenced to the job's attempt. A host that could not be checked (Vigil's own
   * failure) fails the job once the others are recorded: pg-boss retries it, and the retry checks
   * only the hosts that still hold the job's lease — a recorded check released its host's.
   */
  private async checkJob(job: Job<CheckJobData>, hosts: Map<string, HostToCheck>, values: Map<string, HostValueWork>): Promise<void> {
    const attempt = this.held.get(job.id)!;
    const targets = hostsOfJob(job.data);
    const run = { left: targets.length, failure: undefined as string | undefined };
    try {
      await Promise.all(targets.map((t) => this.checkHost(job, attempt, t, hosts.get(t.host_id), values.get(t.host_id), run)));
      if (run.failure !== undefined) {
        this.deps.metrics?.checksNotRun.inc({ outcome: 'retried' });
        await this.deps.boss.fail(this.queue, attempt, { message: run.failure }).catch(() => {});
      }
    } finally {
      this.release(job.id);
    }
  }

  private async checkHost(
    job: Job<CheckJobData>, attempt: JobAttempt, target: JobHost, host: HostToCheck | undefined, values: HostValueWork | undefined,
    run: { left: number; failure: string | undefined },
  ): Promise<void> {
    const { host_id: hostId } = target;
    const checkedBy = job.data.checked_by;
    let finished: FinishedCheck | null = null;
    try {
      // A scheduled job whose lease moved on (the host was claimed again, or its check recorded
      // by an earlier attempt of this job) leaves the host unchecked.
      const worthChecking = host !== undefined && !(checkedBy === 'scheduler' && host.lease_job_id !== job.id);
      try {
        if (worthChecking) finished = await this.probe(job, target, host, values);
      } finally {
        this.probing--;
        this.wakeup.wake();
      }
    } catch (err) {
      // Vigil's own failure (a credential lookup, a group slot, its database), not the target's:
      // nothing is recorded against the host. pg-boss retries the job with backoff; when it gives
      // up, src/queue/check-not-run.ts reschedules the host and says so.
      const message = coerceError(err).message;
      this.deps.logger.warn('check could not be run; pg-boss will retry it', { job_id: job.id, host_id: hostId, attempt: attempt.retryCount + 1, err: message });
      run.failure ??= message;
    }
    const last = --run.left === 0;
    const settle = last && run.failure === undefined ? 'complete' : 'fence';
    // Nothing to write: no result, and the job is not settled here.
    if (finished === null && settle === 'fence') return;
    const outcome = await this.recorder.record({ hostId, jobId: job.id, checkedBy, queue: this.queue, attempt, settle, finished });
    this.report(job, hostId, host, finished, outcome);
  }

  private release(jobId: string): void {
    this.held.delete(jobId);
    this.beatAt.delete(jobId);
    this.wakeup.wake();
  }

  private async probe(job: Job<CheckJobData>, target: JobHost, host: HostToCheck, values?: HostValueWork): Promise<FinishedCheck> {
    const { deps } = this;
    const slot = host.group === null ? undefined : await holdGroupSlot(deps, host.group, job.id);
    const checkTime = this.clock.now();
    const done = deps.activity?.started();
    deps.metrics?.activeChecks.inc();
    try {
      // The host's effective policy sets its timeout and its probes' retries.
      const { policy } = effectivePolicyOf(deps.config, host);
      const startedMs = Date.now();
      let result = await runCheck(
        { address: host.address, probes: withProbeRetries(host.probes, policy.probeRetries), sshHostKeySha256: host.ssh_host_key_sha256, probeMemory: host.probe_memory },
        { timeoutMs: policy.checkTimeoutMs, resolveCredential: deps.resolveCredential, pinger: pingerFor(deps.config.worker.fpingPath) },
      );
      if (result.memory) await this.saveMemory(host.id, result.memory);
      // Values are collected within the check, in what is left of its time (src/values/).
      if (values) result = await runValuesStep({ pool: deps.pool, logger: deps.logger, resolveCredential: deps.resolveCredential, sink: deps.sampleSink, now: () => this.clock.now() }, host, values, result, policy.checkTimeoutMs - (Date.now() - startedMs));
      const lagMs = target.due_at ? Math.max(0, checkTime.getTime() - Date.parse(target.due_at)) : null;
      return { result, checkTime, checkedBy: job.data.checked_by, lagMs };
    } finally {
      done?.();
      deps.metrics?.activeChecks.dec();
      await slot?.release();
    }
  }

  /** A failed write loses one delta baseline, not the check: logged, never thrown. */
  private async saveMemory(hostId: string, memory: Record<string, unknown>): Promise<void> {
    await saveProbeMemory(this.deps.pool, hostId, memory).catch((err: unknown) =>
      this.deps.logger.warn('saving probe memory failed; the next delta starts afresh', { host_id: hostId, err: coerceError(err).message }),
    );
  }

  /** Per-check lines are debug: at thousands of checks a second, info would be a firehose. */
  private report(job: Job<CheckJobData>, hostId: string, host: HostToCheck | undefined, finished: FinishedCheck | null, outcome: RecordOutcome): void {
    const log = { host_id: hostId, job_id: job.id, checked_by: job.data.checked_by };
    if (!outcome) return;
    if (!outcome.recorded) {
      this.deps.logger.debug('check result dropped', { ...log, reason: outcome.reason });
      return;
    }
    const { result, lagMs } = finished!;
    const o = outcome.outcome;
    if (this.deps.metrics) observeCheck(this.deps.metrics, { probe: probeTypes(host!.probes), success: result.success, errorType: result.errorType, durationMs: result.responseTimeMs, lagMs });
    const line = { ...log, success: result.success, error_type: result.errorType, response_time_ms: result.responseTimeMs, monitoring_state: o.state, previous_state: o.previousState };
    if (o.changed) this.deps.logger.info('host state changed', line);
    this.deps.logger.debug('check recorded', line);
  }
}

const SLOT_WAIT_MS = 50;

/**
 * Waits for one of the group's check slots (the hard concurrency limit across all workers). pg-boss
 * already avoids fetching a full group's jobs, so a wait here is short and rare: it only covers
 * fetches that raced each other.
 */
async function holdGroupSlot(deps: WorkerDeps, group: string, jobId: string): Promise<{ release: () => Promise<void> }> {
  const limit = await groupLimit(deps.pool, group, deps.config.groupDefaultConcurrency);
  const leaseSeconds = deps.config.worker.checkTimeoutMs / 1000 + 30;
  while ((await tryAcquireGroupSlot(deps.pool, group, limit, jobId, leaseSeconds)) === null) await delay(SLOT_WAIT_MS);
  return { release: () => releaseGroupSlot(deps.pool, group, jobId).catch(() => {}) };
}
