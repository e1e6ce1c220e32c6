import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyDelta, computeCategoryDeltas, computeDelta, diffFacts, isEmptyDelta } from './diff.js';
import type { FactMap } from './facts.js';
import { factPath } from './paths.js';

describe('diffFacts', () => {
  it('reports added, removed and changed paths with category and class', () => {
    const from: FactMap = {
      'os.kernel.release': '6.1',
      'config.env.A': 'x',
      'hardware.cpu.cores': 4,
      'host.hostname': 'a',
    };
    const to: FactMap = {
      'os.kernel.release': '6.5',
      'config.env.B': 'y',
      'hardware.cpu.cores': 8,
      'host.hostname': 'b',
    };
    expect(diffFacts(from, to)).toEqual([
      { path: 'config.env.A', category: 'config', class: 'behavior', kind: 'removed', from: 'x' },
      { path: 'config.env.B', category: 'config', class: 'behavior', kind: 'added', to: 'y' },
      { path: 'hardware.cpu.cores', category: 'hardware', class: 'scale', kind: 'changed', from: 4, to: 8 },
      { path: 'host.hostname', category: 'host', class: 'identity', kind: 'changed', from: 'a', to: 'b' },
      { path: 'os.kernel.release', category: 'os', class: 'behavior', kind: 'changed', from: '6.1', to: '6.5' },
    ]);
  });

  it('filters by class and treats equal arrays as equal', () => {
    const from: FactMap = { 'network.dns.nameservers': ['1.1.1.1'], 'hardware.cpu.cores': 4 };
    const to: FactMap = { 'network.dns.nameservers': ['1.1.1.1'], 'hardware.cpu.cores': 8 };
    expect(diffFacts(from, to, { classes: ['behavior'] })).toEqual([]);
    expect(diffFacts(from, to, { classes: ['scale'] })).toHaveLength(1);
  });

  it('tells null from a missing path', () => {
    expect(diffFacts({ 'a.b': null }, {})).toEqual([
      { path: 'a.b', category: 'a', class: 'behavior', kind: 'removed', from: null },
    ]);
  });
});

describe('computeDelta / applyDelta', () => {
  it('sends only what changed', () => {
    const delta = computeDelta({ 'a.x': 1, 'a.y': 2, 'b.z': [1] }, { 'a.x': 1, 'a.y': 3, 'b.w': true });
    expect(delta).toEqual({ set: { 'a.y': 3, 'b.w': true }, unset: ['b.z'] });
    expect(isEmptyDelta(computeDelta({ 'a.x': [1, 2] }, { 'a.x': [1, 2] }))).toBe(true);
  });

  it('groups per category, only changed categories', () => {
    const deltas = computeCategoryDeltas({ 'os.a': 1, 'config.b': 2, 'library.c': 3 }, { 'os.a': 1, 'config.b': 5 });
    expect(deltas).toEqual({
      config: { set: { 'config.b': 5 }, unset: [] },
      library: { set: {}, unset: ['library.c'] },
    });
  });

  it('does not modify its input', () => {
    const base = { 'a.x': 1 };
    applyDelta(base, { set: { 'a.y': 2 }, unset: ['a.x'] });
    expect(base).toEqual({ 'a.x': 1 });
  });
});

describe('delta application (property)', () => {
  const value = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 4 }),
  );
  const path = fc
    .tuple(fc.constantFrom('os', 'config', 'library', 'app'), fc.string({ minLength: 1, maxLength: 8 }))
    .map(([c, s]) => factPath(c, s));
  const facts: fc.Arbitrary<FactMap> = fc.dictionary(path, value, { maxKeys: 25 });

  it('apply(old, delta(old, new)) equals new', () => {
    fc.assert(
      fc.property(facts, facts, (previous, next) => {
        expect(applyDelta(previous, computeDelta(previous, next))).toEqual(next);
      }),
      { numRuns: 1000 },
    );
  });

  it('applying every per-category delta equals new', () => {
    fc.assert(
      fc.property(facts, facts, (previous, next) => {
        let result = previous;
        for (const delta of Object.values(computeCategoryDeltas(previous, next))) result = applyDelta(result, delta);
        expect(result).toEqual(next);
      }),
      { numRuns: 1000 },
    );
  });

  it('diffFacts is empty exactly when the delta is empty', () => {
    fc.assert(
      fc.property(facts, facts, (a, b) => {
        expect(diffFacts(a, b).length === 0).toBe(isEmptyDelta(computeDelta(a, b)));
      }),
    );
  });
});
