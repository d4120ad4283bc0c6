import { setFlagsFromString } from 'node:v8';

/**
 * Caps how far V8 grows this process's heap past its live data after each full collection: the
 * next full collection comes when the heap is `percent` % larger than what survived the last one.
 *
 * Why: V8 sizes the old generation for throughput, and on a machine with much memory it lets it
 * grow to several times the live data. A worker under load keeps about 40 MB live in its heap, but
 * every check's objects outlive a scavenge or two while the check waits on the network, so they
 * are promoted and die in the old generation; a worker then sat at 250–300 MB resident, most of it
 * heap pages holding nothing live. A tighter growth factor costs more frequent (mostly concurrent)
 * marking, which `npm run bench` measures with the rest of the CPU.
 *
 * V8 reads this flag at every full collection, so setting it at start-up works (flags that size
 * the heap when the isolate is created, such as --max-semi-space-size, would not). A process
 * started with its own --heap-growing-percent keeps it.
 */
export function limitHeapGrowth(percent: number, execArgv: readonly string[] = process.execArgv): boolean {
  if (percent <= 0) return false;
  if ([...execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => /^--heap[-_]growing[-_]percent\b/.test(a))) return false;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return true;
}
