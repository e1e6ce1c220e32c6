import {
  categoryOf,
  createClassifier,
  type FactMap,
  type FactValue,
  factValuesEqual,
  fingerprintMap,
  groupByCategory,
  ownValue,
} from '@envparity/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CategoryBlob, HostSnapshot } from '../drift/baseline.js';
import { environmentState } from '../drift/environment-states.js';
import { ValueHolders } from './promotion-holders.js';

const classify = createClassifier();
// library.* and config.* are compared; os.uptime is volatile (answered by walking the blobs).
const PATHS = ['library.a', 'library.b', 'config.env.X', 'os.uptime'];
const VALUES: FactValue[] = ['1', '2', 1, ['x', 'y']];
const factsArb = fc.dictionary(fc.constantFrom(...PATHS), fc.constantFrom(...VALUES), { maxKeys: PATHS.length });

function snapshot(index: number, facts: FactMap): HostSnapshot {
  const categories = new Map<string, CategoryBlob>();
  for (const [category, map] of groupByCategory(facts, categoryOf))
    categories.set(category, { hash: fingerprintMap(map), facts: map });
  return { id: `h${index}`, environment: 'production', online: true, categories, factsVersion: 0 };
}

describe('ValueHolders', () => {
  it('answers hosts and counts of every value as a walk of the hosts does: baseline values, others, ties, missing paths and categories (property)', () => {
    fc.assert(
      fc.property(fc.array(factsArb, { minLength: 1, maxLength: 9 }), (specs) => {
        const hosts = specs.map((facts, i) => snapshot(i, facts)).filter((host) => host.categories.size > 0);
        const state = environmentState({ environment: 'production', hosts, classify });
        const holders = new ValueHolders(state, classify);
        expect(holders.total).toBe(hosts.length);
        for (const path of PATHS) {
          for (const value of VALUES) {
            const expected = hosts
              .filter((host) => {
                const held = ownValue(host.categories.get(categoryOf(path))?.facts ?? {}, path);
                return held !== undefined && factValuesEqual(held, value);
              })
              .map((host) => host.id)
              .sort();
            expect(
              holders
                .hosts(path, value)
                .map((host) => host.id)
                .sort(),
            ).toEqual(expected);
            expect(holders.count(path, value)).toBe(expected.length);
          }
        }
      }),
      { numRuns: 400 },
    );
  });
});
