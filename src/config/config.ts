import { z } from 'zod';
import { withPreviousKeys, type SecretKey } from '../credentials/cipher.ts';
import { coerceError, ConfigError } from '../lib/errors.ts';
import { parseCidr } from '../webhooks/receiver-address.ts';
import type { RemoteWriteConfig } from '../values/remote-write.ts';
import { HOST_STATES, type FlappingConfig, type HostState, type MachineConfig, type StatePolicy } from '../machine/states.ts';

/**
 * Every setting Vigil reads, from the environment. `loadConfig(env)` is pure: tests pass a literal
 * object. A bad value stops start-up with the variable's name and what is allowed.
 */

const seconds = (fallback: number) => z.coerce.number().positive().max(7 * 24 * 3600).default(fallback);
const priority = (fallback: number) => z.coerce.number().int().min(0).max(100).default(fallback);
/** 32 random bytes in base64: a secret key. */
const base64Key = z
  .string()
  .transform((v, ctx) => {
    const key = Buffer.from(v, 'base64');
    if (key.length !== 32 || key.toString('base64') !== v.replace(/\s/g, '')) {
      ctx.addIssue({ code: 'custom', message: 'must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`)' });
      return z.NEVER;
    }
    return key;
  });

/** Days rows are kept; fractions allowed (tests prune after seconds), 0 = forever. */
const retentionDays = (fallback: number, what: string) => z.coerce.number().min(0).max(36_500).default(fallback).describe(`${what}; 0 = forever`);
const DAY_MS = 24 * 60 * 60 * 1000;
const count = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback);
const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Env variable -> schema. Keys are the variable names, so errors name exactly what to fix. */
const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional()
    .describe('PostgreSQL connection URL; unset = start an embedded PostgreSQL under VIGIL_DATA_DIR'),
  VIGIL_DATA_DIR: z.string().min(1).default('.data').describe('Embedded PostgreSQL data and generated files'),
  HOST: z.string().min(1).default('127.0.0.1').describe('API listen address'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080).describe('API listen port'),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
  DATABASE_POOL_MAX: count(10, 200).describe('Connections per process for Vigil queries'),

  VIGIL_HEALTHY_INTERVAL_SECONDS: seconds(30 * 60),
  VIGIL_DEGRADED_INTERVAL_SECONDS: seconds(5 * 60),
  VIGIL_CRITICAL_INTERVAL_SECONDS: seconds(2 * 60),
  VIGIL_DOWN_INTERVAL_SECONDS: seconds(30 * 60),
  VIGIL_UNREACHABLE_INTERVAL_SECONDS: seconds(15 * 60).describe("The slow cadence of a host behind a failing parent (UNREACHABLE): no worker slot is spent more often on a host that cannot answer"),
  VIGIL_HEALTHY_PRIORITY: priority(3),
  VIGIL_DEGRADED_PRIORITY: priority(6),
  VIGIL_CRITICAL_PRIORITY: priority(9),
  VIGIL_DOWN_PRIORITY: priority(4),
  VIGIL_UNREACHABLE_PRIORITY: priority(2),
  VIGIL_JIT_PRIORITY: priority(9),
  VIGIL_DEGRADED_AFTER_FAILURES: count(1, 100),
  VIGIL_CRITICAL_AFTER_FAILURES: count(2, 100),
  VIGIL_DOWN_AFTER_FAILURES: count(3, 100),
  VIGIL_HEALTHY_AFTER_SUCCESSES: count(3, 100),
  VIGIL_DEPENDENCY_MAX_DEPTH: count(8, 32).describe('Parent levels followed (a host behind a switch behind a router is 2); deeper ancestors are ignored, and writes that make a longer chain are refused'),
  VIGIL_DEPENDENCY_RECOVERY_SPREAD_SECONDS: z.coerce.number().min(0).max(3600).default(30).describe("When a parent recovers, its UNREACHABLE children become due at once, spread over this many seconds (and admitted within their group's concurrency limit)"),
  VIGIL_FLAP_THRESHOLD_LOW: z.coerce.number().min(0).max(100).default(25).describe('A flapping host stops flapping when its weighted state-change percentage falls below this'),
  VIGIL_FLAP_THRESHOLD_HIGH: z.coerce.number().min(0).max(100).default(30).describe('A host starts flapping when its weighted state-change percentage (last 20 checks) rises above this'),

  VIGIL_PRODUCER_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  VIGIL_CLAIM_BATCH_SIZE: count(500, 10_000),
  VIGIL_CHECKS_PER_JOB: count(16, 100).describe("Scheduled checks one queue job carries (hosts due together on the same lane, at the same priority, outside any group): the queue's writes are per job, so this divides them; 1 makes a job per check"),
  VIGIL_LEASE_SECONDS: seconds(15 * 60).describe('How long a claim lasts before the scheduler looks at the host again: extended while its job is queued or running, renewed with a new job if the job is gone; at least twice VIGIL_CHECK_TIMEOUT_MS'),
  VIGIL_FIRST_CHECK_SPREAD_SECONDS: z.coerce.number().min(0).max(3600).default(5),
  VIGIL_WORKER_CONCURRENCY: count(200, 5000).describe('Checks in flight per worker process (probes mostly wait on the network; the failing lane gets VIGIL_FAILING_SHARE of them)'),
  VIGIL_CHECK_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
  VIGIL_FPING_PATH: z
    .string()
    .regex(/^\/[^\0]*$/, 'must be an absolute path to the fping executable, e.g. /usr/bin/fping')
    .default('/usr/bin/fping')
    .describe('fping executable that ICMP probes run (Debian package fping)'),
  VIGIL_WORKER_POLL_SECONDS: z.coerce.number().min(0.5).max(60).default(0.5).describe('Pause of a worker slot between fetches (pg-boss polling)'),
  VIGIL_JOB_RETRY_LIMIT: z.coerce.number().int().min(0).max(20).default(3),
  VIGIL_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(15_000),
  VIGIL_LISTEN_NOTIFY: bool(true),
  VIGIL_DISPATCH_RATE_PER_SECOND: z.coerce.number().min(0).max(1_000_000).default(0).describe('Scheduled checks dispatched per second at most; 0 = unlimited'),
  VIGIL_FAILING_SHARE: z.coerce.number().min(0).max(0.9).default(0.3).describe('Share of worker slots reserved for CRITICAL/DOWN hosts; 0 = one shared lane'),
  VIGIL_GROUP_DEFAULT_CONCURRENCY: count(1, 1000).describe('Concurrent checks per group unless the group says otherwise'),
  VIGIL_INTERVAL_JITTER: z.coerce.number().min(0).max(0.5).default(0.1).describe('Intervals vary by up to ± this fraction (at most 60 s), per host'),
  VIGIL_DELAY_THRESHOLD_SECONDS: seconds(10).describe('A check starting later than this after its due time is delayed'),
  VIGIL_JOB_HEARTBEAT_SECONDS: z.coerce.number().int().min(10).max(3600).default(10).describe("A dead worker's check is retried after this long without heartbeats"),
  VIGIL_WORKER_HEARTBEAT_SECONDS: z.coerce.number().min(0.2).max(60).default(5),
  VIGIL_WEBHOOK_CONCURRENCY: count(4, 100).describe('Webhook deliveries at once per worker process (their own slots, apart from checks)'),
  VIGIL_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000).describe('Time a receiver has to answer one delivery attempt'),
  VIGIL_WEBHOOK_RETRY_LIMIT: z.coerce.number().int().min(0).max(20).default(8).describe('Retries of a failed webhook delivery before it is marked failed'),
  VIGIL_WEBHOOK_RETRY_DELAY_SECONDS: z.coerce.number().int().min(1).max(3600).default(2).describe('First retry delay; doubles (with jitter) per retry'),
  VIGIL_WEBHOOK_RETRY_DELAY_MAX_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600).describe('Longest delay between two retries'),
  VIGIL_WEBHOOK_ALLOW_NETWORKS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((x) => x.trim()).filter((x) => x !== ''))
    .superRefine((cidrs, ctx) => {
      for (const cidr of cidrs) {
        try {
          parseCidr(cidr);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: coerceError(err).message });
        }
      }
    })
    .describe('Non-public networks webhooks may be delivered to, comma-separated CIDRs (e.g. 10.20.0.0/16); loopback, private and link-local receivers are refused otherwise'),
  VIGIL_POLICY_MIN_INTERVAL_SECONDS: z.coerce.number().positive().max(86_400).default(10).describe('Shortest check interval a check policy may set, per state'),
  VIGIL_MAINTENANCE_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1000).describe('How often the scheduler opens and closes maintenance windows (a window starts and ends within this of its time)'),
  VIGIL_PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL, e.g. https://vigil.example.com' })
    // It is the link in every notification message.
    .refine((u) => !URL.canParse(u) || (new URL(u).username === '' && new URL(u).password === ''), 'must not contain credentials (user:password@): it is the link in every notification')
    .transform((u) => u.replace(/\/+$/, ''))
    .optional()
    .describe("Base URL people open the dashboard at; notifications link to <this>/hosts/<id> (unset: http://HOST:PORT)"),
  VIGIL_NOTIFY_CONCURRENCY: count(4, 100).describe('Notification deliveries at once per worker process (their own slots; one per channel at a time)'),
  VIGIL_NOTIFY_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000).describe('Time a channel (SMTP server, Slack, Teams, PagerDuty, webhook) has to take one message'),
  VIGIL_NOTIFY_RETRY_LIMIT: z.coerce.number().int().min(0).max(20).default(8).describe('Retries of a failed notification before it is marked failed'),
  VIGIL_NOTIFY_RETRY_DELAY_SECONDS: z.coerce.number().int().min(1).max(3600).default(2).describe('First notification retry delay; doubles (with jitter) per retry'),
  VIGIL_NOTIFY_RETRY_DELAY_MAX_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600).describe('Longest delay between two notification retries'),
  VIGIL_NOTIFY_DIGEST_SECONDS: z.coerce.number().int().min(1).max(3600).default(60).describe("A channel over its rate limit sends one summary of the held notifications this long after the first was held"),
  VIGIL_SCHEDULER_STANDBY_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(2000).describe('How often a standby scheduler tries to take over'),
  VIGIL_HISTORY_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(30).describe('Days of check history kept (whole daily partitions are dropped after); 0 = forever'),
  VIGIL_EVENT_RETENTION_DAYS: retentionDays(30, 'Days events (host_events: SSE replay, webhook source) are kept; events a webhook still needs stay'),
  VIGIL_WEBHOOK_DELIVERY_RETENTION_DAYS: retentionDays(14, 'Days finished webhook deliveries (the delivery log) are kept; pending ones stay'),
  VIGIL_NOTIFY_DELIVERY_RETENTION_DAYS: retentionDays(14, 'Days finished notification deliveries (the channel delivery log) are kept; pending ones stay'),
  VIGIL_TOMBSTONE_RETENTION_DAYS: retentionDays(30, "Days the change feed remembers a deleted host; an older cursor gets 410 (list again)"),
  VIGIL_INCIDENT_RETENTION_DAYS: retentionDays(90, 'Days a resolved incident is kept after it resolved; open ones stay'),
  VIGIL_PARTITIONS_AHEAD_DAYS: z.coerce.number().int().min(1).max(365).default(3).describe('Daily history partitions created ahead of today'),
  VIGIL_INCIDENT_STATES: z
    .string()
    .default('DOWN')
    .transform((v) => [...new Set(v.split(',').map((x) => x.trim().toUpperCase()))])
    .pipe(z.array(z.enum(['DEGRADED', 'CRITICAL', 'DOWN'])).min(1))
    .describe('States that open an incident, comma-separated (e.g. CRITICAL,DOWN)'),
  VIGIL_SSE_HEARTBEAT_SECONDS: z.coerce.number().min(0.1).max(300).default(15).describe('Heartbeat comment interval on /api/events'),
  VIGIL_API_JIT_SLOTS: z.coerce.number().int().min(0).max(200).default(8).describe("JIT checks the API process runs itself, at once, so their answer never waits behind the scheduled checks that keep the workers busy; 0 = workers run them (set 0 where the API cannot reach the monitored hosts)"),
  VIGIL_WORKER_NICE: z.coerce.number().int().min(0).max(19).default(10).describe("Nice value a process running only the worker role lowers itself to, so that when checks saturate the CPU, the API, the scheduler and PostgreSQL on the same machine still get it first; 0 = unchanged"),
  VIGIL_HEAP_GROWTH_PERCENT: z.coerce.number().int().min(0).max(400).default(25).describe("How far a Vigil process lets V8's heap grow past its live data after a full collection, in percent; 0 = V8's own sizing, which on a machine with much memory lets a busy worker's heap reach several times its live data"),
  VIGIL_API_POOL_MAX: count(10, 200).describe('Connections per API process for short API queries, apart from the checking roles\' DATABASE_POOL_MAX'),
  VIGIL_STREAM_POOL_MAX: count(4, 100).describe('Connections per API process for long readers (history exports, event stream reads)'),
  VIGIL_EXPORTS_MAX: count(4, 100).describe('History exports at once per API process (each holds a stream-pool connection); beyond: 429'),
  VIGIL_EXPORTS_PER_TOKEN: count(2, 100).describe('History exports at once per token per API process; beyond: 429'),
  VIGIL_STREAM_STALL_SECONDS: seconds(30).describe('A streamed response (export, event stream) whose client reads nothing for this long is ended'),
  VIGIL_SSE_STREAMS_MAX: count(200, 100_000).describe('Open event streams per API process; beyond: 429'),
  VIGIL_SSE_STREAMS_PER_TOKEN: count(10, 100_000).describe('Open event streams per token per API process; beyond: 429'),
  VIGIL_SSE_REPLAY_MAX_EVENTS: count(10_000, 10_000_000).describe('How many event ids back a Last-Event-ID replay may start; further back the stream sends a `resync` event and follows new events'),
  VIGIL_METRICS_TOKEN: z.string().min(16).max(512).optional().describe('When set, /metrics requires Authorization: Bearer <this>'),
  VIGIL_METRICS_OPEN: bool(false).describe('Serve /metrics without a token although HOST is beyond loopback (an explicit opt-out)'),
  VIGIL_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional().describe('Serve /metrics on this port in processes without the api role'),
  // Values (src/values/): where samples go, by the Prometheus remote-write protocol.
  VIGIL_REMOTE_WRITE_URL: z
    .url({ protocol: /^https?$/ })
    // fetch refuses such a URL with an error that quotes it whole, and that error is logged.
    .refine((u) => !URL.canParse(u) || (new URL(u).username === '' && new URL(u).password === ''), 'must not contain credentials (user:password@): set VIGIL_REMOTE_WRITE_USERNAME and VIGIL_REMOTE_WRITE_PASSWORD, which are never logged')
    .optional()
    .describe('Remote-write endpoint of a Prometheus-compatible TSDB, e.g. http://victoriametrics:8428/api/v1/write; unset: values are kept as latest values and in history only'),
  VIGIL_REMOTE_WRITE_USERNAME: z.string().min(1).max(256).optional().describe('Basic-auth user for the remote-write endpoint'),
  VIGIL_REMOTE_WRITE_PASSWORD: z.string().min(1).max(1024).optional().describe('Basic-auth password for the remote-write endpoint'),
  VIGIL_REMOTE_WRITE_BEARER_TOKEN: z.string().min(1).max(4096).optional().describe('Bearer token for the remote-write endpoint (instead of basic auth)'),
  VIGIL_REMOTE_WRITE_BUFFER_SAMPLES: count(100_000, 10_000_000).describe('Samples held per worker process while the TSDB is unreachable; the oldest are dropped beyond (vigil_remote_write_dropped_samples_total)'),
  VIGIL_REMOTE_WRITE_BATCH_SAMPLES: count(2000, 100_000).describe('Most samples per remote-write request'),
  VIGIL_REMOTE_WRITE_FLUSH_MS: z.coerce.number().int().min(10).max(60_000).default(1000).describe('How often samples are sent when less than a batch is waiting'),
  VIGIL_REMOTE_WRITE_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000).describe('One remote-write request\'s time limit'),
  VIGIL_ADMIN_TOKEN: z
    .string()
    .min(32, 'must be at least 32 characters (e.g. `openssl rand -base64 32`)')
    .max(512)
    .regex(/^\S+$/, 'must not contain spaces')
    .optional()
    .describe('A token accepted with the admin scope, for automation'),
  VIGIL_JIT_RATE_PER_MINUTE: z.coerce.number().int().min(0).max(100_000).default(120).describe('JIT checks per token per minute (per API process); 0 = unlimited'),
  VIGIL_SECRET_KEY: base64Key.optional().describe('Key that encrypts stored credentials; with the embedded database a generated key file is used when unset'),
  VIGIL_SECRET_KEY_PREVIOUS: base64Key
    .optional()
    .describe('The key being rotated away from: still opens secrets sealed with it, until `vigil rekey` has re-sealed them all'),
});

