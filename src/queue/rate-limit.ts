/**
 * A token bucket: `ratePerSecond` tokens a second, holding at most `capacity` (default: one
 * second's worth, so a scheduler that was idle cannot burst more than that). `now` is injectable
 * for tests.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly rate: number;
  private readonly capacity: number;
  private readonly now: () => number;

  constructor(ratePerSecond: number, now: () => number = Date.now, capacity = ratePerSecond) {
    this.rate = ratePerSecond;
    this.capacity = capacity;
    this.now = now;
    this.tokens = capacity;
    this.last = now();
  }

  /** Whole tokens available now, after refilling for the time passed. */
  available(): number {
    const t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
    return Math.floor(this.tokens);
  }

  take(n: number): void {
    this.tokens -= n;
  }

  /** Milliseconds until one more token is available (0 if one is). */
  msUntilNext(): number {
    const missing = 1 - this.tokens;
    return missing <= 0 ? 0 : Math.ceil((missing / this.rate) * 1000);
  }
}
