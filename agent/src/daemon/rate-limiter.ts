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

/** `collect` and `resync` from the aggregator are honoured at most this often; more are coalesced. */
export const DEFAULT_AGGREGATOR_REQUEST_INTERVAL_MS = 10_000;

export interface CoalescerOptions<T> {
  /** At most one run per this many milliseconds. */
  intervalMs: number;
  /** Folds a request into the pending one. */
  merge(pending: T, next: T): T;
  run(what: T): void;
  now?: () => number;
}

/** Requests honoured at most once per interval: one arriving sooner is merged into a single later run. */
export interface Coalescer<T> {
  request(what: T): void;
  /** Requests merged into a pending run so far (for logs and tests). */
  readonly coalesced: number;
  /** Drops a pending run. */
  close(): void;
}

export function createCoalescer<T>({ intervalMs, merge, run, now = Date.now }: CoalescerOptions<T>): Coalescer<T> {
  let last = Number.NEGATIVE_INFINITY;
  let pending: { what: T } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let coalesced = 0;
  let closed = false;
  const fire = () => {
    timer = undefined;
    const next = pending;
    pending = undefined;
    if (!next || closed) return;
    last = now();
    run(next.what);
  };
  return {
    request(what) {
      if (closed) return;
      if (pending) {
        pending.what = merge(pending.what, what);
        coalesced++;
        return;
      }
      const at = now();
      if (at - last >= intervalMs) {
        last = at;
        run(what);
        return;
      }
      pending = { what };
      coalesced++;
      timer = setTimeout(fire, Math.max(0, last + intervalMs - at));
      timer.unref?.();
    },
    get coalesced() {
      return coalesced;
    },
    close() {
      closed = true;
      clearTimeout(timer);
      pending = undefined;
    },
  };
}

/** Log lines of one level and message kept per window; the rest are counted and summarised. */
export const DEFAULT_LOG_LINES_PER_MINUTE = 50;

const LOG_METHODS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
/** Distinct messages tracked per window, at most (messages are static strings: this is never reached). */
const MAX_TRACKED_MESSAGES = 1000;

export interface LogRateLimitOptions {
  /** Lines of the same level and message per window (default 50). */
  perWindow?: number;
  windowMs?: number;
  now?: () => number;
}

interface LogLike {
  [method: string]: unknown;
}

/**
 * A logger (pino or anything with pino's level methods) whose repeated lines are rate-limited: per
 * level and message, the first `perWindow` lines of a window go out, the rest are counted and one
 * `suppressed K similar log lines` line (same level, `{suppressed, msg}`) follows when the window
 * ends. `child()` loggers share the budget. A flood of aggregator requests or of failing
 * collections costs a few lines a minute, not 10,000 a second.
 */
export function rateLimitLogs<L extends object>(logger: L, options: LogRateLimitOptions = {}): L {
  const perWindow = options.perWindow ?? DEFAULT_LOG_LINES_PER_MINUTE;
  const windowMs = options.windowMs ?? 60_000;
  const now = options.now ?? Date.now;
  const counts = new Map<string, { level: string; msg: string; count: number; suppressed: number; target: LogLike }>();
  let windowStart = now();
  const flush = () => {
    for (const entry of counts.values()) {
      if (entry.suppressed > 0) {
        const method = entry.target[entry.level] as (obj: object, msg: string) => void;
        method.call(
          entry.target,
          { suppressed: entry.suppressed, windowSeconds: Math.round(windowMs / 1000), msg: entry.msg },
          `suppressed ${entry.suppressed} similar log lines`,
        );
      }
    }
    counts.clear();
    windowStart = now();
  };
  // The summary of a flood that stopped still goes out at the end of its window.
  const timer = setInterval(() => {
    if (now() - windowStart >= windowMs) flush();
  }, windowMs);
  timer.unref?.();
  const wrap = (target: LogLike): L =>
    new Proxy(target, {
      get(object, property, receiver) {
        const value = Reflect.get(object, property, receiver) as unknown;
        if (property === 'child' && typeof value === 'function') {
          return (...args: unknown[]) => wrap((value as (...a: unknown[]) => LogLike).apply(object, args));
        }
        if (typeof property !== 'string' || !LOG_METHODS.has(property) || typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (now() - windowStart >= windowMs) flush();
          const [first, second] = args;
          const msg = typeof first === 'string' ? first : typeof second === 'string' ? second : '';
          const key = `${property}\u0000${msg}`;
          let entry = counts.get(key);
          if (!entry) {
            if (counts.size >= MAX_TRACKED_MESSAGES) flush();
            entry = { level: property, msg, count: 0, suppressed: 0, target: object };
            counts.set(key, entry);
          }
          if (entry.count >= perWindow) {
            entry.suppressed++;
            return;
          }
          entry.count++;
          (value as (...a: unknown[]) => void).apply(object, args);
        };
      },
    }) as unknown as L;
  return wrap(logger as unknown as LogLike);
}
