import { categoryOf, createClassifier, type FactMap, fingerprintMap, groupByCategory } from '@envparity/shared';
import type { CategoryBlob, HostSnapshot } from '../src/drift/baseline.js';

/** Builds a HostSnapshot from a flat fact map (tests and tools). Equal categories share a hash. */
export function snapshotOf(
  id: string,
  environment: string | undefined,
  facts: FactMap,
  online = true,
  factsVersion = 1,
): HostSnapshot {
  const categories = new Map<string, CategoryBlob>();
  for (const [category, map] of groupByCategory(facts, categoryOf))
    categories.set(category, { hash: fingerprintMap(map), facts: map });
  return { id, environment, online, categories, factsVersion };
}

export const testClassifier = createClassifier();