export type Env = z.input<typeof envSchema>;

export interface Config {
  databaseUrl: string | undefined;
  dataDir: string;
  host: string;
  port: number;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  databasePoolMax: number;
  /** See VIGIL_HEAP_GROWTH_PERCENT; 0 = V8's default. */
  heapGrowthPercent: number;
  machine: MachineConfig;
  states: Record<HostState, StatePolicy>;
  /** Parent levels followed; see VIGIL_DEPENDENCY_MAX_DEPTH. */
  dependencies: { maxDepth: number; recoverySpreadSeconds: number };
  flapping: FlappingConfig;
  jitPriority: number;
  producer: {
    intervalMs: number;
    batchSize: number;
    /** Scheduled checks one job carries at most; see VIGIL_CHECKS_PER_JOB. */
    checksPerJob: number;
    leaseSeconds: number;
    firstCheckSpreadSeconds: number;
    /** Scheduled checks per second at most; 0 = unlimited. */
    ratePerSecond: number;
    intervalJitter: number;
    standbyPollMs: number;
  };
  worker: {
    concurrency: number;
    checkTimeoutMs: number;
    /** fping executable for ICMP probes. */
    fpingPath: string;
    pollSeconds: number;
    retryLimit: number;
    failingShare: number;
    jobHeartbeatSeconds: number;
    heartbeatSeconds: number;
    /** Nice value of a worker-only process (src/lib/cpu-priority.ts). */
    nice: number;
  };
  webhooks: {
    /** Deliveries at once per worker process. */
    concurrency: number;
    /** One attempt's limit, up to the receiver's answer. */
    timeoutMs: number;
    /** Retries after the first attempt. */
    retryLimit: number;
    /** Backoff base and cap between retries. */
    retryDelaySeconds: number;
    retryDelayMaxSeconds: number;
    /** Non-public networks (CIDRs) receivers may be in; see src/webhooks/receiver-address.ts. */
    allowNetworks: string[];
  };
  notifications: {
    /** Deliveries at once per worker process. */
    concurrency: number;
    /** One attempt's limit, up to the channel's answer. */
    timeoutMs: number;
    /** Retries after the first attempt, and the backoff base and cap between them. */
    retryLimit: number;
    retryDelaySeconds: number;
    retryDelayMaxSeconds: number;
    /** How long a digest collects held notifications before it is sent. */
    digestSeconds: number;
    /** Base of the dashboard links in messages, without a trailing slash. */
    publicUrl: string;
  };
  groupDefaultConcurrency: number;
  policies: {
    /** Floor under every interval a policy sets, in seconds. */
    minIntervalSeconds: number;
  };
  maintenance: {
    /** How often the scheduler reconciles hosts with open maintenance windows, in ms. */
    pollMs: number;
  };
  /** Retention of the growing tables, in milliseconds (0 = forever); see src/retention/bounded-tables.ts. */
  retention: { eventsMs: number; deliveriesMs: number; notificationDeliveriesMs: number; tombstonesMs: number; resolvedIncidentsMs: number };
  history: {
    /** Days of history kept: a daily partition is dropped once its whole day is older; 0 = forever. */
    retentionDays: number;
    /** Daily partitions kept ready after today. */
    partitionsAheadDays: number;
  };
  delayThresholdSeconds: number;
  shutdownGraceMs: number;
  listenNotify: boolean;
  /** Credentials encryption key (32 bytes), when given by VIGIL_SECRET_KEY. */
  secretKey: SecretKey | undefined;
  /** A token accepted as admin (VIGIL_ADMIN_TOKEN). */
  adminToken: string | undefined;
  jitRatePerMinute: number;
  incidentStates: HostState[];
  metricsToken: string | undefined;
  metricsPort: number | undefined;
  /** Where values go (VIGIL_REMOTE_WRITE_*); undefined without a URL. */
  remoteWrite: RemoteWriteConfig | undefined;
  sseHeartbeatSeconds: number;
  /** Limits on what API callers can hold: connections, long streams, replay depth. */
  apiLimits: {
    /** JIT checks the API process runs itself at once; 0 = the workers run them. */
    jitSlots: number;
    /** Short API queries' pool, per API process. */
    poolMax: number;
    /** Long readers' pool (exports, event stream reads), per API process. */
    streamPoolMax: number;
    exportsMax: number;
    exportsPerToken: number;
    /** A stream whose client takes no data for this long is ended. */
    stallMs: number;
    sseStreamsMax: number;
    sseStreamsPerToken: number;
    /** Event ids a replay may reach back; beyond, a `resync` event. */
    sseReplayMaxEvents: number;
  };
}

