import { describe, expect, it } from 'vitest';
import { AggregatorRotation } from './aggregator-rotation.js';
import { backoffCeiling } from './backoff.js';

/** random() just under 1: every delay is its window's ceiling minus 1 ms, so the window shows. */
const widest = { baseMs: 100, capMs: 10_000, random: () => 0.999_999 };

describe('AggregatorRotation', () => {
  it('with one URL every failure widens the backoff, as without a list', () => {
    const rotation = new AggregatorRotation(1, { backoff: widest });
    const delays = [1, 2, 3, 4].map(() => rotation.next());
    expect(delays.map((attempt) => attempt.index)).toEqual([0, 0, 0, 0]);
    expect(delays.map((attempt) => attempt.delayMs)).toEqual([99, 199, 399, 799]);
    expect(delays.every((attempt) => attempt.roundFailed)).toBe(true);
  });

  it('moves to the next URL at once and widens the backoff once per full round, wrapping around', () => {
    const rotation = new AggregatorRotation(3, { backoff: widest });
    expect(rotation.index).toBe(0);
    const attempts = [1, 2, 3, 4, 5, 6].map(() => rotation.next());
    expect(attempts.map((attempt) => attempt.index)).toEqual([1, 2, 0, 1, 2, 0]);
    expect(attempts.map((attempt) => attempt.roundFailed)).toEqual([false, false, true, false, false, true]);
    // Within a round only the narrowest window's jitter; at a round's end the backoff, one step wider each round.
    const jitter = backoffCeiling(0, widest) - 1;
    expect(attempts.map((attempt) => attempt.delayMs)).toEqual([jitter, jitter, 99, jitter, jitter, 199]);
    expect(rotation.attempt).toBe(2);
  });

  it('after a welcome the round starts at the URL that welcomed, and a reset narrows the backoff again', () => {
    const rotation = new AggregatorRotation(2, { backoff: widest });
    rotation.next(); // the first URL is down: the second one
    rotation.welcomed();
    expect(rotation.index).toBe(1);
    // The second drops: back to the first at once; the first is down too: a full round, backoff.
    expect(rotation.next()).toEqual({ index: 0, delayMs: backoffCeiling(0, widest) - 1, roundFailed: false });
    expect(rotation.next()).toEqual({ index: 1, delayMs: 99, roundFailed: true });
    expect(rotation.next()).toMatchObject({ index: 0, roundFailed: false });
    expect(rotation.next()).toEqual({ index: 1, delayMs: 199, roundFailed: true });
    rotation.resetBackoff();
    expect(rotation.attempt).toBe(0);
    expect(rotation.next({ stay: true })).toEqual({ index: 1, delayMs: 99, roundFailed: true });
  });

  it('takes the token as revoked once every URL rejected it, or one kept rejecting it for the confirm time', () => {
    const single = new AggregatorRotation(1);
    expect(single.tokenRejected()).toBe(true);

    let now = 1_000;
    const rotation = new AggregatorRotation(3, { tokenRejectionConfirmMs: 10_000, now: () => now });
    expect(rotation.tokenRejected()).toBe(false);
    now += 9_999;
    expect(rotation.tokenRejected()).toBe(false); // the same URL again, not yet for long enough
    now += 1;
    expect(rotation.tokenRejected()).toBe(true); // still rejecting 10 s after its first rejection

    rotation.welcomed();
    expect(rotation.tokenRejected()).toBe(false);
    rotation.next();
    expect(rotation.tokenRejected()).toBe(false);
    rotation.next();
    expect(rotation.tokenRejected()).toBe(true); // every URL rejected it
  });

  it('refuses an empty list', () => {
    expect(() => new AggregatorRotation(0)).toThrow(RangeError);
  });
});
