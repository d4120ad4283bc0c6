import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { PROBE_TYPES, type ProbeMix } from './fleet-plan.ts';

/**
 * The benchmark's command line: node:util parseArgs for the syntax, zod for the values. A bad
 * option is a {@link BenchUsageError}; bench/run.ts prints it with the usage and exits 2.
 */

export const USAGE = `usage: npm run bench -- [options]

  --hosts N               simulated hosts registered and checked (default 10000)
  --duration S            measured window, seconds, after the warm-up (default 60)
  --warmup S              seconds of scheduled load before the window (default 15)
  --workers N             Vigil worker processes (default: one per core)
  --concurrency N         checks in flight per worker process, VIGIL_WORKER_CONCURRENCY (default 200)
  --interval S            check interval of every state, seconds (default 5)
  --timeout-ms MS         check timeout, VIGIL_CHECK_TIMEOUT_MS (default 2000)
  --failing-share F       share of hosts that fail: refused, never answering, HTTP 500 (default 0.1)
  --slow-share F          share of HTTP hosts answering after --slow-ms (default 0.05)
  --slow-ms MS            delay of the slow HTTP answers (default 300)
  --probe-mix MIX         e.g. http=0.65,tcp=0.25,ssh=0.025,snmp=0.025,dns=0.025,icmp=0.025 (the default; normalised)
  --jit-rate R            JIT checks (wait=true) per second during the window (default 5)
  --state-rate R          host state reads per second during the window (default 50)
  --baseline-duration S   seconds of the raw probe loop (default 20)
  --scale-hosts A,B       host counts of the scale pass (default 10000,100000)
  --outage-hosts N        hosts behind the gateway in the mass-outage pass (default 2000)
  --outage-seconds S      how long the gateway stays down in that pass (default 60)
  --fleet-hosts N         hosts of the large-fleet pass, on the seed's intervals; 0 skips it (default 100000)
  --fleet-seconds S       that pass's measured window (default 600)
  --fleet-failing-share F share of that fleet failing (default 0.05)
  --cpu-prof              write V8 CPU profiles of the worker processes to bench/results/prof (the API's to prof/api)
  --results-dir DIR       where the JSON report goes (default bench/results)
  --smoke                 a few seconds on a small fleet (200 hosts, scale pass 2000,5000), for CI
  -h, --help              this text

PostgreSQL: the server in DATABASE_URL when set (a database vigil_bench_<pid> is created and
dropped), else an embedded one in a temporary directory. Exit status: 0 done, 1 failed, 2 bad options.`;

export class BenchUsageError extends Error {}

const positive = (max: number) => z.coerce.number().positive().max(max);
const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const share = z.coerce.number().min(0).max(1);
const rate = z.coerce.number().min(0).max(1000);

const optionsSchema = z
  .object({
    hosts: integer(10, 200_000),
    duration: positive(3600),
    warmup: z.coerce.number().min(0).max(3600),
    workers: integer(1, 32),
    concurrency: integer(1, 5000),
    interval: positive(3600),
    timeoutMs: integer(100, 60_000),
    failingShare: share,
    slowShare: share,
    slowMs: integer(1, 60_000),
    probeMix: z.string().transform((text, ctx) => parseProbeMix(text, ctx)),
    jitRate: rate,
    stateRate: rate,
    baselineDuration: positive(3600),
    scaleHosts: z
      .string()
      .transform((text) => text.split(',').map((n) => Number(n.trim())))
      .pipe(z.array(z.number().int().min(100).max(1_000_000)).min(2).max(5))
      .refine((sizes) => sizes.every((n, i) => i === 0 || n > sizes[i - 1]!), 'sizes must be ascending, e.g. 10000,100000'),
    outageHosts: integer(10, 100_000),
    outageSeconds: positive(3600),
    fleetHosts: integer(0, 1_000_000),
    fleetSeconds: positive(7200),
    fleetFailingShare: share,
    cpuProf: z.boolean(),
    resultsDir: z.string().min(1),
    smoke: z.boolean(),
  })
  .refine((o) => o.failingShare + o.slowShare <= 1, { message: 'failing-share + slow-share must not exceed 1', path: ['slowShare'] })
  .refine((o) => o.timeoutMs < o.interval * 1000 * 10, { message: 'must be well below 10 intervals', path: ['timeoutMs'] });

export type BenchOptions = z.infer<typeof optionsSchema>;

