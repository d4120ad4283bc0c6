import type { Principal } from '../auth/token-service.ts';
import { AppError } from '../lib/errors.ts';

/**
 * Counts long-running responses (exports, event streams) per process and per token, so no caller
 * can hold more than its share: beyond either cap, 429 with Retry-After. take() returns the
 * release function; calling it twice is harmless.
 */
export class StreamSlots {
  private readonly perToken = new Map<string, number>();
  private total = 0;
  private readonly what: string;
  private readonly max: number;
  private readonly maxPerToken: number;
  private readonly retryAfterSeconds: number;

  constructor(what: string, limits: { max: number; perToken: number; retryAfterSeconds: number }) {
    this.what = what;
    this.max = limits.max;
    this.maxPerToken = limits.perToken;
    this.retryAfterSeconds = limits.retryAfterSeconds;
  }

  /** Open slots, all tokens together. */
  get open(): number {
    return this.total;
  }

  take(principal: Principal): () => void {
    const mine = this.perToken.get(principal.tokenId) ?? 0;
    if (mine >= this.maxPerToken) throw this.refuse(`this token already has ${mine} ${this.what} open, the most allowed per token`);
    if (this.total >= this.max) throw this.refuse(`this server already has ${this.total} ${this.what} open, the most allowed`);
    this.perToken.set(principal.tokenId, mine + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perToken.get(principal.tokenId) ?? 1) - 1;
      if (left > 0) this.perToken.set(principal.tokenId, left);
      else this.perToken.delete(principal.tokenId);
    };
  }

  private refuse(message: string): AppError {
    const retryAfter = String(this.retryAfterSeconds);
    return new AppError('too_many_streams', 429, `${message}; retry in ${retryAfter} s, once one has finished`, [], { 'Retry-After': retryAfter });
  }
}
