/**
 * Enrollment control (issue 10): wrong-secret guessing is locked out per source address, and the
 * rate of enrollments is limited fleet-wide so a storm cannot create thousands of hosts at once.
 * In memory: a restart forgets lockouts (the limits are about rates, not records).
 */
import { TokenBucket } from './token-bucket.js';

/** Failed enrollments from one address within the window that trigger a lockout... */
export const DEFAULT_ENROLL_MAX_FAILURES = 10;
/** ...the window they are counted in... */
export const DEFAULT_ENROLL_FAILURE_WINDOW_MS = 60_000;
/** ...and how long the address is then refused. */
export const DEFAULT_ENROLL_LOCKOUT_MS = 5 * 60_000;
/**
 * Fleet-wide enrollments per second, and the burst allowed above it: high enough that a real
 * fleet's first start (10,000 agents in about 20 s) goes through, low enough that a flood is paced
 * and every refused agent is told when to come back.
 */
export const DEFAULT_ENROLL_PER_SECOND = 500;
export const DEFAULT_ENROLL_BURST = 2000;
/** Addresses tracked at most (oldest forgotten first), so spoofed-looking floods cannot grow memory. */
export const DEFAULT_ENROLL_MAX_TRACKED = 10_000;

export interface EnrollmentGuardOptions {
  maxFailures?: number;
  failureWindowMs?: number;
  lockoutMs?: number;
  perSecond?: number;
  burst?: number;
  maxTracked?: number;
  now?: () => number;
}

/** The verdict for one enrollment attempt: go on, or retry after this many seconds. */
export type EnrollmentVerdict = { ok: true } | { ok: false; reason: 'locked_out' | 'storm'; retryAfterSeconds: number };

export class EnrollmentGuard {
  private readonly failures = new Map<string, { times: number[]; lockedUntil: number }>();
  private readonly bucket: TokenBucket;
  private readonly now: () => number;
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly lockoutMs: number;
  private readonly perSecond: number;
  private readonly maxTracked: number;

  constructor({
    maxFailures = DEFAULT_ENROLL_MAX_FAILURES,
    failureWindowMs = DEFAULT_ENROLL_FAILURE_WINDOW_MS,
    lockoutMs = DEFAULT_ENROLL_LOCKOUT_MS,
    perSecond = DEFAULT_ENROLL_PER_SECOND,
    burst = DEFAULT_ENROLL_BURST,
    maxTracked = DEFAULT_ENROLL_MAX_TRACKED,
    now = Date.now,
  }: EnrollmentGuardOptions = {}) {
    this.now = now;
    this.maxFailures = maxFailures;
    this.windowMs = failureWindowMs;
    this.lockoutMs = lockoutMs;
    this.perSecond = perSecond;
    this.maxTracked = maxTracked;
    this.bucket = new TokenBucket(perSecond, burst, now());
  }

  /** Before the secret is checked: a locked-out address is refused without comparing anything. */
  checkAddress(address: string): EnrollmentVerdict {
    const entry = this.failures.get(address);
    const at = this.now();
    if (entry && entry.lockedUntil > at) {
      return { ok: false, reason: 'locked_out', retryAfterSeconds: Math.ceil((entry.lockedUntil - at) / 1000) };
    }
    return { ok: true };
  }

  /** A right secret: takes one enrollment from the fleet-wide budget. */
  admit(): EnrollmentVerdict {
    if (this.bucket.take(this.now())) return { ok: true };
    return { ok: false, reason: 'storm', retryAfterSeconds: Math.max(1, Math.ceil(1 / this.perSecond)) };
  }

  /** A wrong secret from `address`; true when it just got locked out. */
  recordFailure(address: string): boolean {
    const at = this.now();
    let entry = this.failures.get(address);
    if (!entry) {
      if (this.failures.size >= this.maxTracked) {
        const oldest = this.failures.keys().next().value;
        if (oldest !== undefined) this.failures.delete(oldest);
      }
      entry = { times: [], lockedUntil: 0 };
      this.failures.set(address, entry);
    }
    entry.times = entry.times.filter((t) => at - t < this.windowMs);
    entry.times.push(at);
    if (entry.times.length >= this.maxFailures) {
      entry.lockedUntil = at + this.lockoutMs;
      entry.times = [];
      return true;
    }
    return false;
  }
}