export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(stripEmpty(env));
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error));
  const e = parsed.data;
  const config: Config = {
    databaseUrl: e.DATABASE_URL,
    dataDir: e.VIGIL_DATA_DIR,
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    heapGrowthPercent: e.VIGIL_HEAP_GROWTH_PERCENT,
    machine: {
      degradedAfterFailures: e.VIGIL_DEGRADED_AFTER_FAILURES,
      criticalAfterFailures: e.VIGIL_CRITICAL_AFTER_FAILURES,
      downAfterFailures: e.VIGIL_DOWN_AFTER_FAILURES,
      healthyAfterSuccesses: e.VIGIL_HEALTHY_AFTER_SUCCESSES,
    },
    states: {
      HEALTHY: { intervalSeconds: e.VIGIL_HEALTHY_INTERVAL_SECONDS, priority: e.VIGIL_HEALTHY_PRIORITY },
      DEGRADED: { intervalSeconds: e.VIGIL_DEGRADED_INTERVAL_SECONDS, priority: e.VIGIL_DEGRADED_PRIORITY },
      CRITICAL: { intervalSeconds: e.VIGIL_CRITICAL_INTERVAL_SECONDS, priority: e.VIGIL_CRITICAL_PRIORITY },
      DOWN: { intervalSeconds: e.VIGIL_DOWN_INTERVAL_SECONDS, priority: e.VIGIL_DOWN_PRIORITY },
      UNREACHABLE: { intervalSeconds: e.VIGIL_UNREACHABLE_INTERVAL_SECONDS, priority: e.VIGIL_UNREACHABLE_PRIORITY },
    },
    dependencies: { maxDepth: e.VIGIL_DEPENDENCY_MAX_DEPTH, recoverySpreadSeconds: e.VIGIL_DEPENDENCY_RECOVERY_SPREAD_SECONDS },
    flapping: { lowPercent: e.VIGIL_FLAP_THRESHOLD_LOW, highPercent: e.VIGIL_FLAP_THRESHOLD_HIGH },
    jitPriority: e.VIGIL_JIT_PRIORITY,
    producer: {
      intervalMs: e.VIGIL_PRODUCER_INTERVAL_MS,
      batchSize: e.VIGIL_CLAIM_BATCH_SIZE,
      checksPerJob: e.VIGIL_CHECKS_PER_JOB,
      leaseSeconds: e.VIGIL_LEASE_SECONDS,
      firstCheckSpreadSeconds: e.VIGIL_FIRST_CHECK_SPREAD_SECONDS,
      ratePerSecond: e.VIGIL_DISPATCH_RATE_PER_SECOND,
      intervalJitter: e.VIGIL_INTERVAL_JITTER,
      standbyPollMs: e.VIGIL_SCHEDULER_STANDBY_POLL_MS,
    },
    worker: {
      concurrency: e.VIGIL_WORKER_CONCURRENCY,
      checkTimeoutMs: e.VIGIL_CHECK_TIMEOUT_MS,
      fpingPath: e.VIGIL_FPING_PATH,
      pollSeconds: e.VIGIL_WORKER_POLL_SECONDS,
      retryLimit: e.VIGIL_JOB_RETRY_LIMIT,
      failingShare: e.VIGIL_FAILING_SHARE,
      jobHeartbeatSeconds: e.VIGIL_JOB_HEARTBEAT_SECONDS,
      heartbeatSeconds: e.VIGIL_WORKER_HEARTBEAT_SECONDS,
      nice: e.VIGIL_WORKER_NICE,
    },
    webhooks: {
      concurrency: e.VIGIL_WEBHOOK_CONCURRENCY,
      timeoutMs: e.VIGIL_WEBHOOK_TIMEOUT_MS,
      retryLimit: e.VIGIL_WEBHOOK_RETRY_LIMIT,
      retryDelaySeconds: e.VIGIL_WEBHOOK_RETRY_DELAY_SECONDS,
      retryDelayMaxSeconds: e.VIGIL_WEBHOOK_RETRY_DELAY_MAX_SECONDS,
      allowNetworks: e.VIGIL_WEBHOOK_ALLOW_NETWORKS,
    },
    notifications: {
      concurrency: e.VIGIL_NOTIFY_CONCURRENCY,
      timeoutMs: e.VIGIL_NOTIFY_TIMEOUT_MS,
      retryLimit: e.VIGIL_NOTIFY_RETRY_LIMIT,
      retryDelaySeconds: e.VIGIL_NOTIFY_RETRY_DELAY_SECONDS,
      retryDelayMaxSeconds: e.VIGIL_NOTIFY_RETRY_DELAY_MAX_SECONDS,
      digestSeconds: e.VIGIL_NOTIFY_DIGEST_SECONDS,
      publicUrl: e.VIGIL_PUBLIC_URL ?? `http://${e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST}:${e.PORT}`,
    },
    groupDefaultConcurrency: e.VIGIL_GROUP_DEFAULT_CONCURRENCY,
    policies: { minIntervalSeconds: e.VIGIL_POLICY_MIN_INTERVAL_SECONDS },
    maintenance: { pollMs: e.VIGIL_MAINTENANCE_POLL_MS },
    retention: {
      eventsMs: e.VIGIL_EVENT_RETENTION_DAYS * DAY_MS,
      deliveriesMs: e.VIGIL_WEBHOOK_DELIVERY_RETENTION_DAYS * DAY_MS,
      notificationDeliveriesMs: e.VIGIL_NOTIFY_DELIVERY_RETENTION_DAYS * DAY_MS,
      tombstonesMs: e.VIGIL_TOMBSTONE_RETENTION_DAYS * DAY_MS,
      resolvedIncidentsMs: e.VIGIL_INCIDENT_RETENTION_DAYS * DAY_MS,
    },
    history: { retentionDays: e.VIGIL_HISTORY_RETENTION_DAYS, partitionsAheadDays: e.VIGIL_PARTITIONS_AHEAD_DAYS },
    delayThresholdSeconds: e.VIGIL_DELAY_THRESHOLD_SECONDS,
    shutdownGraceMs: e.VIGIL_SHUTDOWN_GRACE_MS,
    listenNotify: e.VIGIL_LISTEN_NOTIFY,
    secretKey: e.VIGIL_SECRET_KEY && withPreviousKeys(e.VIGIL_SECRET_KEY, e.VIGIL_SECRET_KEY_PREVIOUS ? [e.VIGIL_SECRET_KEY_PREVIOUS] : []),
    adminToken: e.VIGIL_ADMIN_TOKEN,
    jitRatePerMinute: e.VIGIL_JIT_RATE_PER_MINUTE,
    incidentStates: e.VIGIL_INCIDENT_STATES,
    metricsToken: e.VIGIL_METRICS_TOKEN,
    metricsPort: e.VIGIL_METRICS_PORT,
    remoteWrite: e.VIGIL_REMOTE_WRITE_URL === undefined ? undefined : {
      url: e.VIGIL_REMOTE_WRITE_URL,
      username: e.VIGIL_REMOTE_WRITE_USERNAME,
      password: e.VIGIL_REMOTE_WRITE_PASSWORD,
      bearerToken: e.VIGIL_REMOTE_WRITE_BEARER_TOKEN,
      bufferSamples: e.VIGIL_REMOTE_WRITE_BUFFER_SAMPLES,
      batchSamples: e.VIGIL_REMOTE_WRITE_BATCH_SAMPLES,
      flushIntervalMs: e.VIGIL_REMOTE_WRITE_FLUSH_MS,
      requestTimeoutMs: e.VIGIL_REMOTE_WRITE_TIMEOUT_MS,
    },
    sseHeartbeatSeconds: e.VIGIL_SSE_HEARTBEAT_SECONDS,
    apiLimits: {
      jitSlots: e.VIGIL_API_JIT_SLOTS,
      poolMax: e.VIGIL_API_POOL_MAX,
      streamPoolMax: e.VIGIL_STREAM_POOL_MAX,
      exportsMax: e.VIGIL_EXPORTS_MAX,
      exportsPerToken: e.VIGIL_EXPORTS_PER_TOKEN,
      stallMs: e.VIGIL_STREAM_STALL_SECONDS * 1000,
      sseStreamsMax: e.VIGIL_SSE_STREAMS_MAX,
      sseStreamsPerToken: e.VIGIL_SSE_STREAMS_PER_TOKEN,
      sseReplayMaxEvents: e.VIGIL_SSE_REPLAY_MAX_EVENTS,
    },
  };
  checkThresholdOrder(config.machine);
  checkFlapHysteresis(config.flapping);
  checkLeaseOutlivesCheck(config);
  checkMetricsExposure(config, e.VIGIL_METRICS_OPEN);
  return config;
}

