/**
 * A kept tally, brought from one set of hosts to the next, gives the baseline the definition gives
 * for the new set: per path, every counted host's value (or its lack), the most held one wins, equal
 * counts tie. Counted from scratch per host here, without blobs, as the reference.
 */
import {
  type Classifier,
  canonicalValue,
  categoryOf,
  compareStrings,
  createClassifier,
  type FactMap,
  type FactValue,
  fingerprintMap,
  groupByCategory,
  isCompared,
} from '@envparity/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CategoryBlob, HostSnapshot } from './baseline.js';
import { BaselineTally } from './baseline-tally.js';

const classify = createClassifier();
// os.uptime is volatile (never counted); 1 and '1' differ; -0 is 0; arrays compare by content.
const PATHS = ['library.a', 'library.b', 'config.env.X', 'config.env.Y', 'os.release', 'os.uptime'];
const valueArb = fc.oneof(
  fc.constantFrom('1', '2'),
  fc.constantFrom(1, 0, -0),
  fc.constantFrom<FactValue>(['x', 'y'], ['y', 'x']),
);
const factsArb = fc.dictionary(fc.constantFrom(...PATHS), valueArb, { maxKeys: PATHS.length });
/** Up to 8 hosts with facts and presence; a sequence of them is what the tally goes through. */
const hostsArb = fc.array(fc.record({ facts: factsArb, online: fc.boolean(), counted: fc.option(fc.boolean()) }), {
  maxLength: 8,
});

function snapshot(index: number, spec: { facts: FactMap; online: boolean; counted: boolean | null }): HostSnapshot {
  const categories = new Map<string, CategoryBlob>();
  for (const [category, map] of groupByCategory(spec.facts, categoryOf))
    categories.set(category, { hash: fingerprintMap(map), facts: map });
  return {
    id: `h${index}`,
    environment: 'production',
    online: spec.online,
    ...(spec.counted !== null ? { counted: spec.counted } : {}),
    categories,
    factsVersion: 0,
  };
}

/** The definition, host by host. */
function reference(hosts: readonly HostSnapshot[], classifier: Classifier) {
  const counted = hosts.filter((host) => host.counted ?? host.online);
  const used = counted.length > 0 ? counted : hosts;
  const byPath = new Map<string, Map<string, { value: FactValue; hosts: number }>>();
  for (const host of used) {
    for (const blob of host.categories.values()) {
      for (const [path, value] of Object.entries(blob.facts)) {
        if (!isCompared(classifier(path))) continue;
        const values = byPath.get(path) ?? new Map();
        byPath.set(path, values);
        const key = canonicalValue(value);
        const entry = values.get(key) ?? { value, hosts: 0 };
        entry.hosts++;
        values.set(key, entry);
      }
    }
  }
  const facts: FactMap = {};
  const support: Record<string, number> = {};
  const ties: { path: string; candidates: { value?: FactValue; hosts: number }[] }[] = [];
  for (const path of [...byPath.keys()].sort(compareStrings)) {
    const values = byPath.get(path) as Map<string, { value: FactValue; hosts: number }>;
    const candidates: { key: string; value?: FactValue; hosts: number }[] = [...values].map(([key, entry]) => ({
      key,
      ...entry,
    }));
    const present = candidates.reduce((n, c) => n + c.hosts, 0);
    if (present < used.length) candidates.push({ key: '\u0000missing', hosts: used.length - present });
    candidates.sort(
      (a, b) =>
        b.hosts - a.hosts ||
        Number(a.value === undefined) - Number(b.value === undefined) ||
        compareStrings(a.key, b.key),
    );
    const [top, second] = candidates as [(typeof candidates)[number], (typeof candidates)[number] | undefined];
    if (second && second.hosts === top.hosts) {
      ties.push({
        path,
        candidates: candidates
          .filter((c) => c.hosts === top.hosts)
          .map(({ value, hosts }) => (value === undefined ? { hosts } : { value, hosts })),
      });
    } else if (top.value !== undefined) {
      facts[path] = top.value;
      support[path] = top.hosts;
    }
  }
  return { hosts: used.length, stale: used.length > 0 && !used.some((host) => host.online), facts, ties, support };
}

/** As clients see it: 0 and -0 are one value, either may stand for it. */
const json = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('BaselineTally', () => {
  it('brought through any sequence of host sets, equals the definition at every step (property)', () => {
    let ties = 0;
    let steps = 0;
    fc.assert(
      fc.property(fc.array(hostsArb, { minLength: 1, maxLength: 6 }), (sequence) => {
        const tally = new BaselineTally(classify);
        for (const specs of sequence) {
          const hosts = specs.map((spec, i) => snapshot(i, spec));
          const { fingerprint, environment, ...baseline } = tally.update(hosts).baseline('production');
          expect(environment).toBe('production');
          expect(fingerprint).toMatch(/^ep1:/);
          const expected = reference(hosts, classify);
          expect(json(baseline)).toEqual(json(expected));
          ties += expected.ties.length;
          steps++;
        }
      }),
      { numRuns: 500 },
    );
    // Not vacuous: ties and multi-step sequences were common.
    expect(ties).toBeGreaterThan(200);
    expect(steps).toBeGreaterThan(1000);
  });

  it('forgets a path no host holds any more, and a value no host holds', () => {
    const tally = new BaselineTally(classify);
    const a = snapshot(0, { facts: { 'library.a': '1', 'config.env.X': 'on' }, online: true, counted: null });
    const b = snapshot(1, { facts: { 'library.a': '2' }, online: true, counted: null });
    // X on one host and missing on the other is a tie too.
    const both = tally.update([a, b]).baseline('p');
    expect(both.ties.map((tie) => tie.path)).toEqual(['config.env.X', 'library.a']);
    const only = tally.update([b]).baseline('p');
    expect(only.facts).toEqual({ 'library.a': '2' });
    expect(only.ties).toEqual([]);
    expect(tally.update([]).baseline('p')).toMatchObject({ hosts: 0, facts: {}, ties: [], support: {} });
  });
});
