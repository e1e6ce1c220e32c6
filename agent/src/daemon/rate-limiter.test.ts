import { describe, expect, it, vi } from 'vitest';
import { createCoalescer, createRateLimiter, rateLimitLogs } from './rate-limiter.js';

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

describe('createCoalescer (collect / resync floods)', () => {
  it('runs the first request at once, then at most once per interval, merging the rest', async () => {
    vi.useFakeTimers();
    try {
      const runs: string[][] = [];
      const coalescer = createCoalescer<Set<string>>({
        intervalMs: 10_000,
        merge: (a, b) => new Set([...a, ...b]),
        run: (what) => runs.push([...what].sort()),
      });
      coalescer.request(new Set(['os']));
      for (let i = 0; i < 10_000; i++) coalescer.request(new Set([i % 2 ? 'config' : 'library']));
      expect(runs).toEqual([['os']]);
      vi.advanceTimersByTime(9_999);
      expect(runs).toHaveLength(1);
      vi.advanceTimersByTime(1);
      expect(runs).toEqual([['os'], ['config', 'library']]);
      expect(coalescer.coalesced).toBe(10_000);
      vi.advanceTimersByTime(60_000);
      expect(runs).toHaveLength(2);
      coalescer.request(new Set(['os']));
      expect(runs).toHaveLength(3);
      coalescer.request(new Set(['os']));
      coalescer.close();
      vi.advanceTimersByTime(60_000);
      expect(runs).toHaveLength(3);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('rateLimitLogs', () => {
  it('keeps the first N identical lines per window, then one summary', () => {
    let now = 0;
    const lines: { level: string; obj: unknown; msg: string }[] = [];
    const make = (level: string) => (obj: unknown, msg: string) => lines.push({ level, obj, msg });
    const base = { info: make('info'), warn: make('warn'), level: 'info', child: () => base };
    const logger = rateLimitLogs(base, { perWindow: 3, windowMs: 60_000, now: () => now });
    for (let i = 0; i < 1000; i++) logger.info({ i }, 'the aggregator asked for a collection');
    logger.warn({}, 'something else');
    expect(lines.map((l) => l.msg)).toEqual([
      'the aggregator asked for a collection',
      'the aggregator asked for a collection',
      'the aggregator asked for a collection',
      'something else',
    ]);
    expect(logger.level).toBe('info');
    now = 60_000;
    logger.info({}, 'next window');
    expect(lines.at(-2)).toEqual({
      level: 'info',
      obj: { suppressed: 997, windowSeconds: 60, msg: 'the aggregator asked for a collection' },
      msg: 'suppressed 997 similar log lines',
    });
    expect(lines.at(-1)?.msg).toBe('next window');
  });

  it('shares the budget with child loggers', () => {
    const lines: string[] = [];
    const base = {
      info: (_o: unknown, msg: string) => lines.push(msg),
      child: () => ({ info: (_o: unknown, msg: string) => lines.push(`child ${msg}`) }),
    };
    const logger = rateLimitLogs(base, { perWindow: 2 });
    const child = logger.child() as { info(o: unknown, m: string): void };
    for (let i = 0; i < 10; i++) child.info({}, 'x');
    expect(lines).toEqual(['child x', 'child x']);
  });
});
