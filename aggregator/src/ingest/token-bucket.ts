/**
 * Token bucket rate limiter, one per agent socket: a steady `ratePerSecond` with room for a `burst`
 * (a reconnecting agent replays its spool at once). Cheap enough to run before decoding a frame,
 * so a flood costs the server almost nothing before the socket is closed.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number = performance.now(),
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes one token; false when the bucket is empty (the caller is over the limit). */
  take(now: number = performance.now()): boolean {
    const elapsedMs = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsedMs * this.ratePerSecond) / 1000);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