/** An empty variable (`PORT=`) means "unset", as in most twelve-factor tools. */
function stripEmpty(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((kv): kv is [string, string] => kv[1] !== undefined && kv[1] !== ''));
}

/** Addresses only this machine can reach: listening there needs no metrics token. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * /metrics names every host, group and worker: listening beyond loopback without a token would
 * hand that inventory to anyone who can reach the port, so the operator must choose.
 */
function checkMetricsExposure(c: Config, metricsOpen: boolean): void {
  if (LOOPBACK_HOSTS.has(c.host) || c.metricsToken !== undefined || metricsOpen) return;
  throw new ConfigError(
    `HOST is ${c.host}, beyond loopback, and VIGIL_METRICS_TOKEN is not set: /metrics would be open to anyone who can reach port ${c.port}. ` +
      'Set VIGIL_METRICS_TOKEN (at least 16 characters, e.g. `openssl rand -hex 24`; scrapers send it as a bearer token), ' +
      'or VIGIL_METRICS_OPEN=true if the network is trusted.',
  );
}

function checkThresholdOrder(m: MachineConfig): void {
  if (!(m.degradedAfterFailures <= m.criticalAfterFailures && m.criticalAfterFailures <= m.downAfterFailures)) {
    throw new ConfigError(
      'VIGIL_DEGRADED_AFTER_FAILURES <= VIGIL_CRITICAL_AFTER_FAILURES <= VIGIL_DOWN_AFTER_FAILURES must hold ' +
        `(got ${m.degradedAfterFailures}, ${m.criticalAfterFailures}, ${m.downAfterFailures})`,
    );
  }
}

