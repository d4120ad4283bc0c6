/**
 * ICMP echo through Debian's fping, batched: pings asked for within a few milliseconds of each
 * other with the same settings share one fping process (as Zabbix does), so a thousand hosts
 * due together cost a handful of processes, not a thousand. Node has no raw sockets; fping does
 * the ICMP (as root, or unprivileged through the cap_net_raw file capability Debian's package
 * sets — see docs/operations.md).
 */
import { spawn } from 'node:child_process';

/** Settings that must be equal for two pings to share a process. */
export interface PingSettings {
  /** Echo requests per target (fping -C). */
  count: number;
  /** Milliseconds between requests to one target (fping -p). */
  intervalMs: number;
  /** Milliseconds to wait for each reply (fping -t). */
  replyTimeoutMs: number;
}

export interface PingStats {
  sent: number;
  received: number;
  /** Round-trip times of the replies, in milliseconds; null for each lost request. */
  rttsMs: (number | null)[];
}

export type PingOutcome = PingStats | { error: string };

export interface PingerOptions {
  /** The fping executable, or a command line whose last words run it (tests use a network namespace). */
  command: readonly string[];
  /** How long a batch waits for more targets before its process starts, in milliseconds. */
  batchWindowMs?: number;
  /** Most targets in one fping process. */
  maxBatchTargets?: number;
}

interface Waiter {
  resolve: (outcome: PingOutcome) => void;
}

interface Batch {
  settings: PingSettings;
  /** Target IP -> everyone waiting for it (two hosts can share an address). */
  waiters: Map<string, Waiter[]>;
  timer: NodeJS.Timeout;
}

const DEFAULT_WINDOW_MS = 5;
/**
 * fping sends one request per millisecond across its targets (-i 1, allowed unprivileged too):
 * capping a process at this many requests keeps its send spread to a quarter second, which the
 * probe reserves from its budget (BATCH_SPREAD_MS).
 */
const MAX_PINGS_PER_PROCESS = 250;
export const BATCH_SPREAD_MS = MAX_PINGS_PER_PROCESS;
const DEFAULT_MAX_TARGETS = 1000;
/** fping's own output is a line per target; more than this from one process is not fping's. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

export class Pinger {
  readonly #options: Required<PingerOptions>;
  readonly #open = new Map<string, Batch>();
  readonly #running = new Set<ReturnType<typeof spawn>>();
  #launched = 0;

  constructor(options: PingerOptions) {
    this.#options = { batchWindowMs: DEFAULT_WINDOW_MS, maxBatchTargets: DEFAULT_MAX_TARGETS, ...options };
  }

  /** Pings one IP address; resolves when fping reports it (never rejects). Abort gives up waiting, not the batch. */
  ping(ip: string, settings: PingSettings, signal: AbortSignal): Promise<PingOutcome> {
    return new Promise((resolve) => {
      const waiter: Waiter = { resolve };
      const onAbort = () => resolve({ error: 'aborted' });
      signal.addEventListener('abort', onAbort, { once: true });
      waiter.resolve = (outcome) => {
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      this.#enqueue(ip, settings, waiter);
    });
  }

  /** fping processes started so far (for tests and the benchmark's cost per check). */
  get launchedProcesses(): number {
    return this.#launched;
  }

  /** fping processes running now (for tests and the benchmark). */
  get runningProcesses(): number {
    return this.#running.size;
  }

  #enqueue(ip: string, settings: PingSettings, waiter: Waiter): void {
    const key = `${settings.count}/${settings.intervalMs}/${settings.replyTimeoutMs}`;
    let batch = this.#open.get(key);
    if (!batch) {
      batch = { settings, waiters: new Map(), timer: setTimeout(() => this.#launch(key), this.#options.batchWindowMs) };
      this.#open.set(key, batch);
    }
    batch.waiters.set(ip, [...(batch.waiters.get(ip) ?? []), waiter]);
    if (batch.waiters.size >= Math.min(this.#options.maxBatchTargets, Math.max(1, Math.floor(MAX_PINGS_PER_PROCESS / settings.count)))) {
      clearTimeout(batch.timer);
      this.#launch(key);
    }
  }

  #launch(key: string): void {
    const batch = this.#open.get(key);
    if (!batch) return;
    this.#open.delete(key);
    const { settings } = batch;
    const [file, ...prefix] = this.#options.command;
    // -q: only the per-target summary; -C: every RTT of every target; -i 1: 1 ms between any two
    // requests (fping's default 10 ms makes a big batch slow); -r 0: no retries (count already
    // repeats); -B 1: no backoff, so the wait per reply is exactly -t.
    const args = [
      ...prefix,
      ...['-q', '-C', String(settings.count), '-p', String(settings.intervalMs), '-i', '1', '-t', String(settings.replyTimeoutMs), '-r', '0', '-B', '1'],
      ...batch.waiters.keys(),
    ];
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      return settle(batch, () => ({ error: `cannot run fping: ${err instanceof Error ? err.message : String(err)}` }));
    }
    this.#running.add(child);
    this.#launched++;
    let output = '';
    const collect = (chunk: Buffer) => {
      if (output.length < MAX_OUTPUT_BYTES) output += chunk.toString();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('error', (err) => (output += `\nfping: ${err.message}`));
    // fping ends by itself after (count - 1) × interval + timeout per target; this bounds a stuck one.
    const killAfterMs = (settings.count - 1) * settings.intervalMs + BATCH_SPREAD_MS + settings.replyTimeoutMs + 5_000;
    const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.once('close', (code, signal) => {
      clearTimeout(killer);
      this.#running.delete(child);
      const results = parseFpingOutput(output, settings.count);
      settle(batch, (ip) => results.get(ip) ?? { error: describeSilence(output, code, signal) });
    });
  }
}

function settle(batch: Batch, outcomeOf: (ip: string) => PingOutcome): void {
  for (const [ip, waiters] of batch.waiters) for (const waiter of waiters) waiter.resolve(outcomeOf(ip));
}

/** fping's exit status for a failed system call: without privileges, opening its ICMP socket. */
const FPING_SYSCALL_FAILED = 4;

function describeSilence(output: string, code: number | null, signal: NodeJS.Signals | null): string {
  if (code === FPING_SYSCALL_FAILED && output.trim() === '') {
    return 'fping could not open an ICMP socket (exit 4): run it as root, or give it cap_net_raw (setcap cap_net_raw+ep on the fping binary); see docs/operations.md';
  }
  const said = output.trim().split('\n').filter((line) => !/ : /.test(line)).slice(0, 3).join('; ');
  const how = signal ? `was killed (${signal})` : code !== null && code < 0 ? 'could not be started' : `exited with ${code}`;
  return `fping reported nothing for this address (it ${how}${said ? `: ${said.slice(0, 300)}` : ''})`;
}

/** `127.0.0.1 : 0.05 - 0.06` per target (fping -C -q, on stderr) -> stats by address. */
export function parseFpingOutput(output: string, count: number): Map<string, PingStats> {
  const results = new Map<string, PingStats>();
  for (const line of output.split('\n')) {
    const match = /^(\S+)\s+:((?:\s+(?:\d+(?:\.\d+)?|-))+)\s*$/.exec(line);
    if (!match) continue;
    const rttsMs = match[2]!.trim().split(/\s+/).slice(0, count).map((v) => (v === '-' ? null : Number(v)));
    results.set(match[1]!, { sent: rttsMs.length, received: rttsMs.filter((v) => v !== null).length, rttsMs });
  }
  return results;
}
