import { describe, expect, it } from 'vitest';
import {
  backoffCeiling,
  backoffDelay,
  createBackoff,
  DEFAULT_BACKOFF_BASE_MS,
  DEFAULT_BACKOFF_CAP_MS,
} from './backoff.js';

describe('backoffDelay', () => {
  it('doubles the window per attempt from the base up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((a) => backoffCeiling(a))).toEqual([
      500, 1000, 2000, 4000, 8000, 16000, 30000, 30000,
    ]);
    expect(backoffCeiling(10_000)).toBe(DEFAULT_BACKOFF_CAP_MS);
    expect(backoffCeiling(-3)).toBe(DEFAULT_BACKOFF_BASE_MS);
  });

  it('is full jitter: uniform between 0 and the window', () => {
    expect(backoffDelay(3, { random: () => 0 })).toBe(0);
    expect(backoffDelay(3, { random: () => 0.5 })).toBe(2000);
    expect(backoffDelay(3, { random: () => 0.999999 })).toBe(3999);
    // A random source that returns 1 still stays below the window.
    expect(backoffDelay(3, { random: () => 1 })).toBe(3999);
  });

  it('never exceeds the cap, whatever the attempt', () => {
    for (let attempt = 0; attempt < 2000; attempt += 7) {
      const delay = backoffDelay(attempt, { random: Math.random });
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(DEFAULT_BACKOFF_CAP_MS);
    }
    expect(backoffDelay(50, { baseMs: 100, capMs: 1000, random: () => 0.99 })).toBe(990);
  });
});

describe('createBackoff', () => {
  it('widens on each next() and starts over after reset()', () => {
    const backoff = createBackoff({ random: () => 0.5 });
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([250, 500, 1000]);
    expect(backoff.attempt).toBe(3);
    for (let i = 0; i < 20; i++) backoff.next();
    expect(backoff.next()).toBe(15000);
    backoff.reset();
    expect(backoff.attempt).toBe(0);
    expect(backoff.next()).toBe(250);
  });

  it('spreads agents apart: different random draws give different delays', () => {
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const delays = new Set(Array.from({ length: 20 }, () => backoffDelay(6, { random })));
    expect(delays.size).toBeGreaterThan(15);
  });
});