function checkFlapHysteresis(f: FlappingConfig): void {
  if (f.lowPercent > f.highPercent) {
    throw new ConfigError(`VIGIL_FLAP_THRESHOLD_LOW (${f.lowPercent}) must not be above VIGIL_FLAP_THRESHOLD_HIGH (${f.highPercent}): flapping starts above high and stops below low`);
  }
}

/**
 * A lease shorter than a check could expire while its check still runs: the host would be claimed
 * again and the running check recorded as stale, or, with a lease below the timeout, never
 * recorded at all. Twice the timeout leaves room for the queue and the recording.
 */
function checkLeaseOutlivesCheck(c: Config): void {
  const minimumSeconds = (2 * c.worker.checkTimeoutMs) / 1000;
  if (c.producer.leaseSeconds < minimumSeconds) {
    throw new ConfigError(
      `VIGIL_LEASE_SECONDS (${c.producer.leaseSeconds}) must be at least twice VIGIL_CHECK_TIMEOUT_MS (${c.worker.checkTimeoutMs} ms), ` +
        `i.e. at least ${minimumSeconds}: a shorter lease can run out while the check still runs. Raise the lease or lower the timeout.`,
    );
  }
}

function formatIssues(error: z.ZodError): string {
  const lines = error.issues.map((issue) => `  ${issue.path.join('.') || '(env)'}: ${issue.message}`);
  return `Invalid configuration:\n${lines.join('\n')}`;
}

/** Names and descriptions of every variable, for the README and `vigil help`. */
export const ENV_VARIABLES = Object.keys(envSchema.shape);
