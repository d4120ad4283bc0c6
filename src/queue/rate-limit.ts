/**
 * A token bucket: `ratePerSecond` tokens a second, holding at most one second's worth, so a
 * scheduler that was idle cannot burst more than that. `now` is injectable for tests.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly rate: number;
  private readonly now: () => number;

  constructor(ratePerSecond: number, now: () => number = Date.now) {
    this.rate = ratePerSecond;
    this.now = now;
    this.tokens = ratePerSecond;
    this.last = now();
  }

  /** Whole tokens available now, after refilling for the time passed. */
  available(): number {
    const t = this.now();
    this.tokens = Math.min(this.rate, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
    return Math.floor(this.tokens);
  }

  take(n: number): void {
    this.tokens -= n;
  }
}
