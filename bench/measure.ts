import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Per-process CPU and memory from /proc (Linux), sampled: CPU is cumulative per pid, so a pid's
 * time in the measured window is its value at the end (or when last seen, if it exited) minus
 * its value at the start (0 if it started later). Processes are counted in named groups ("api",
 * "worker-1", "postgres [vigil-boss]").
 */

const CLK_TCK = readClockTicks();

function readClockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

export interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime, seconds. */
  cpuSeconds: number;
  /** cutime + cstime: children this process waited for (the postmaster reaps its backends). */
  reapedChildrenCpuSeconds: number;
}

export interface ProcMemory {
  rssKb: number;
  /** Peak resident set size (VmHWM), as the kernel keeps it. */
  hwmKb: number;
  /** Anonymous (private) resident memory: unlike VmRSS it does not count shared buffers again per process. */
  anonKb: number;
}

export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i: number) => Number(fields[i - 3]);
  return { pid, ppid: n(4), cpuSeconds: (n(14) + n(15)) / CLK_TCK, reapedChildrenCpuSeconds: (n(16) + n(17)) / CLK_TCK };
}

export function readMemory(pid: number): ProcMemory | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM'), anonKb: kb('RssAnon') };
}

/** Pids whose parent is `ppid` (a scan of /proc). */
export function childrenOf(ppid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (readStat(Number(entry))?.ppid === ppid) pids.push(Number(entry));
  }
  return pids;
}

interface PidTrack {
  group: string;
  last: number;
  atStart?: number;
  atEnd?: number;
  alive: boolean;
  hwmKb: number;
}

export interface GroupUsage {
  group: string;
  pids: number[];
  /** CPU seconds over the processes' whole lives (as far as sampled). */
  cpuSecondsTotal: number;
  /** CPU seconds inside the measured window. */
  cpuSecondsWindow: number;
  /** Peak of the group's summed VmRSS (or VmHWM for a single process, if higher), MB. */
  peakRssMb: number;
  /** Peak of the group's summed anonymous memory, MB. */
  peakPrivateMb: number;
}

export class UsageSampler {
  private readonly pids = new Map<number, PidTrack>();
  private readonly peaks = new Map<string, { rssKb: number; anonKb: number }>();
  private inWindow = false;

  /** Counts `pid` in `group` from now on (a pid belongs to one group). */
  track(pid: number, group: string): void {
    if (!this.pids.has(pid)) this.pids.set(pid, { group, last: 0, alive: true, hwmKb: 0, ...(this.inWindow ? { atStart: 0 } : {}) });
  }

  has(pid: number): boolean {
    return this.pids.has(pid);
  }

  /** Reads every tracked live pid once. */
  sample(): void {
    const sums = new Map<string, { rssKb: number; anonKb: number }>();
    for (const [pid, t] of this.pids) {
      if (!t.alive) continue;
      const stat = readStat(pid);
      const memory = readMemory(pid);
      if (!stat || !memory) {
        t.alive = false;
        continue;
      }
      t.last = Math.max(t.last, stat.cpuSeconds);
      t.hwmKb = Math.max(t.hwmKb, memory.hwmKb);
      const sum = sums.get(t.group) ?? { rssKb: 0, anonKb: 0 };
      sum.rssKb += memory.rssKb;
      sum.anonKb += memory.anonKb;
      sums.set(t.group, sum);
    }
    for (const [group, sum] of sums) {
      const peak = this.peaks.get(group) ?? { rssKb: 0, anonKb: 0 };
      this.peaks.set(group, { rssKb: Math.max(peak.rssKb, sum.rssKb), anonKb: Math.max(peak.anonKb, sum.anonKb) });
    }
  }

  markWindowStart(): void {
    this.sample();
    for (const t of this.pids.values()) t.atStart = t.last;
    this.inWindow = true;
  }

  markWindowEnd(): void {
    this.sample();
    for (const t of this.pids.values()) t.atEnd = t.last;
    this.inWindow = false;
  }

  usage(): GroupUsage[] {
    const groups = new Map<string, GroupUsage>();
    for (const [pid, t] of this.pids) {
      const g = groups.get(t.group) ?? { group: t.group, pids: [], cpuSecondsTotal: 0, cpuSecondsWindow: 0, peakRssMb: 0, peakPrivateMb: 0 };
      g.pids.push(pid);
      g.cpuSecondsTotal += t.last;
      if (t.atStart !== undefined) g.cpuSecondsWindow += (t.atEnd ?? t.last) - t.atStart;
      groups.set(t.group, g);
    }
    for (const g of groups.values()) {
      const peak = this.peaks.get(g.group) ?? { rssKb: 0, anonKb: 0 };
      const single = g.pids.length === 1 ? this.pids.get(g.pids[0]!)!.hwmKb : 0;
      g.peakRssMb = Math.max(peak.rssKb, single) / 1024;
      g.peakPrivateMb = peak.anonKb / 1024;
    }
    return [...groups.values()];
  }
}

/**
 * CPU of a whole PostgreSQL server: the postmaster, the children it already reaped (their time
 * is in its cutime/cstime) and its live children. Exact at each reading, unlike per-backend
 * sampling, but it includes every database on the server.
 */
export function serverCpuSeconds(postmasterPid: number): number {
  const postmaster = readStat(postmasterPid);
  if (!postmaster) return 0;
  const live = childrenOf(postmasterPid).reduce((sum, pid) => sum + (readStat(pid)?.cpuSeconds ?? 0), 0);
  return postmaster.cpuSeconds + postmaster.reapedChildrenCpuSeconds + live;
}
