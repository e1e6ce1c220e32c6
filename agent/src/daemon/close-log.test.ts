import { CLOSE_CODES } from '@envparity/shared';
import { describe, expect, it } from 'vitest';
import { type CloseContext, describeClose } from './close-log.js';

const base: CloseContext = {
  code: 1000,
  reason: '',
  wasReady: true,
  hostId: 'web-1',
  hasEnrollSecret: true,
  lastTransportError: undefined,
  lastTlsFailure: undefined,
};

describe('describeClose', () => {
  it.each([
    [CLOSE_CODES.enrollRefused, 'enroll refused', 'error', 'the enroll secret is wrong (4011)'],
    [
      CLOSE_CODES.enrollRefused,
      'enroll refused: environment limit: 2 environments exist',
      'error',
      'enrollment refused by the aggregator (4011)',
    ],
    [
      CLOSE_CODES.pendingApproval,
      'retry after 30 s: awaiting approval',
      'warn',
      'awaiting approval by an admin (4014)',
    ],
    [CLOSE_CODES.tokenRotation, 'token rotation', 'info', 'token rotation asked by the aggregator (4015)'],
    [CLOSE_CODES.unauthorized, '', 'error', 're-enrolling with the enroll secret'],
    [CLOSE_CODES.hostRetired, 'host retired', 'error', 'not reconnecting'],
    [CLOSE_CODES.rateLimited, 'retry after 20 s', 'warn', 'rate limited by the aggregator (4029)'],
    [CLOSE_CODES.goingAway, '', 'info', 'the aggregator closed the connection'],
    [4099, 'x', 'error', 'the aggregator rejected a message'],
    [1002, '', 'warn', 'connection closed'],
  ] as const)('code %i (%s): %s "%s"', (code, reason, level, words) => {
    const line = describeClose({ ...base, code, reason });
    expect(line.level).toBe(level);
    expect(line.message).toContain(words);
    expect(line.fields).toMatchObject({ code });
  });

  it('tells a refused TLS check, a lost connection and an unreachable aggregator apart', () => {
    expect(describeClose({ ...base, code: 1006, lastTlsFailure: 'fingerprint mismatch' })).toMatchObject({
      level: 'error',
      fields: { err: 'fingerprint mismatch' },
    });
    expect(describeClose({ ...base, code: 1006 }).message).toBe('connection to the aggregator lost');
    expect(describeClose({ ...base, code: 1006, wasReady: false }).message).toBe('cannot reach the aggregator');
  });

  it('says how to re-enroll when the agent has no enroll secret, and names the host on a mismatch', () => {
    expect(describeClose({ ...base, code: CLOSE_CODES.unauthorized, hasEnrollSecret: false }).message).toContain(
      'pass --enroll-secret or set ENVPARITY_ENROLL_SECRET',
    );
    expect(describeClose({ ...base, code: CLOSE_CODES.hostMismatch }).fields).toMatchObject({ hostId: 'web-1' });
  });
});
