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
import { type PastHost, pastBaselineSnapshots } from './past-baseline.js';
import { applyPatch, type UndoPatch } from './state-at.js';

const classify = createClassifier();
const PATHS = ['library.a', 'library.b', 'library.c', 'library.d', 'config.env.X', 'config.env.Y', 'os.release'];
const valueArb = fc.oneof(fc.constantFrom('1', '2', '3'), fc.integer({ min: 1, max: 2 }), fc.constant(['x', 'y']));
const factsArb = fc.dictionary(fc.constantFrom(...PATHS), valueArb, { maxKeys: PATHS.length });

function blobsOf(facts: FactMap): Map<string, CategoryBlob> {
  const out = new Map<string, CategoryBlob>();
  for (const [category, map] of groupByCategory(facts, categoryOf))
    out.set(category, { hash: fingerprintMap(map), facts: map });
  return out;
}

/** The plain way: every host with its own past blobs. */
function naive(hosts: PastHost[]): HostSnapshot[] {
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

describe('the past baseline arrangement', () => {
  it('gives the baseline of the hosts’ own past states: facts, ties, support, host count (property)', () => {
    fc.assert(
      fc.property(
        // A few images, many hosts on them, each undoing a few paths (to a value, or to absent).
        fc.array(factsArb, { minLength: 1, maxLength: 3 }),
        fc.array(
          fc.record({
            image: fc.nat(),
            patch: fc.dictionary(fc.constantFrom(...PATHS), fc.option(valueArb, { nil: undefined }), { maxKeys: 3 }),
          }),
          { minLength: 1, maxLength: 30 },
        ),
        fc.constantFrom(2_000_000, 1),
        (images, specs, maxEntries) => {
          const hosts: PastHost[] = specs.map((spec, i) => ({
            id: `h${i}`,
            factsVersion: 0,
            current: blobsOf(images[spec.image % images.length] as FactMap),
            patch: new Map(Object.entries(spec.patch)) as UndoPatch,
          }));
          const expected = computeBaseline('production', naive(hosts), classify);
          const actual = computeBaseline(
            'production',
            pastBaselineSnapshots('production', hosts, maxEntries),
            classify,
          );
          expect(actual).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('uses a handful of blobs when every host undid a different path', () => {
    const image: FactMap = {};
    for (let i = 0; i < 200; i++) image[`library.dpkg.p${i}`] = '1.0';
    const current = blobsOf(image);
    const hosts: PastHost[] = Array.from({ length: 1000 }, (_, i) => ({
      id: `h${i}`,
      factsVersion: 0,
      current,
      patch: new Map<string, FactValue | undefined>([[`library.dpkg.p${i % 200}`, '0.9']]),
    }));
    const snapshots = pastBaselineSnapshots('production', hosts);
    const distinct = new Set(snapshots.flatMap((s) => [...s.categories.values()].map((blob) => blob.hash)));
    expect(distinct.size).toBeLessThanOrEqual(4);
    const baseline = computeBaseline('production', snapshots, classify);
    expect(baseline.hosts).toBe(1000);
    expect(baseline.facts['library.dpkg.p7']).toBe('1.0');
    expect(baseline.support['library.dpkg.p7']).toBe(995);
    expect(baseline).toEqual(computeBaseline('production', naive(hosts), classify));
  });
});
