import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { Logger } from './lib/logger.ts';
import { backoffMs, LOOP_BACKOFF } from './lib/backoff.ts';

/**
 * `vigil start` runs the API and the scheduler in its own process and the worker role in this
 * child process. A worker-only process lowers its CPU priority (VIGIL_WORKER_NICE), so when checks
 * saturate the machine the API keeps answering and the scheduler keeps dispatching: in one process
 * they would share the worker's event loop and its priority.
 *
 * The child is supervised: restarted with backoff if it dies, stopped (SIGTERM, then SIGKILL after
 * the grace period) before the parent stops, and it stops itself when the parent dies (its IPC
 * channel closes). Its metrics reach the API's /metrics over that channel.
 */

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** What the parent and the child say to each other over the IPC channel. */
export type WorkerChildMessage = { type: 'metrics'; id: number } | { type: 'metrics-reply'; id: number; metrics: MetricsJson };

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/** A child that dies is started again after 1 s, 2 s, … up to 30 s; one that ran a minute starts over at 1 s. */
const HEALTHY_RUN_MS = 60_000;
/** How long /metrics waits for the child's part before answering without it. */
const METRICS_TIMEOUT_MS = 2000;

export interface WorkerChildOptions {
  databaseUrl: string;
  /** The embedded database's generated key, passed on when VIGIL_SECRET_KEY is not set. */
  secretKey: Buffer | undefined;
  graceMs: number;
  logger: Logger;
}

export class WorkerChild {
  private readonly options: WorkerChildOptions;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private nextId = 0;
  private readonly replies = new Map<number, (metrics: MetricsJson | undefined) => void>();

  constructor(options: WorkerChildOptions) {
    this.options = options;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    const { databaseUrl, secretKey, logger } = this.options;
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: databaseUrl };
    if (!env.VIGIL_SECRET_KEY && secretKey) env.VIGIL_SECRET_KEY = secretKey.toString('base64');
    // The API serves /metrics for both processes; a second server on the same port would clash.
    delete env.VIGIL_METRICS_PORT;
    const startedAt = Date.now();
    const child = fork(MAIN, ['worker'], { env, stdio: 'inherit' });
    this.child = child;
    child.on('message', (m: WorkerChildMessage) => {
      if (m.type === 'metrics-reply') this.replies.get(m.id)?.(m.metrics);
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.child = undefined;
        resolve();
        if (this.stopping) return;
        this.failures = Date.now() - startedAt >= HEALTHY_RUN_MS ? 1 : this.failures + 1;
        const inMs = backoffMs(this.failures, LOOP_BACKOFF);
        logger.error('the worker process exited; restarting it', { code, signal, restart_in_ms: inMs });
        this.restartTimer = setTimeout(() => this.start(), inMs);
      });
    });
  }

  /** The child's metrics (prom-client JSON), or undefined when it is not running or does not answer in time. */
  async metrics(): Promise<MetricsJson | undefined> {
    const child = this.child;
    if (!child?.connected) return undefined;
    const id = this.nextId++;
    return new Promise((resolve) => {
      const finish = (metrics: MetricsJson | undefined) => {
        clearTimeout(timer);
        this.replies.delete(id);
        resolve(metrics);
      };
      const timer = setTimeout(() => finish(undefined), METRICS_TIMEOUT_MS);
      this.replies.set(id, finish);
      child.send({ type: 'metrics', id } satisfies WorkerChildMessage, (err) => err && finish(undefined));
    });
  }

  /** Lets the child finish its checks (it has the grace period), then kills it if it has not exited. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), this.options.graceMs + 10_000);
    await this.exited;
    clearTimeout(killer);
  }
}
