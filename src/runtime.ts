import type { Server } from 'node:http';
import type { createApi } from './api/app.ts';
import type { Config } from './config/config.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded.ts';
import { migrate } from './db/migrate.ts';
import { createPool, lowerBackendPriority, type Pool } from './db/pool.ts';
import type { Logger } from './lib/logger.ts';
import { createHealthMachine } from './machine/health-machine.ts';
import { bootstrapAdminToken } from './auth/token-service.ts';
import { loadSecretKey, NO_SECRET_KEY_WARNING, verifySecretKey } from './credentials/secret-key.ts';
import { resolveCredential } from './credentials/store.ts';
import { startBoss, type Boss } from './queue/boss.ts';
import { CheckNotifier } from './queue/check-notifier.ts';
import { CHECK_QUEUES, QUEUES } from './queue/names.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import { startMetricsServer } from './observability/serve-metrics.ts';
import { autovacuumEnabled, flappingHosts, hostsByState, queuedByPriority } from './db/queries/introspection.ts';
import { SchedulerLeadership } from './queue/leader.ts';
import { WorkerActivity } from './queue/worker-activity.ts';
import { runWorkerHeartbeat } from './queue/worker-heartbeat.ts';
import { runProducerLoop } from './queue/producer.ts';
import { startRetention } from './queue/retention-job.ts';
import { startCheckNotRunWorker } from './queue/check-not-run.ts';
import { startCheckWorker } from './queue/worker.ts';
import { RemoteWriter } from './values/remote-write.ts';
import { runWebhookDispatchLoop } from './webhooks/dispatcher.ts';
import { runMaintenanceWindowLoop } from './maintenance/reconcile.ts';
import { ensureDeliveryQueue } from './queue/delivery-queue.ts';
import { startWebhookWorker } from './webhooks/worker.ts';
import { lowerCpuPriority } from './lib/cpu-priority.ts';
import { WorkerChild } from './worker-child.ts';
import { runNotificationDispatchLoop } from './notifications/dispatcher.ts';
import { startNotificationWorker } from './notifications/worker.ts';

export const ROLES = ['api', 'scheduler', 'worker'] as const;
export type Role = (typeof ROLES)[number];

export interface Vigil {
  /** The API's base URL, when the api role runs. */
  apiUrl?: string;
  /** An admin token created on the first start of an embedded database: print it once. */
  bootstrapToken?: string;
  databaseUrl: string;
  pool: Pool;
  metrics: Metrics;
  /** The API's own pools (short queries; long readers), when the api role runs. */
  apiPools?: { pool: Pool; streamPool: Pool };
  boss: Boss;
  /** Stops taking work, lets in-flight checks finish (up to the grace period), closes everything. */
  stop(): Promise<void>;
}

/**
 * The composition root: database (embedded when no DATABASE_URL), migrations, pg-boss, then the
 * requested roles. Every role works alone against a shared database.
 */
