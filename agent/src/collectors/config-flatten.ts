/**
 * Flattens parsed structured data (config files, JSON probe output) into fact paths.
 *
 * - nested objects become key segments (`factPath(...prefix, 'db', 'host')`);
 * - arrays of scalars become one array value when short, else index segments;
 * - arrays holding objects or arrays flatten with index segments (`servers.0.host`);
 * - a key starting with `#` is written with one more `#` (`#x` -> `##x`), so the markers the
 *   collectors add (`#sha256`, `#missing`, `#format`, ...) can never collide with a parsed key;
 * - every value under a key whose name matches the `secrets` globs (that key or any key above it)
 *   is replaced by the keyed hash, so the clear value never leaves the host.
 * Output depends only on the data (keys in document order), never on time or host.
 */
import { createHash } from 'node:crypto';
import { type FactMap, type FactScalar, type FactValue, factPath } from '@envparity/shared';
import type { SecretHasher } from '../secrets.js';

/** Arrays of scalars up to this many items stay one value; longer ones flatten with index segments. */
export const MAX_ARRAY_VALUE_ITEMS = 32;
/** ...and up to this many characters once serialized. */
export const MAX_ARRAY_VALUE_CHARS = 1024;
/** Strings longer than this are replaced by `sha256:<hex>` of the string (values must stay short). */
export const MAX_STRING_CHARS = 1024;
/** Deeper structures are replaced by `sha256:<hex>` of their JSON. */
export const MAX_DEPTH = 32;
/** At most this many facts per flattened document; the rest is dropped and `#truncated` says how many there were. */
export const MAX_FACTS_PER_DOCUMENT = 5_000;

export interface FlattenOptions {
  secrets: SecretHasher;
  /** True when everything flattened is secret (the prefix itself named a secret). */
  secret?: boolean;
}

/** A flattened leaf: key segments below the prefix and the fact value. */
export interface FlatEntry {
  keys: string[];
  value: FactValue;
}

/** Escapes a parsed key so it cannot look like a collector marker (markers are `#` + letters). */
export function escapeKey(key: string): string {
  return key.startsWith('#') ? `#${key}` : key;
}

/** Hex sha256 of a string or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Converts a parsed leaf to a fact scalar (`undefined` for values that are not leaves). */
export function toScalar(value: unknown): FactScalar | undefined {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
      return value.length > MAX_STRING_CHARS ? `sha256:${sha256Hex(value)}` : value;
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value)) return value;
      return Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf';
    case 'bigint':
      return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
    case 'object':
      // YAML timestamps (yaml-1.1 schema) and TOML dates; TomlDate.toISOString keeps local dates as written.
      return value instanceof Date ? value.toISOString() : undefined;
    default:
      return undefined;
  }
}

function isLeaf(value: unknown): boolean {
  return value === null || typeof value !== 'object' || value instanceof Date;
}

/** The clear text a secret leaf is hashed from: strings as is, other values as JSON. */
function secretText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'null';
}

/** Flattens `value` into entries (key segments relative to the caller's prefix). */
export function flattenEntries(value: unknown, options: FlattenOptions): FlatEntry[] {
  const entries: FlatEntry[] = [];
  const { secrets } = options;
  const walk = (node: unknown, keys: string[], secret: boolean, depth: number) => {
    if (isLeaf(node)) {
      const scalar = secret ? secrets.hash(secretText(node)) : toScalar(node);
      if (scalar !== undefined) entries.push({ keys, value: scalar });
      return;
    }
    if (depth >= MAX_DEPTH) {
      entries.push({ keys, value: secret ? secrets.hash(secretText(node)) : `sha256:${sha256Hex(secretText(node))}` });
      return;
    }
    if (Array.isArray(node)) {
      if (node.every(isLeaf)) {
        if (secret) {
          entries.push({ keys, value: secrets.hash(secretText(node)) });
          return;
        }
        const scalars = node.map(toScalar);
        if (
          scalars.every((s) => s !== undefined) &&
          scalars.length <= MAX_ARRAY_VALUE_ITEMS &&
          JSON.stringify(scalars).length <= MAX_ARRAY_VALUE_CHARS
        ) {
          entries.push({ keys, value: scalars as FactScalar[] });
          return;
        }
      }
      node.forEach((item, index) => {
        walk(item, [...keys, String(index)], secret, depth + 1);
      });
      return;
    }
    for (const [key, child] of Object.entries(node as Record<string, unknown>)) {
      walk(child, [...keys, escapeKey(key)], secret || secrets.isSecretName(key), depth + 1);
    }
  };
  walk(value, [], options.secret ?? false, 0);
  return entries;
}

/**
 * Flattens `value` under `prefix` into `out`. A scalar at the root lands on `prefix` itself
 * unless `rootScalarKey` is given (then on `[...prefix, rootScalarKey]`). Returns how many facts
 * were written; past MAX_FACTS_PER_DOCUMENT the rest is dropped and `#truncated` holds the total.
 */
export function flattenInto(
  out: FactMap,
  prefix: readonly string[],
  value: unknown,
  options: FlattenOptions & { rootScalarKey?: string },
): number {
  const entries = flattenEntries(value, options);
  const kept = entries.length > MAX_FACTS_PER_DOCUMENT ? entries.slice(0, MAX_FACTS_PER_DOCUMENT) : entries;
  for (const { keys, value: leaf } of kept) {
    const segments = keys.length === 0 && options.rootScalarKey ? [options.rootScalarKey] : keys;
    out[factPath(...prefix, ...segments)] = leaf;
  }
  if (kept.length < entries.length) out[factPath(...prefix, '#truncated')] = entries.length;
  return kept.length;
}
