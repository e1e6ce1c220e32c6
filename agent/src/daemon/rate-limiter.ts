/**
 * A token bucket for frames sent to the aggregator. The aggregator closes a socket that sends
 * more than its rate (4029; 50/s with a burst of 200 by default): a replay of a full spool after
 * an outage is paced under that instead of getting the agent disconnected in a loop.
 */

/** Well under the aggregator's default 50 messages/s. */
export const DEFAULT_SEND_RATE_PER_SECOND = 20;
/** Well under the aggregator's default burst of 200. */
export const DEFAULT_SEND_BURST = 100;

export interface RateLimiterOptions {
  perSecond?: number;
  burst?: number;
  /** Milliseconds; injected by tests. */
  now?: () => number;
}

export interface RateLimiter {
  /** Takes one token: 0 when the frame may go now, else the milliseconds to wait (nothing taken). */
  take(): number;
}

export function createRateLimiter({
  perSecond = DEFAULT_SEND_RATE_PER_SECOND,
  burst = DEFAULT_SEND_BURST,
  now = Date.now,
}: RateLimiterOptions = {}): RateLimiter {
  let tokens = burst;
  let last = now();
  return {
    take() {
      const at = now();
      tokens = Math.min(burst, tokens + ((at - last) * perSecond) / 1000);
      last = at;
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return Math.ceil(((1 - tokens) * 1000) / perSecond);
    },
  };
}
