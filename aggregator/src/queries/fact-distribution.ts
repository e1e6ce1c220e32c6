/**
 * Values of one fact path across hosts, counted per category blob: hosts sharing a blob share the
 * value, so 10,000 hosts on 3 images cost 10,000 map lookups and 3 reads of a value.
 */
import { canonicalValue, categoryOf, compareStrings, type FactMap, type FactValue } from '@envparity/shared';
import type { HostView } from '../store/fact-store.js';

export interface FactDistribution {
  /** Hosts that reported facts (hosts without any are not counted). */
  hosts: number;
  /** Of those, how many lack the path. */
  missing: number;
  /** Most common value first (ties by the value's canonical text). */
  values: { value: FactValue; hosts: number }[];
}

export function factDistribution(
  hosts: Iterable<HostView>,
  blobOf: (hash: string) => Readonly<FactMap> | undefined,
  path: string,
): FactDistribution {
  const category = categoryOf(path);
  const perBlob = new Map<string, number>();
  let counted = 0;
  let missing = 0;
  for (const host of hosts) {
    if (host.categories.size === 0) continue;
    counted++;
    const hash = host.categories.get(category);
    if (hash === undefined) missing++;
    else perBlob.set(hash, (perBlob.get(hash) ?? 0) + 1);
  }
  const values = new Map<string, { value: FactValue; hosts: number }>();
  for (const [hash, count] of perBlob) {
    const facts = blobOf(hash);
    if (!facts || !Object.hasOwn(facts, path)) {
      missing += count;
      continue;
    }
    const value = facts[path] as FactValue;
    const key = canonicalValue(value);
    const entry = values.get(key);
    if (entry) entry.hosts += count;
    else values.set(key, { value, hosts: count });
  }
  const sorted = [...values].sort(([ka, a], [kb, b]) => b.hosts - a.hosts || compareStrings(ka, kb));
  return { hosts: counted, missing, values: sorted.map(([, entry]) => entry) };
}

/** One fact of a host, read from its category blob without merging the host's facts. */
export function hostFact(
  host: HostView,
  blobOf: (hash: string) => Readonly<FactMap> | undefined,
  path: string,
): FactValue | undefined {
  const hash = host.categories.get(categoryOf(path));
  const facts = hash === undefined ? undefined : blobOf(hash);
  return facts && Object.hasOwn(facts, path) ? facts[path] : undefined;
}

/** A fact value compared with a query string: strings as is, anything else by its JSON text. */
export function valueMatches(value: FactValue, expected: string): boolean {
  return typeof value === 'string' ? value === expected : canonicalValue(value) === expected;
}
