/**
 * The protocol's bounds applied to a collection pass before it becomes a report (docs/SECURITY.md):
 * - a value over MAX_VALUE_BYTES is replaced by `sha256:<hex>` of its JSON text, and the pass's
 *   errors say which path was hashed, so the aggregator never refuses the report for it;
 * - past MAX_HOST_PATHS paths in all, the largest categories are refused whole (largest first) and
 *   replaced by one `<category>.#refused` fact stating the count, plus an error, instead of the
 *   report being refused and nothing sent at all.
 */
import { createHash } from 'node:crypto';
import {
  categoryOf,
  type FactMap,
  type FactValue,
  factPath,
  factValueBytes,
  MAX_HOST_PATHS,
  MAX_VALUE_BYTES,
} from '@envparity/shared';

export interface FactBoundsOptions {
  maxValueBytes?: number;
  maxPaths?: number;
}

export interface BoundedPass {
  facts: FactMap;
  errors: { collector: string; message: string }[];
}

/** `sha256:<hex>` of a value's JSON text: what a too-long value is sent as. */
export function hashedValue(value: FactValue): string {
  return `sha256:${createHash('sha256').update(JSON.stringify(value)).digest('hex')}`;
}

/**
 * Bounds one pass: mutates `facts` (and each map in `parts`, the per-collector maps the facts
 * came from, so both stay in step) and returns the errors to add to the pass's errors.
 */
export function enforceFactBounds(
  facts: FactMap,
  parts: Iterable<FactMap>,
  { maxValueBytes = MAX_VALUE_BYTES, maxPaths = MAX_HOST_PATHS }: FactBoundsOptions = {},
): { collector: string; message: string }[] {
  const errors: { collector: string; message: string }[] = [];
  const partList = [...parts];
  const hashed: string[] = [];
  for (const [path, value] of Object.entries(facts)) {
    if (factValueBytes(value) <= maxValueBytes) continue;
    const replacement = hashedValue(value);
    facts[path] = replacement;
    for (const part of partList) if (Object.hasOwn(part, path)) part[path] = replacement;
    hashed.push(path);
  }
  if (hashed.length > 0) {
    errors.push({
      collector: 'bounds',
      message: `${hashed.length} value(s) over ${maxValueBytes} bytes sent as sha256:<hex>: ${hashed
        .slice(0, 5)
        .join(', ')
        .slice(0, 1000)}`,
    });
  }
  const total = Object.keys(facts).length;
  if (total <= maxPaths) return errors;
  const byCategory = new Map<string, string[]>();
  for (const path of Object.keys(facts)) {
    const category = categoryOf(path);
    let list = byCategory.get(category);
    if (!list) {
      list = [];
      byCategory.set(category, list);
    }
    list.push(path);
  }
  let remaining = total;
  const largestFirst = [...byCategory.entries()].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
  for (const [category, paths] of largestFirst) {
    if (remaining <= maxPaths) break;
    const marker = factPath(category, '#refused');
    const message = `${paths.length} paths: over the per-host cap of ${maxPaths} paths, category not sent`;
    // The marker belongs to the collector that produced the category (the first holding one of its paths).
    const owner = partList.find((part) => paths.some((path) => Object.hasOwn(part, path))) ?? partList[0];
    for (const path of paths) {
      delete facts[path];
      for (const part of partList) delete part[path];
    }
    facts[marker] = message;
    if (owner) owner[marker] = message;
    remaining -= paths.length - 1;
    errors.push({ collector: category, message: `category ${category} refused: ${message}` });
  }
  return errors;
}
