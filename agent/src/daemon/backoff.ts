/**
 * Reconnect delays: capped exponential backoff with full jitter, `random(0, min(cap, base * 2^attempt))`
 * (docs/PROTOCOL.md). Full jitter spreads a fleet that lost its aggregator at the same moment, so
 * the agents do not all come back in the same millisecond.
 */

export const DEFAULT_BACKOFF_BASE_MS = 500;
export const DEFAULT_BACKOFF_CAP_MS = 30_000;

export interface BackoffOptions {
  baseMs?: number;
  capMs?: number;
  /** A number in [0, 1); injected by tests. */
  random?: () => number;
}

/** Upper bound of the delay before retry number `attempt` (0-based): `min(cap, base * 2^attempt)`. */
export function backoffCeiling(
  attempt: number,
  { baseMs = DEFAULT_BACKOFF_BASE_MS, capMs = DEFAULT_BACKOFF_CAP_MS }: BackoffOptions = {},
): number {
  // 2^attempt overflows to Infinity past 1023; Math.min keeps the cap either way.
  return Math.min(capMs, baseMs * 2 ** Math.max(0, Math.min(attempt, 1023)));
}

/** The delay before retry number `attempt` (0-based): uniform in [0, ceiling), whole milliseconds. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const random = options.random ?? Math.random;
  const ceiling = backoffCeiling(attempt, options);
  return Math.min(Math.floor(random() * ceiling), Math.max(0, ceiling - 1));
}

/** A backoff sequence: each `next()` widens the window until the cap; `reset()` after a good connection. */
export interface Backoff {
  /** The delay to wait now; the next call's window is twice as wide (up to the cap). */
  next(): number;
  /** Back to the narrowest window: call after a connection that reached `welcome` and stayed up. */
  reset(): void;
  /** Retries made since the last reset. */
  readonly attempt: number;
}

export function createBackoff(options: BackoffOptions = {}): Backoff {
  let attempt = 0;
  return {
    next() {
      const delay = backoffDelay(attempt, options);
      attempt++;
      return delay;
    },
    reset() {
      attempt = 0;
    },
    get attempt() {
      return attempt;
    },
  };
}