const DEFAULTS = {
  hosts: '10000',
  duration: '60',
  warmup: '15',
  workers: String(availableParallelism()),
  concurrency: '200',
  interval: '5',
  timeoutMs: '2000',
  failingShare: '0.1',
  slowShare: '0.05',
  slowMs: '300',
  probeMix: 'http=0.65,tcp=0.25,ssh=0.025,snmp=0.025,dns=0.025,icmp=0.025',
  jitRate: '5',
  stateRate: '50',
  baselineDuration: '20',
  scaleHosts: '10000,100000',
  outageHosts: '2000',
  outageSeconds: '60',
  fleetHosts: '100000',
  fleetSeconds: '600',
  fleetFailingShare: '0.05',
  resultsDir: 'bench/results',
};

/** --smoke: CI keeps the harness working in well under a minute; explicit options still win. */
const SMOKE_DEFAULTS: Partial<typeof DEFAULTS> = {
  hosts: '200',
  duration: '3',
  warmup: '2',
  interval: '2',
  jitRate: '2',
  stateRate: '10',
  baselineDuration: '2',
  scaleHosts: '2000,5000',
  outageHosts: '100',
  outageSeconds: '10',
  fleetHosts: '2000',
  fleetSeconds: '10',
};

const FLAGS = {
  hosts: 'hosts',
  duration: 'duration',
  warmup: 'warmup',
  workers: 'workers',
  concurrency: 'concurrency',
  interval: 'interval',
  timeoutMs: 'timeout-ms',
  failingShare: 'failing-share',
  slowShare: 'slow-share',
  slowMs: 'slow-ms',
  probeMix: 'probe-mix',
  jitRate: 'jit-rate',
  stateRate: 'state-rate',
  baselineDuration: 'baseline-duration',
  scaleHosts: 'scale-hosts',
  outageHosts: 'outage-hosts',
  outageSeconds: 'outage-seconds',
  fleetHosts: 'fleet-hosts',
  fleetSeconds: 'fleet-seconds',
  fleetFailingShare: 'fleet-failing-share',
  resultsDir: 'results-dir',
} as const satisfies Record<keyof typeof DEFAULTS, string>;

/** Parses argv (without node and the script); undefined means --help was asked for. */
export function parseBenchOptions(argv: string[]): BenchOptions | undefined {
  const values = parseFlags(argv).values as Record<string, string | boolean | undefined>;
  if (values.help) return undefined;
  const smoke = values.smoke === true;
  const raw: Record<string, unknown> = { cpuProf: values['cpu-prof'] === true, smoke };
  for (const [key, flag] of Object.entries(FLAGS) as [keyof typeof DEFAULTS, string][]) {
    raw[key] = values[flag] ?? (smoke ? SMOKE_DEFAULTS[key] : undefined) ?? DEFAULTS[key];
  }
  const parsed = optionsSchema.safeParse(raw);
  if (!parsed.success) throw new BenchUsageError(parsed.error.issues.map((i) => `--${flagOf(i.path[0])}: ${i.message}`).join('\n'));
  return parsed.data;
}

function parseFlags(argv: string[]) {
  const stringFlags = Object.fromEntries(Object.values(FLAGS).map((f) => [f, { type: 'string' as const }]));
  try {
    return parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: { ...stringFlags, smoke: { type: 'boolean' }, 'cpu-prof': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    throw new BenchUsageError((err as Error).message);
  }
}

function flagOf(key: PropertyKey | undefined): string {
  return FLAGS[key as keyof typeof FLAGS] ?? String(key);
}

function parseProbeMix(text: string, ctx: z.RefinementCtx): ProbeMix {
  const mix: ProbeMix = { http: 0, tcp: 0, ssh: 0, snmp: 0, dns: 0, icmp: 0 };
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [type, value] = part.split('=');
    const share = Number(value);
    if (!(PROBE_TYPES as readonly string[]).includes(type ?? '') || !Number.isFinite(share) || share < 0) {
      ctx.addIssue({ code: 'custom', message: `"${part}" is not TYPE=SHARE with TYPE one of ${PROBE_TYPES.join(', ')}` });
      return z.NEVER;
    }
    mix[type as keyof ProbeMix] = share;
  }
  const total = Object.values(mix).reduce((a, b) => a + b, 0);
  if (total <= 0) {
    ctx.addIssue({ code: 'custom', message: 'needs at least one positive share, e.g. http=1' });
    return z.NEVER;
  }
  return Object.fromEntries(Object.entries(mix).map(([k, v]) => [k, v / total])) as ProbeMix;
}
