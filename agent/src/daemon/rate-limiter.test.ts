import { describe, expect, it } from 'vitest';
import { createRateLimiter } from './rate-limiter.js';

describe('createRateLimiter', () => {
  it('lets a burst through, then paces at the rate', () => {
    let now = 0;
    const limiter = createRateLimiter({ perSecond: 10, burst: 3, now: () => now });
    expect([limiter.take(), limiter.take(), limiter.take()]).toEqual([0, 0, 0]);
    expect(limiter.take()).toBe(100);
    now = 50;
    expect(limiter.take()).toBe(50);
    now = 100;
    expect(limiter.take()).toBe(0);
    expect(limiter.take()).toBe(100);
  });

  it('refills up to the burst only', () => {
    let now = 0;
    const limiter = createRateLimiter({ perSecond: 10, burst: 2, now: () => now });
    limiter.take();
    limiter.take();
    now = 60_000;
    expect([limiter.take(), limiter.take()]).toEqual([0, 0]);
    expect(limiter.take()).toBeGreaterThan(0);
  });
});
