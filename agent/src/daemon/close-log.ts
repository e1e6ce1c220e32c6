/**
 * What the agent logs when its connection closes: one line per close, with the level and wording
 * an operator needs to act (docs/PROTOCOL.md close codes). Pure: the daemon passes what it knows.
 */
import { CLOSE_CODES } from '@envparity/shared';

export interface CloseContext {
  code: number;
  reason: string;
  /** The connection had reached `welcome`. */
  wasReady: boolean;
  hostId: string;
  /** The agent can re-enroll by itself. */
  hasEnrollSecret: boolean;
  lastTransportError: string | undefined;
  /** The last transport error was a TLS check the agent refused. */
  lastTlsFailure: string | undefined;
}

export interface CloseLogLine {
  level: 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

export function describeClose(context: CloseContext): CloseLogLine {
  const { code, reason, wasReady, hostId } = context;
  const fields: Record<string, unknown> = { code, reason: reason || undefined, err: context.lastTransportError };
  const line = (level: CloseLogLine['level'], message: string, extra: Record<string, unknown> = {}): CloseLogLine => ({
    level,
    fields: { ...fields, ...extra },
    message,
  });
  switch (code) {
    case CLOSE_CODES.enrollRefused:
      return line(
        'error',
        /^enroll refused: ./.test(reason)
          ? 'enrollment refused by the aggregator (4011); will retry'
          : 'enrollment refused: the enroll secret is wrong (4011); will retry',
      );
    case CLOSE_CODES.pendingApproval:
      return line('warn', 'awaiting approval by an admin (4014); asking again later');
    case CLOSE_CODES.tokenRotation:
      return line('info', 'token rotation asked by the aggregator (4015): reconnecting now');
    case CLOSE_CODES.unauthorized:
      return line(
        'error',
        context.hasEnrollSecret
          ? 'agent token rejected (4010): unknown or revoked; re-enrolling with the enroll secret (with several aggregators: once every one rejects it, or one still does 10 s later)'
          : 'agent token rejected (4010): unknown or revoked; pass --enroll-secret or set ENVPARITY_ENROLL_SECRET to re-enroll; will retry',
      );
    case CLOSE_CODES.hostMismatch:
      return line(
        'error',
        'host mismatch (4012): the agent token in the state dir belongs to another host id; will retry',
        { hostId },
      );
    case CLOSE_CODES.replaced:
      return line('warn', 'replaced (4040): another connection of this host id took over; backing off');
    case CLOSE_CODES.rateLimited:
      return line('warn', 'rate limited by the aggregator (4029); backing off');
    case CLOSE_CODES.hostRetired:
      return line(
        'error',
        'host retired by the aggregator (4013): not reconnecting; enroll under a new host id to report again',
        { hostId },
      );
    case CLOSE_CODES.normal:
    case CLOSE_CODES.goingAway:
      return line('info', 'the aggregator closed the connection');
    case 1006:
      if (context.lastTlsFailure) {
        return line(
          'error',
          'TLS check of the aggregator failed: connection refused by the agent; will retry with backoff',
          { err: context.lastTlsFailure },
        );
      }
      return wasReady ? line('warn', 'connection to the aggregator lost') : line('warn', 'cannot reach the aggregator');
    default:
      return code >= 4000 && code < 4100
        ? line('error', 'the aggregator rejected a message')
        : line('warn', 'connection closed');
  }
}
