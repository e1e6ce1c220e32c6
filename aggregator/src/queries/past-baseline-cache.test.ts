import { describe, expect, it } from 'vitest';
import type { StoreEvent } from '../store/fact-store.js';
import { PastBaselineCache } from './past-baseline-cache.js';

const change = (at: number) => ({ hostId: 'h', seq: 2, at, path: 'library.x', from: '1', to: '2' });
const facts = (environment: string, ats: number[], initial = false): StoreEvent => ({
  type: 'facts-changed',
  hostId: 'h',
  environment,
  seq: 2,
  observedAt: Math.max(0, ...ats),
  categories: ['library'],
  changes: ats.map(change),
  initial,
});

function filled(): PastBaselineCache<string> {
  const cache = new PastBaselineCache<string>();
  for (const [environment, at] of [
    ['prod', 100],
    ['prod', 200],
    ['staging', 100],
  ] as const) {
    cache.set(cache.begin(environment, at, 1), `${environment}@${at}`, 1);
  }
  return cache;
}

const kept = (cache: PastBaselineCache<string>) =>
  [
    ['prod', 100],
    ['prod', 200],
    ['staging', 100],
  ].filter(([environment, at]) => cache.get(environment as string, at as number, 1) !== undefined);

describe('PastBaselineCache', () => {
  it('keeps a value while only later changes arrive; a change at or before T drops the instants at or after it', () => {
    const cache = filled();
    cache.onStoreEvent(facts('prod', [201, 500]));
    expect(kept(cache)).toHaveLength(3);
    cache.onStoreEvent(facts('prod', [300, 200]));
    expect(kept(cache)).toEqual([
      ['prod', 100],
      ['staging', 100],
    ]);
    cache.onStoreEvent(facts('prod', [50]));
    expect(kept(cache)).toEqual([['staging', 100]]);
  });

  it('drops an environment on a first report, an enrollment, a move or a retirement, both sides of a move', () => {
    let cache = filled();
    cache.onStoreEvent(facts('prod', [999], true));
    expect(kept(cache)).toEqual([['staging', 100]]);
    cache = filled();
    cache.onStoreEvent({
      type: 'host-enrolled',
      hostId: 'n',
      reenrolled: false,
      environment: 'staging',
      previousEnvironment: null,
      at: 999,
    });
    expect(kept(cache)).toEqual([
      ['prod', 100],
      ['prod', 200],
    ]);
    cache = filled();
    cache.onStoreEvent({ type: 'host-updated', hostId: 'm', environment: 'staging', previousEnvironment: 'prod' });
    expect(kept(cache)).toEqual([]);
    cache = filled();
    cache.onStoreEvent({
      type: 'host-updated',
      hostId: 'r',
      environment: null,
      previousEnvironment: 'prod',
      retired: true,
    });
    expect(kept(cache)).toEqual([['staging', 100]]);
  });

  it('answers nothing once history starts moved, and keeps nothing rebuilt across a dropping event or a failure', () => {
    const cache = filled();
    expect(cache.get('prod', 100, 2)).toBeUndefined();
    expect(cache.get('prod', 100, 1)).toBeUndefined(); // dropped by the look with the new version
    const across = cache.begin('staging', 300, 1);
    cache.onStoreEvent(facts('staging', [250]));
    cache.set(across, 'stale', 1);
    expect(cache.get('staging', 300, 1)).toBeUndefined();
    const moved = cache.begin('staging', 400, 1);
    cache.set(moved, 'stale', 2);
    expect(cache.get('staging', 400, 2)).toBeUndefined();
    const failed = cache.begin('staging', 500, 1);
    cache.set(failed, undefined, 1);
    expect(cache.get('staging', 500, 1)).toBeUndefined();
    const fine = cache.begin('staging', 600, 1);
    cache.onStoreEvent(facts('staging', [700]));
    cache.set(fine, 'ok', 1);
    expect(cache.get('staging', 600, 1)).toBe('ok');
  });

  it('keeps at most its size, dropping the oldest', () => {
    const cache = new PastBaselineCache<number>(2);
    for (const at of [1, 2, 3]) cache.set(cache.begin('prod', at, 0), at, 0);
    expect(cache.size).toBe(2);
    expect([1, 2, 3].map((at) => cache.get('prod', at, 0))).toEqual([undefined, 2, 3]);
  });
});
