import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * Lowers this process's CPU priority to `nice` (never raises it: that would need privileges).
 *
 * Why: when checks saturate the CPU, a worker process competes with the API, the scheduler and
 * PostgreSQL on the same machine. A worker at a higher nice value yields to them, so state reads,
 * JIT answers and the producer stay fast; the worker still gets every cycle they leave, so
 * checking loses no throughput to an idle API.
 *
 * On Linux a nice value belongs to a thread, not the process: setting the process id changes the
 * main thread alone. So every thread running now (V8's and libuv's) is lowered; threads started
 * later inherit the main thread's value.
 *
 * Returns the nice value of the main thread afterwards.
 */
export function lowerCpuPriority(nice: number): number {
  const tids = process.platform === 'linux' ? threadIds() : [0];
  for (const tid of tids) {
    try {
      if (getPriority(tid) < nice) setPriority(tid, nice);
    } catch {
      // A thread that ended meanwhile: nothing to lower.
    }
  }
  return getPriority(0);
}

function threadIds(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number).filter(Number.isInteger);
  } catch {
    return [0];
  }
}
