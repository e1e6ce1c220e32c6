/**
 * Which aggregator URL the daemon connects to next, and after how long (`aggregator` as a list:
 * fail-over). One connection at a time: the first URL first; after a failed attempt or a dropped
 * connection the next URL in the list, wrapping around. The backoff (backoff.ts) widens once per
 * full round of failures, not per URL, so a dead aggregator costs one quick move to the next one
 * rather than a growing wait; between URLs of one round the wait is only the narrowest window's
 * jitter, which still spreads a fleet whose aggregator died at once. With one URL every failure
 * ends a round: the delays are exactly the single-aggregator ones.
 */
import { type Backoff, type BackoffOptions, backoffDelay, createBackoff } from './backoff.js';

/**
 * A URL that still rejects the agent token this long after it first did is believed even while
 * other URLs have not answered: an aggregator's cache behind the shared store catches up in seconds.
 */
export const DEFAULT_TOKEN_REJECTION_CONFIRM_MS = 10_000;

export interface RotationOptions {
  backoff?: BackoffOptions;
  tokenRejectionConfirmMs?: number;
  /** Injected by tests. */
  now?: () => number;
}

/** The URL to try next and the wait before. */
export interface NextAttempt {
  /** Index into the URL list. */
  index: number;
  delayMs: number;
  /** This attempt starts a new round: every URL failed since the round began (the backoff widened). */
  roundFailed: boolean;
}

export class AggregatorRotation {
  private readonly count: number;
  private readonly backoff: Backoff;
  private readonly backoffOptions: BackoffOptions;
  private currentIndex = 0;
  /** Where the current round began: the first URL, then the last one that welcomed the agent. */
  private roundStart = 0;
  /** URLs that rejected the agent token (4010) since the last welcome, with the time of the first rejection. */
  private readonly tokenRejections = new Map<number, number>();
  private readonly confirmMs: number;
  private readonly now: () => number;

  constructor(
    count: number,
    {
      backoff = {},
      tokenRejectionConfirmMs = DEFAULT_TOKEN_REJECTION_CONFIRM_MS,
      now = Date.now,
    }: RotationOptions = {},
  ) {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`at least one aggregator URL, got ${count}`);
    this.count = count;
    this.backoffOptions = backoff;
    this.backoff = createBackoff(backoff);
    this.confirmMs = tokenRejectionConfirmMs;
    this.now = now;
  }

  /** The URL to connect to now. */
  get index(): number {
    return this.currentIndex;
  }

  /** Rounds failed since the last reset (the backoff's attempt). */
  get attempt(): number {
    return this.backoff.attempt;
  }

  /** The current URL welcomed the agent: the next round of failures starts (and ends) here. */
  welcomed(): void {
    this.roundStart = this.currentIndex;
    this.tokenRejections.clear();
  }

  /** Back to the narrowest window: after a stable connection, or when the aggregator asks for a reconnect now. */
  resetBackoff(): void {
    this.backoff.reset();
  }

  /**
   * The current URL rejected the agent token (4010). True (the token is taken as revoked: the
   * agent re-enrolls) once every URL has since the last welcome, or once this URL still rejects
   * it `tokenRejectionConfirmMs` after its first rejection. One aggregator that does not know the
   * token yet must not cost the host its identity; one that keeps refusing it while the others
   * are down is believed. With one URL: at once, as without a list.
   */
  tokenRejected(): boolean {
    const now = this.now();
    const first = this.tokenRejections.get(this.currentIndex) ?? now;
    this.tokenRejections.set(this.currentIndex, first);
    return this.tokenRejections.size >= this.count || now - first >= this.confirmMs;
  }

  /**
   * After a close: the next URL in the list (`stay`: the same one, e.g. a token rotation asked by
   * the aggregator) and the wait. A round ends when the rotation is back where it began.
   */
  next({ stay = false }: { stay?: boolean } = {}): NextAttempt {
    if (!stay) this.currentIndex = (this.currentIndex + 1) % this.count;
    const roundFailed = stay || this.currentIndex === this.roundStart;
    const delayMs = roundFailed ? this.backoff.next() : backoffDelay(0, this.backoffOptions);
    return { index: this.currentIndex, delayMs, roundFailed };
  }
}
