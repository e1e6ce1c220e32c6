/**
 * How the aggregator closes agent sockets: the close code, the metrics label it is counted under,
 * and a reason text that fits the WebSocket limit.
 */
import { CLOSE_CODES } from '@envparity/shared';
import type { RejectReason } from '../metrics/aggregator-metrics.js';

/**
 * The host was retired (`DELETE /api/v1/hosts/:id`): its token no longer authenticates and its id
 * cannot enroll again. Distinct from 4010 so an agent can tell "stop, you were removed" from "bad
 * token"; the reason starts with {@link HOST_RETIRED_REASON}.
 */
export const HOST_RETIRED_CLOSE_CODE = CLOSE_CODES.hostRetired;
export const HOST_RETIRED_REASON = 'host retired';

/** WebSocket close reasons are limited to 123 bytes of UTF-8. */
export const MAX_CLOSE_REASON_BYTES = 123;

/** `envparity_ingest_rejected_total{reason}` label of each close code the aggregator sends. */
export const REJECT_REASON_BY_CODE: Readonly<Record<number, RejectReason>> = {
  [CLOSE_CODES.malformed]: 'malformed',
  [CLOSE_CODES.unknownType]: 'unknown_type',
  [CLOSE_CODES.schemaViolation]: 'schema_violation',
  [CLOSE_CODES.oversize]: 'oversize',
  [CLOSE_CODES.tooBig]: 'too_big',
  [CLOSE_CODES.unexpectedMessage]: 'unexpected_message',
  [CLOSE_CODES.unauthorized]: 'unauthorized',
  // Counted with the other refused tokens.
  [CLOSE_CODES.hostRetired]: 'unauthorized',
  [CLOSE_CODES.enrollRefused]: 'enroll_refused',
  [CLOSE_CODES.hostMismatch]: 'host_mismatch',
  [CLOSE_CODES.outOfOrder]: 'out_of_order',
  [CLOSE_CODES.rateLimited]: 'rate_limited',
  [CLOSE_CODES.pendingApproval]: 'pending_approval',
  [CLOSE_CODES.replaced]: 'replaced',
  [CLOSE_CODES.internalError]: 'internal_error',
};

/** Cuts a reason to the byte limit without splitting a UTF-8 character. */
export function truncateCloseReason(reason: string, maxBytes = MAX_CLOSE_REASON_BYTES): string {
  if (Buffer.byteLength(reason, 'utf8') <= maxBytes) return reason;
  let out = '';
  let bytes = 0;
  for (const char of reason) {
    const size = Buffer.byteLength(char, 'utf8');
    if (bytes + size > maxBytes - 3) break;
    out += char;
    bytes += size;
  }
  return `${out}...`;
}
