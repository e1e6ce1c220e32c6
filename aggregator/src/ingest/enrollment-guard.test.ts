import { describe, expect, it } from 'vitest';
import { EnrollmentGuard } from './enrollment-guard.js';

describe('EnrollmentGuard', () => {
  it('locks an address out after 10 failures in a minute, for 5 minutes', () => {
    let now = 1_000_000;
    const guard = new EnrollmentGuard({ now: () => now });
    for (let i = 0; i < 9; i++) expect(guard.recordFailure('10.0.0.1')).toBe(false);
    expect(guard.checkAddress('10.0.0.1').ok).toBe(true);
    expect(guard.recordFailure('10.0.0.1')).toBe(true);
    const verdict = guard.checkAddress('10.0.0.1');
    expect(verdict).toEqual({ ok: false, reason: 'locked_out', retryAfterSeconds: 300 });
    expect(guard.checkAddress('10.0.0.2').ok).toBe(true);
    now += 5 * 60_000;
    expect(guard.checkAddress('10.0.0.1').ok).toBe(true);
  });

  it('forgets failures older than the window', () => {
    let now = 0;
    const guard = new EnrollmentGuard({ now: () => now });
    for (let i = 0; i < 9; i++) guard.recordFailure('a');
    now += 61_000;
    expect(guard.recordFailure('a')).toBe(false);
  });

  it('limits enrollments fleet-wide with a retry-after', () => {
    const now = 0;
    const guard = new EnrollmentGuard({ now: () => now, perSecond: 1, burst: 3 });
    expect([guard.admit().ok, guard.admit().ok, guard.admit().ok]).toEqual([true, true, true]);
    expect(guard.admit()).toEqual({ ok: false, reason: 'storm', retryAfterSeconds: 1 });
  });
});