export async function startVigil(config: Config, roles: readonly Role[], logger: Logger): Promise<Vigil> {
  const stack: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const step of stack.reverse()) await step().catch((err) => logger.error('shutdown step failed', { err: String(err) }));
  };
  try {
    const databaseUrl = await resolveDatabase(config, logger, stack);
    const pool = createPool(databaseUrl, config.databasePoolMax);
    stack.push(() => pool.end());
    const lowered = roles.length === 1 && roles[0] === 'worker' && config.worker.nice > 0;
    if (lowered) {
      // Only a process that runs nothing else: the API and the scheduler must not be slowed with
      // it. Its database connections' server processes too, where they are on this machine.
      lowerBackendPriority(pool, config.worker.nice);
      logger.info('worker lowered its CPU priority', { nice: lowerCpuPriority(config.worker.nice) });
    }
    const applied = await migrate(pool);
    if (applied.length > 0) logger.info('applied migrations', { migrations: applied });
    if (!(await autovacuumEnabled(pool))) {
      logger.warn('autovacuum is off on this PostgreSQL server: every check leaves dead rows in hosts and pg-boss\'s job table, and without vacuuming they slow checking down over hours; turn it on');
    }
    const secretKey = await loadSecretKey(config);
    await verifySecretKey(pool, secretKey);
    if (!secretKey) logger.warn(NO_SECRET_KEY_WARNING);
    const boss = await startBoss(databaseUrl, config, logger, lowered ? config.worker.nice : 0);
    stack.push(() => boss.stop({ graceful: true, timeout: config.shutdownGraceMs }));
    if (roles.includes('scheduler') || roles.includes('worker')) {
      await ensureDeliveryQueue(boss, QUEUES.webhooks, config.webhooks);
      await ensureDeliveryQueue(boss, QUEUES.notifications, config.notifications);
    }
    const machine = createHealthMachine(config.machine);
    const metrics = createMetrics({
      hostsByState: () => hostsByState(pool),
      flappingHosts: () => flappingHosts(pool),
      queueDepth: async () =>
        (await queuedByPriority(pool, CHECK_QUEUES)).map((q) => ({ lane: q.queue === QUEUES.failingChecks ? 'failing' : 'normal', priority: q.priority, waiting: q.waiting })),
    });
    metrics.watchPool('roles', pool);
    const vigil: Vigil = { databaseUrl, pool, boss, metrics, stop };
    // The quick start works in three commands: the first embedded start mints an admin token.
    if (!config.databaseUrl && roles.includes('api')) vigil.bootstrapToken = await bootstrapAdminToken(pool);
    // Checks run in the worker role, and JIT checks in the API role too (below).
    const runsJitChecks = roles.includes('api') && config.apiLimits.jitSlots > 0;
    // Values go to the TSDB when a remote-write URL is set; stopped after the checks (the stack runs in reverse), so the last checks' samples are sent.
    const sampleSink = config.remoteWrite && (roles.includes('worker') || runsJitChecks) ? new RemoteWriter(config.remoteWrite, logger, metrics?.registry) : undefined;
    if (sampleSink) {
      sampleSink.start();
      stack.push(() => sampleSink.stop(config.shutdownGraceMs));
    }
    const checkDeps = { pool, boss, config, machine, logger, databaseUrl, metrics, sampleSink, resolveCredential: (id: string) => resolveCredential(pool, secretKey, id) };
    if (roles.includes('worker')) {
      const activity = new WorkerActivity();
      const worker = await startCheckWorker({ ...checkDeps, activity });
      runInBackground(stack, (signal) => runWorkerHeartbeat({ pool, config, logger, activity }, signal));
      // Lets in-flight checks finish and be recorded; it runs before boss.stop in the reversed stack.
      stack.push(() => worker.stop());
      stack.push(await startCheckNotRunWorker({ pool, boss, config, logger, metrics }));
      // Webhook deliveries have their own few slots, so a dead receiver never holds a check slot.
      await startWebhookWorker({ pool, boss, config, logger, secretKey, metrics });
      stack.push(() => boss.offWork(QUEUES.webhooks, { wait: true }));
      // Notifications too: their own slots, one per channel at a time (src/notifications/worker.ts).
      await startNotificationWorker({ pool, boss, config, logger, secretKey, metrics });
      stack.push(() => boss.offWork(QUEUES.notifications, { wait: true }));
    }
    if (roles.includes('scheduler')) {
      const leadership = new SchedulerLeadership(databaseUrl, logger);
      runInBackground(stack, (signal) => runProducerLoop({ pool, boss, config, logger }, leadership, signal));
      // Webhook dispatch runs only while the producer loop holds the scheduler lock (same instance).
      runInBackground(stack, (signal) => runWebhookDispatchLoop({ pool, boss, config, logger }, leadership, signal));
      // Maintenance windows open and close on their own, also only under the scheduler lock.
      runInBackground(stack, (signal) => runMaintenanceWindowLoop({ pool, config, logger }, leadership, signal));
      runInBackground(stack, (signal) => runNotificationDispatchLoop({ pool, boss, config, logger }, leadership, signal));
      // History partitions ahead and past the retention, hourly (why here: src/queue/retention-job.ts).
      stack.push(await startRetention({ pool, boss, config, logger }));
    }
    if (roles.includes('api')) {
      Object.assign(vigil, await startApi({ config, pool, boss, machine, logger, databaseUrl, secretKey, metrics }, stack));
      // JIT checks run here too, on the roles' pool: a caller's answer does not wait for a worker
      // slot or a worker's busy event loop. Workers still run them when no API does (jitSlots 0).
      if (runsJitChecks) {
        const jitLane = await startCheckWorker(checkDeps, { jitSlots: config.apiLimits.jitSlots });
        stack.push(() => jitLane.stop());
      }
    }
    else if (config.metricsPort) {
      const server = await startMetricsServer(config.metricsPort, config.host, metrics, config.metricsToken);
      stack.push(() => new Promise((resolve) => server.close(() => resolve())));
    }
    logger.info('vigil started', { roles });
    return vigil;
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * `vigil start`: the API and the scheduler in this process, the worker role in a supervised child
 * process that lowers its CPU priority (src/worker-child.ts says why). The child uses this
 * process's database, embedded or not, and its metrics are served with this process's.
 */
export async function startAllInOne(config: Config, logger: Logger): Promise<Vigil & { workerPid: () => number | undefined }> {
  const vigil = await startVigil(config, ['api', 'scheduler'], logger);
  try {
    const child = new WorkerChild({ databaseUrl: vigil.databaseUrl, secretKey: await loadSecretKey(config), graceMs: config.shutdownGraceMs, logger });
    child.start();
    vigil.metrics.addSource(() => child.metrics());
    // The worker stops first: its checks are recorded while the database (maybe embedded) still runs.
    return { ...vigil, workerPid: () => child.pid, stop: async () => { await child.stop(); await vigil.stop(); } };
  } catch (err) {
    await vigil.stop();
    throw err;
  }
}

async function resolveDatabase(config: Config, logger: Logger, stack: (() => Promise<void>)[]): Promise<string> {
  if (config.databaseUrl) return config.databaseUrl;
  logger.info('DATABASE_URL is not set: starting an embedded PostgreSQL', { data_dir: config.dataDir });
  const db: EmbeddedDatabase = await startEmbeddedPostgres(config.dataDir, undefined, undefined, (message, fields) => logger.warn(message, fields));
  stack.push(() => db.stop());
  return db.url;
}

/** Starts a loop that runs until shutdown; shutdown aborts it and waits for it to finish. */
function runInBackground(stack: (() => Promise<void>)[], loop: (signal: AbortSignal) => Promise<void>): void {
  const controller = new AbortController();
  const running = loop(controller.signal);
  stack.push(async () => {
    controller.abort();
    await running;
  });
}

async function startApi(
  { pool: _rolesPool, ...deps }: Omit<Parameters<typeof createApi>[0], 'notifier' | 'sse' | 'streamPool'> & { databaseUrl: string },
  stack: (() => Promise<void>)[],
): Promise<Pick<Vigil, 'apiUrl' | 'apiPools'>> {
  // API requests get pools of their own: however many exports, streams and queries callers start,
  // the scheduler, recorder and JIT path keep the roles' connections.
  const pool = createPool(deps.databaseUrl, deps.config.apiLimits.poolMax, 'vigil-api');
  const streamPool = createPool(deps.databaseUrl, deps.config.apiLimits.streamPoolMax, 'vigil-api-stream');
  deps.metrics?.watchPool('api', pool);
  deps.metrics?.watchPool('stream', streamPool);
  stack.push(() => Promise.all([pool.end(), streamPool.end()]).then(() => undefined));
  const notifier = new CheckNotifier(pool, deps.databaseUrl, deps.logger);
  await notifier.start();
  stack.push(() => notifier.stop());
  // Loaded only by processes that serve the API: a worker or scheduler never holds its routes,
  // schemas and OpenAPI document in memory.
  const [{ createApi }, { SseHub }] = await Promise.all([import('./api/app.ts'), import('./api/sse.ts')]);
  const sse = new SseHub({ pool, streamPool, notifier, config: deps.config, logger: deps.logger });
  const app = createApi({ ...deps, pool, streamPool, notifier, sse });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(deps.config.port, deps.config.host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  stack.push(() => closeServer(server));
  // Runs before closeServer (the stack unwinds in reverse): open event streams would hold it open.
  stack.push(async () => sse.close());
  const { port } = server.address() as { port: number };
  const host = deps.config.host.includes(':') ? `[${deps.config.host}]` : deps.config.host;
  return { apiUrl: `http://${host}:${port}`, apiPools: { pool, streamPool } };
}

/** Stops accepting connections and ends idle keep-alive ones; waits for requests in flight. */
async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await closed;
}
