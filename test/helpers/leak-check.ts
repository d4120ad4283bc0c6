import { afterAll, beforeAll } from 'vitest';

/**
 * A vitest setup file: a test file must leave nothing running behind it — no socket, server,
 * timer or child process more than when it started.
 *
 * Checked per file, after the file's own afterAll hooks (setup-file hooks wrap the file's: this
 * beforeAll runs first, this afterAll last). A file's shared pools, servers and Vigils live across
 * its tests by design, so a per-test count would flag them or fluctuate with pool sizes; whatever
 * one test leaks is still there when the file ends, and the message names it.
 *
 * It counts what keeps the event loop alive (`process.getActiveResourcesInfo()`: handles such as
 * TCPSocketWrap, TCPServerWrap, ProcessWrap for a child process, and timers); an unref'd handle
 * does not hold a process open and is not counted.
 */

/** How long closed handles may take to go: libuv runs close callbacks a loop turn or two later, a pool's sockets end on the server's reply. */
const SETTLE_MS = 5_000;
/**
 * How long the start is watched for its quietest moment: vitest's runner keeps a 100 ms throttle
 * timer of its own now and then, and counting it in the start would hide a leaked timer.
 */
const BASELINE_MS = 150;
const POLL_MS = 10;

let atStart: Map<string, number>;
let handlesAtStart: Set<unknown>;

beforeAll(async () => {
  atStart = await quietest(BASELINE_MS);
  handlesAtStart = new Set(activeHandles());
});

afterAll(async () => {
  const leaked = await waitForSettled(atStart);
  if (leaked.size === 0) return;
  const counts = [...leaked].map(([type, n]) => `${n} × ${type}`).join(', ');
  const details = activeHandles().filter((h) => !handlesAtStart.has(h)).map(describeHandle).filter(Boolean);
  throw new Error(
    `this test file left resources running after its afterAll hooks: ${counts}` +
      (details.length ? ` (${details.join('; ')})` : '') +
      '. Close what it starts (servers, pools, sockets, Vigils; kill child processes and await their exit) and clear its timers in afterEach/afterAll.',
  );
});

/** Resources by type, as Node reports them. */
function countResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/** The fewest resources of each type seen over `windowMs`. */
async function quietest(windowMs: number): Promise<Map<string, number>> {
  const least = countResources();
  for (const end = Date.now() + windowMs; Date.now() < end; ) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const now = countResources();
    for (const [type, n] of least) least.set(type, Math.min(n, now.get(type) ?? 0));
  }
  return least;
}

/** Types with more resources now than at the start, and how many more. */
function excess(start: Map<string, number>): Map<string, number> {
  const more = new Map<string, number>();
  for (const [type, n] of countResources()) if (n > (start.get(type) ?? 0)) more.set(type, n - (start.get(type) ?? 0));
  return more;
}

/** Polls until nothing is left over or SETTLE_MS pass; counts are taken while none of this function's own timers is pending. */
async function waitForSettled(start: Map<string, number>): Promise<Map<string, number>> {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const leaked = excess(start);
    if (leaked.size === 0 || Date.now() > deadline) return leaked;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * The handle objects behind the counts, only to say which ones leaked (a child's command line, a
 * socket's peer). Node's undocumented `_getActiveHandles`; without it the message keeps the counts.
 */
function activeHandles(): unknown[] {
  const get = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles;
  return typeof get === 'function' ? get.call(process) : [];
}

function describeHandle(handle: unknown): string {
  const h = handle as { constructor?: { name?: string }; pid?: number; spawnargs?: string[]; remoteAddress?: string; remotePort?: number; address?: () => unknown };
  const kind = h.constructor?.name ?? 'handle';
  if (Array.isArray(h.spawnargs)) return `child process ${h.pid}: ${h.spawnargs.join(' ').slice(0, 200)}`;
  if (h.remoteAddress) return `${kind} to ${h.remoteAddress}:${h.remotePort}`;
  if (kind === 'Server' && typeof h.address === 'function') return `server on ${JSON.stringify(h.address())}`;
  return '';
}
