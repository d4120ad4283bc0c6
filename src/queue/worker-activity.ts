/**
 * What this worker process is doing, for its heartbeat: checks running now, checks done, and how
 * busy its slots were over the last minute.
 */
const WINDOW_MS = 60_000;

export class WorkerActivity {
  running = 0;
  done = 0;
  /** [start, end] of checks finished within the window, for busy %. */
  private spans: [number, number][] = [];
  private readonly startedAtMs: number[] = [];
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  /** Marks a check as started; call the returned function when it ends. */
  started(): () => void {
    const start = this.now();
    this.running++;
    this.startedAtMs.push(start);
    return () => {
      this.running--;
      this.done++;
      this.startedAtMs.splice(this.startedAtMs.indexOf(start), 1);
      this.spans.push([start, this.now()]);
    };
  }

  /** Share of `slots` busy over the last minute (finished and still-running checks), 0–100. */
  busyPercent(slots: number): number {
    const t = this.now();
    const from = t - WINDOW_MS;
    this.spans = this.spans.filter(([, end]) => end > from);
    const overlap = (s: number, e: number) => Math.max(0, Math.min(e, t) - Math.max(s, from));
    const busyMs = this.spans.reduce((sum, [s, e]) => sum + overlap(s, e), 0) + this.startedAtMs.reduce((sum, s) => sum + overlap(s, t), 0);
    return Math.min(100, (busyMs / (WINDOW_MS * Math.max(1, slots))) * 100);
  }
}
