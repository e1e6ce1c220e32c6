import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyReport, applyToCategory, type ReportChanges } from './apply-report.js';
import type { FactDelta } from './diff.js';
import { type FactMap, groupByCategory } from './facts.js';
import { categoryOf } from './paths.js';

const CATEGORIES = ['os', 'config', 'library', 'network'] as const;
const factValue = fc.oneof(
  fc.integer({ min: 0, max: 5 }),
  fc.string({ maxLength: 3 }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
);
const keys = fc.constantFrom('a', 'b', 'c', 'd', 'e');
const pathIn = (category: string) => keys.map((key) => `${category}.${key}`);
const anyPath = fc.constantFrom(...CATEGORIES).chain(pathIn);
const factMap: fc.Arbitrary<FactMap> = fc.dictionary(anyPath, factValue, { maxKeys: 14 });
const categoryMap = (category: string) => fc.dictionary(pathIn(category), factValue, { maxKeys: 5 });
const categoryDelta = (category: string): fc.Arbitrary<FactDelta> =>
  fc.record({
    set: categoryMap(category),
    unset: fc.uniqueArray(pathIn(category), { maxLength: 4 }),
  });

/** Reports as the agent files them: every path under its own category; a category may be both full and delta. */
const report: fc.Arbitrary<ReportChanges> = fc
  .tuple(fc.subarray([...CATEGORIES]), fc.subarray([...CATEGORIES]))
  .chain(([fullCategories, deltaCategories]) =>
    fc.record(
      {
        full: fc.record(Object.fromEntries(fullCategories.map((c) => [c, categoryMap(c)]))),
        delta: fc.record(Object.fromEntries(deltaCategories.map((c) => [c, categoryDelta(c)]))),
      },
      { requiredKeys: [] },
    ),
  );

/** The rule as agent/src/daemon/reporter.ts wrote it before it moved here: the regression model. */
function referenceApplyReport(base: FactMap, changes: ReportChanges): FactMap {
  const fullCategories = new Set(Object.keys(changes.full ?? {}));
  const result: FactMap = {};
  for (const [path, value] of Object.entries(base)) {
    if (!fullCategories.has(categoryOf(path))) result[path] = value;
  }
  for (const facts of Object.values(changes.full ?? {})) Object.assign(result, facts);
  for (const delta of Object.values(changes.delta ?? {})) {
    for (const path of delta.unset) delete result[path];
    Object.assign(result, delta.set);
  }
  return result;
}

describe('applyReport', () => {
  it('replaces full categories and patches delta ones, leaving the base untouched', () => {
    const base = { 'os.a': 1, 'os.b': 2, 'config.x': 'y' };
    const next = applyReport(base, {
      full: { os: { 'os.c': 3 } },
      delta: { config: { set: { 'config.z': 1 }, unset: ['config.x'] } },
    });
    expect(next).toEqual({ 'os.c': 3, 'config.z': 1 });
    expect(base).toEqual({ 'os.a': 1, 'os.b': 2, 'config.x': 'y' });
  });

  it('applies the delta of a category after its full, and keeps untouched categories', () => {
    const base = { 'os.a': 1, 'library.x': '1.0' };
    const next = applyReport(base, {
      full: { os: { 'os.b': 2, 'os.c': 3 } },
      delta: { os: { set: { 'os.d': 4 }, unset: ['os.c'] } },
    });
    expect(next).toEqual({ 'os.b': 2, 'os.d': 4, 'library.x': '1.0' });
  });

  it('empties a category sent full and empty; a report without changes copies the base', () => {
    const base = { 'probe.x': 1, 'os.a': 1 };
    expect(applyReport(base, { full: { probe: {} } })).toEqual({ 'os.a': 1 });
    const copy = applyReport(base, {});
    expect(copy).toEqual(base);
    expect(copy).not.toBe(base);
  });

  it('property: applying per category equals applying the whole map', () => {
    fc.assert(
      fc.property(factMap, report, (base, changes) => {
        const byCategory = groupByCategory(base, categoryOf);
        const categories = new Set([
          ...byCategory.keys(),
          ...Object.keys(changes.full ?? {}),
          ...Object.keys(changes.delta ?? {}),
        ]);
        const perCategory: FactMap = {};
        for (const category of categories) {
          const after = applyToCategory(byCategory.get(category), changes.full?.[category], changes.delta?.[category]);
          for (const path of Object.keys(after)) expect(categoryOf(path)).toBe(category);
          Object.assign(perCategory, after);
        }
        expect(applyReport(base, changes)).toEqual(perCategory);
      }),
    );
  });

  it('property: same result as the rule the agent applied before it moved to shared', () => {
    fc.assert(
      fc.property(factMap, report, (base, changes) => {
        const frozen = structuredClone(base);
        expect(applyReport(base, changes)).toEqual(referenceApplyReport(base, changes));
        expect(base).toEqual(frozen);
      }),
    );
  });
});

describe('applyToCategory', () => {
  it('a full replaces, then the delta patches: unset paths deleted, set paths assigned', () => {
    const current = { 'os.a': 1, 'os.b': 2 };
    const full = { 'os.b': 20, 'os.c': 30 };
    const delta = { set: { 'os.d': 4, 'os.b': 21 }, unset: ['os.c'] };
    expect(applyToCategory(current, full, delta)).toEqual({ 'os.b': 21, 'os.d': 4 });
    expect(applyToCategory(current, full, undefined)).toEqual(full);
    expect(applyToCategory(current, undefined, delta)).toEqual({ 'os.a': 1, 'os.b': 21, 'os.d': 4 });
    expect(applyToCategory(undefined, undefined, delta)).toEqual({ 'os.d': 4, 'os.b': 21 });
    expect(applyToCategory(undefined, undefined, undefined)).toEqual({});
  });

  it('modifies none of its arguments: a delta gives a new map, no delta the map itself (no copy)', () => {
    const current = Object.freeze({ 'os.a': 1 });
    const full = Object.freeze({ 'os.b': 2 });
    const delta = Object.freeze({ set: Object.freeze({ 'os.c': 3 }), unset: Object.freeze(['os.b']) as string[] });
    const after = applyToCategory(current, full, delta);
    expect(after).toEqual({ 'os.c': 3 });
    expect(after).not.toBe(full);
    expect(full).toEqual({ 'os.b': 2 });
    expect(applyToCategory(current, undefined, undefined)).toBe(current);
    expect(applyToCategory(undefined, full, undefined)).toBe(full);
    expect(applyToCategory(undefined, undefined, undefined)).toEqual({});
  });

  it('never reads a category from the prototype of the report records', () => {
    const base = { 'os.a': 1 };
    // `toString` is a full key but not a delta key: delta.toString is Object.prototype's function.
    const changes: ReportChanges = { full: { toString: {} }, delta: { os: { set: { 'os.b': 2 }, unset: [] } } };
    expect(applyReport(base, changes)).toEqual({ 'os.a': 1, 'os.b': 2 });
  });
});
