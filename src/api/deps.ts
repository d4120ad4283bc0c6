import type { Config } from '../config/config.ts';
import type { Pool } from '../db/pool.ts';
import type { Logger } from '../lib/logger.ts';
import type { HealthMachine } from '../machine/health-machine.ts';
import type { Boss } from '../queue/boss.ts';
import type { CheckNotifier } from '../queue/check-notifier.ts';
import type { SseHub } from './sse.ts';
import type { Metrics } from '../observability/metrics.ts';

/** What the API's handlers need; built once by the composition root. */
export interface ApiDeps {
  config: Config;
  /** Short API queries: a pool of the API's own (VIGIL_API_POOL_MAX), so no request takes a checking role's connection. */
  pool: Pool;
  /** Long readers (exports, event stream reads): a small pool of their own (VIGIL_STREAM_POOL_MAX). */
  streamPool: Pool;
  boss: Boss;
  machine: HealthMachine;
  notifier: CheckNotifier;
  /** Open Server-Sent Event streams (ended at shutdown). */
  sse: SseHub;
  /** This process's Prometheus metrics, served at /metrics. */
  metrics?: Metrics;
  logger: Logger;
  /** Encrypts and decrypts credentials; undefined when none is configured. */
  secretKey: Buffer | undefined;
}
