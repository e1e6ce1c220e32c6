import type { FactMap, FactValue } from './facts.js';

/** Code-unit order: stable across platforms and locales, unlike localeCompare. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Canonical text of one value: JSON, with -0 as 0 so equal numbers encode equally. */
export function canonicalValue(value: FactValue): string {
  // Fast path (this runs for every fact of every fingerprint): JSON.stringify already writes -0 as
  // `0`, so without a replacer the text is byte-identical for primitives and arrays of primitives.
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return Object.is(value, -0) ? '0' : JSON.stringify(value);
    default:
      if (value === null) return 'null';
      if (Array.isArray(value) && value.every(isPrimitive)) return JSON.stringify(value);
      return JSON.stringify(value, (_key, v) => (Object.is(v, -0) ? 0 : v));
  }
}

function isPrimitive(item: unknown): boolean {
  return item === null || typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean';
}

/** True when two fact values are the same (arrays compared element by element, in order). */
export function factValuesEqual(a: FactValue | undefined, b: FactValue | undefined): boolean {
  if (a === b) return true;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  // Element by element, as their canonical texts would compare (=== takes -0 for 0, as they do).
  for (let i = 0; i < a.length; i++) if (!scalarsEqual(a[i], b[i])) return false;
  return true;
}

/** Equal as canonical text: primitives by ===, anything else (never in a valid fact) by its JSON. */
function scalarsEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isPrimitive(a) || isPrimitive(b)) return false;
  return canonicalValue(a as FactValue) === canonicalValue(b as FactValue);
}

/**
 * True when two fact maps hold the same paths with the same values, so their canonical encodings
 * (and fingerprintMap) are equal: a walk of both, without encoding or hashing either.
 */
export function factMapsEqual(a: Readonly<FactMap>, b: Readonly<FactMap>): boolean {
  const paths = Object.keys(a);
  if (paths.length !== Object.keys(b).length) return false;
  for (const path of paths) {
    if (!Object.hasOwn(b, path)) return false;
    if (!factValuesEqual(a[path], b[path])) return false;
  }
  return true;
}

/**
 * Canonical encoding of a fact map: one line per fact, `JSON(path) TAB canonical(value)`, sorted
 * by path in code-unit order. Independent of key insertion order.
 */
export function canonicalEncode(facts: FactMap, include: (path: string) => boolean = () => true): string {
  const paths = Object.keys(facts).filter(include).sort(compareStrings);
  let out = '';
  for (const path of paths) out += `${JSON.stringify(path)}\t${canonicalValue(facts[path] as FactValue)}\n`;
  return out;
}
