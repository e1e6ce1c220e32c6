/**
 * Sending what the outbox spooled over a ready connection: reports in seq order, at most
 * `maxInFlight` unacknowledged, paced under the aggregator's rate limit; acks applied in the
 * outbox's order; heartbeats when nothing else went out; and, on stop, a short wait for the acks
 * of reports in flight. It never decides what a report holds (report-policy.ts does).
 */
import type { Logger } from 'pino';
import type { Connection } from './connection.js';
import { errorMessage } from './error-message.js';
import type { Outbox } from './outbox.js';
import { createRateLimiter, type RateLimiter, type RateLimiterOptions } from './rate-limiter.js';

/** Reports sent and not yet acknowledged, at most: a replay after a long outage does not flood the aggregator. */
export const DEFAULT_MAX_IN_FLIGHT = 16;

export interface ReportSenderOptions {
  outbox: Outbox;
  logger: Logger;
  maxInFlight?: number;
  /** Pace of frames sent (reports and heartbeats), under the aggregator's rate limit. */
  sendRate?: Pick<RateLimiterOptions, 'perSecond' | 'burst'>;
}

export class ReportSender {
  private readonly outbox: Outbox;
  private readonly logger: Logger;
  private readonly maxInFlight: number;
  private readonly limiter: RateLimiter;
  /** The connection between its welcome and its close: only then is anything sent. */
  private connection: Connection | undefined;
  private lastSent = 0;
  private lastSendAt = 0;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private pumpTimer: NodeJS.Timeout | undefined;
  private pumping = false;
  private pumpAgain = false;
  private drainWaiters: (() => void)[] = [];

  constructor({ outbox, logger, maxInFlight = DEFAULT_MAX_IN_FLIGHT, sendRate }: ReportSenderOptions) {
    this.outbox = outbox;
    this.logger = logger;
    this.maxInFlight = maxInFlight;
    this.limiter = createRateLimiter(sendRate);
  }

  /** The highest seq sent on the current (or last) connection. */
  get lastSentSeq(): number {
    return this.lastSent;
  }

  /** A welcome: sending starts above what the aggregator already holds, with heartbeats every half period. */
  attach(connection: Connection, heartbeatSeconds: number): void {
    this.connection = connection;
    // The seq the outbox adopted: a poisoned lastSeq (past 2^51) is ignored, so sending never stops.
    this.lastSent = Math.max(this.outbox.aggregatorLastSeq, this.outbox.lastAckedSeq);
    this.startHeartbeat(heartbeatSeconds);
    this.pump();
  }

  /** The connection closed: nothing more is sent on it, and stop() no longer waits for its acks. */
  detach(): void {
    this.connection = undefined;
    clearInterval(this.heartbeatTimer);
    this.resolveDrain();
  }

  /** Stops the timers (heartbeat, paced send); acks still move the outbox on. */
  stopTimers(): void {
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.pumpTimer);
  }

  /** Waits up to `timeoutMs` for the acks of reports in flight on a ready connection. */
  async drain(timeoutMs: number): Promise<void> {
    if (!this.connection || this.outbox.inFlight(this.lastSent) === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.drainWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** An ack: applied by the outbox in its own order (not awaited), then more is sent. */
  acknowledge(seq: number): void {
    let through = seq;
    if (through > this.lastSent) {
      this.logger.warn(
        { seq, lastSentSeq: this.lastSent },
        'ack for a report not sent yet: ignored past the last sent',
      );
      through = this.lastSent;
    }
    this.logger.debug({ seq }, 'ack');
    void this.outbox.acknowledge(through).then(
      () => {
        this.pump();
        if (this.outbox.inFlight(this.lastSent) === 0) this.resolveDrain();
      },
      (error: unknown) => this.logger.error({ err: errorMessage(error) }, 'failed to record an ack'),
    );
  }

  sendHeartbeat(): void {
    if (!this.connection) return;
    // While replaying at the rate limit, the reports themselves show the agent is alive.
    if (this.limiter.take() > 0) return;
    if (this.connection.send({ type: 'heartbeat' })) this.lastSendAt = Date.now();
  }

  /** Sends spooled reports above the last sent seq, in order, keeping at most maxInFlight unacknowledged. */
  pump(): void {
    if (!this.connection) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void this.pumpLoop(this.connection)
      .catch((error: unknown) => this.logger.error({ err: errorMessage(error) }, 'failed to send spooled reports'))
      .finally(() => {
        this.pumping = false;
        if (this.pumpAgain) {
          this.pumpAgain = false;
          this.pump();
        }
      });
  }

  private async pumpLoop(connection: Connection): Promise<void> {
    while (this.connection === connection) {
      if (this.outbox.inFlight(this.lastSent) >= this.maxInFlight) return;
      const next = await this.outbox.next(this.lastSent);
      if (!next || this.connection !== connection) return;
      const wait = this.limiter.take();
      if (wait > 0) {
        clearTimeout(this.pumpTimer);
        this.pumpTimer = setTimeout(() => this.pump(), wait);
        return;
      }
      if (!connection.send(next.frame)) return;
      this.lastSent = next.seq;
      this.lastSendAt = Date.now();
      this.logger.debug({ seq: next.seq, bytes: next.frame.length }, 'report sent');
    }
  }

  private startHeartbeat(seconds: number): void {
    clearInterval(this.heartbeatTimer);
    const halfMs = Math.max(500, (seconds * 1000) / 2);
    this.heartbeatTimer = setInterval(() => {
      if (Date.now() - this.lastSendAt >= halfMs) this.sendHeartbeat();
    }, halfMs);
    this.heartbeatTimer.unref();
  }

  private resolveDrain(): void {
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }
}
