import {
  categoryOf,
  createClassifier,
  type FactMap,
  type FactValue,
  fingerprintMap,
  groupByCategory,
} from '@envparity/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CategoryBlob, computeBaseline, type HostSnapshot } from '../drift/baseline.js';
import { currentSnapshots, pastBaseline } from './baseline-at.js';
import type { PastHost } from './past-baseline.js';
import { applyPatch, type UndoPatch } from './state-at.js';

const classify = createClassifier();
// os.uptime is volatile (not compared): undoing it must change nothing.
const PATHS = ['library.a', 'library.b', 'library.c', 'config.env.X', 'config.env.Y', 'os.release', 'os.uptime'];
// 1 and '1' are different values; -0 is 0; arrays compare by content.
const valueArb = fc.oneof(
  fc.constantFrom('1', '2', '3'),
  fc.constantFrom(1, 2, 0, -0),
  fc.constantFrom<FactValue>(['x', 'y'], ['y', 'x']),
);
const factsArb = fc.dictionary(fc.constantFrom(...PATHS), valueArb, { maxKeys: PATHS.length });

function blobsOf(facts: FactMap): Map<string, CategoryBlob> {
  const out = new Map<string, CategoryBlob>();
  for (const [category, map] of groupByCategory(facts, categoryOf))
    out.set(category, { hash: fingerprintMap(map), facts: map });
  return out;
}

const json = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

/** Every host with its own past state: the definition. */
function naive(hosts: readonly PastHost[]): HostSnapshot[] {
  return hosts.map((host) => {
    const merged: FactMap = {};
    for (const blob of host.current.values()) Object.assign(merged, blob.facts);
    return {
      id: host.id,
      environment: 'production',
      online: true,
      counted: true,
      categories: blobsOf(applyPatch(merged, host.patch)),
      factsVersion: 0,
    };
  });
}

const hostsArb = fc
  .record({
    // A few images, many hosts on them (some with a host-specific twist), each undoing a few paths.
    images: fc.array(factsArb, { minLength: 1, maxLength: 3 }),
    specs: fc.array(
      fc.record({
        image: fc.nat(),
        own: fc.dictionary(fc.constantFrom(...PATHS), fc.option(valueArb, { nil: undefined }), { maxKeys: 1 }),
        patch: fc.dictionary(fc.constantFrom(...PATHS), fc.option(valueArb, { nil: undefined }), { maxKeys: 3 }),
      }),
      { minLength: 0, maxLength: 24 },
    ),
  })
  .map(({ images, specs }) =>
    specs.map((spec, i): PastHost => {
      const facts = applyPatch(images[spec.image % images.length] as FactMap, new Map(Object.entries(spec.own)));
      return {
        id: `h${i}`,
        factsVersion: 0,
        current: blobsOf(facts),
        patch: new Map(Object.entries(spec.patch)) as UndoPatch,
      };
    }),
  );

describe('the baseline at T from a baseline now', () => {
  it('is computeBaseline over the hosts’ own past states: facts, ties, support, host count (property)', () => {
    let shortcuts = 0;
    let ties = 0;
    fc.assert(
      fc.property(hostsArb, fc.constantFrom(2_000_000, 1), fc.boolean(), (hosts, maxEntries, given) => {
        const expected = computeBaseline('production', naive(hosts), classify);
        // The live baseline of the same hosts (as the drift engine computes it), or none.
        const now = given ? computeBaseline('production', currentSnapshots('production', hosts), classify) : undefined;
        const actual = pastBaseline('production', hosts, classify, now, maxEntries);
        // As clients see it: 0 and -0 are one value to the baseline, and either may stand for it.
        expect(json(actual)).toEqual(json(expected));
        if (expected.ties.length > 0) ties++;
        if (hosts.some((host) => host.patch.size > 0) && Object.keys(expected.facts).length > 0) shortcuts++;
      }),
      { numRuns: 1000 },
    );
    // Not vacuous: ties and undone paths were common.
    expect(ties).toBeGreaterThan(100);
    expect(shortcuts).toBeGreaterThan(300);
  });

  it('decides a path held by a strict majority at T without counting it, and counts the rest', () => {
    const image: FactMap = { 'library.dpkg.a': '1', 'library.dpkg.b': '1', 'library.dpkg.c': '1' };
    const hosts: PastHost[] = Array.from({ length: 10 }, (_, i) => ({
      id: `h${i}`,
      factsVersion: 0,
      // c: 5 hosts on 1, 5 lack it now; a: every host on 1 now.
      current: blobsOf(i < 5 ? image : { 'library.dpkg.a': '1', 'library.dpkg.b': '1' }),
      patch: new Map<string, FactValue | undefined>(
        i < 3
          ? [
              ['library.dpkg.a', '0'],
              ['library.dpkg.c', undefined],
            ]
          : [],
      ),
    }));
    const now = computeBaseline('production', currentSnapshots('production', hosts), classify);
    expect(now.ties.map((tie) => tie.path)).toEqual(['library.dpkg.c']);
    const past = pastBaseline('production', hosts, classify, now);
    // a: 7 of 10 on 1 at T; c: 2 on 1, 8 missing (a strict majority: left out, no tie); b: unchanged.
    expect(past.facts).toEqual({ 'library.dpkg.a': '1', 'library.dpkg.b': '1' });
    expect(past.support).toEqual({ 'library.dpkg.a': 7, 'library.dpkg.b': 10 });
    expect(past.ties).toEqual([]);
    expect(past).toEqual(computeBaseline('production', naive(hosts), classify));
  });

  it('refuses a current baseline over another number of hosts', () => {
    const hosts: PastHost[] = [
      { id: 'h1', factsVersion: 0, current: blobsOf({ 'os.release': '12' }), patch: new Map() },
    ];
    const other = computeBaseline('production', [], classify);
    expect(() => pastBaseline('production', hosts, classify, other)).toThrow(/counts 0 hosts, not 1/);
  });
});
