/** Path-by-path differences between two fact maps, and deltas that turn one map into another. */
import { compareStrings, factValuesEqual } from './canonical.js';
import type { Classifier, FactClass } from './classes.js';
import { createClassifier } from './classes.js';
import type { FactMap, FactValue } from './facts.js';
import { categoryOf } from './paths.js';

export const DIFF_KINDS = ['added', 'removed', 'changed'] as const;
export type DiffKind = (typeof DIFF_KINDS)[number];

export interface FactDifference {
  path: string;
  category: string;
  class: FactClass;
  kind: DiffKind;
  /** Absent when the path was added. */
  from?: FactValue;
  /** Absent when the path was removed. */
  to?: FactValue;
}

export interface DiffOptions {
  classify?: Classifier;
  /** Which classes to report; default: all. */
  classes?: readonly FactClass[];
}

const defaultClassifier = createClassifier();

/** Every path whose value differs between `from` and `to`, sorted by path. */
export function diffFacts(
  from: FactMap,
  to: FactMap,
  { classify = defaultClassifier, classes }: DiffOptions = {},
): FactDifference[] {
  const paths = new Set([...Object.keys(from), ...Object.keys(to)]);
  const differences: FactDifference[] = [];
  for (const path of [...paths].sort(compareStrings)) {
    const inFrom = Object.hasOwn(from, path);
    const inTo = Object.hasOwn(to, path);
    if (inFrom && inTo && factValuesEqual(from[path], to[path])) continue;
    const factClass = classify(path);
    if (classes && !classes.includes(factClass)) continue;
    const difference: FactDifference = {
      path,
      category: categoryOf(path),
      class: factClass,
      kind: inFrom && inTo ? 'changed' : inTo ? 'added' : 'removed',
    };
    if (inFrom) difference.from = from[path] as FactValue;
    if (inTo) difference.to = to[path] as FactValue;
    differences.push(difference);
  }
  return differences;
}

/** The changes that turn one fact map into another: paths to set and paths to remove. */
export interface FactDelta {
  set: FactMap;
  unset: string[];
}

/** The delta from `previous` to `next`; `applyDelta(previous, computeDelta(previous, next))` equals `next`. */
export function computeDelta(previous: FactMap, next: FactMap): FactDelta {
  const set: FactMap = {};
  const unset: string[] = [];
  for (const [path, value] of Object.entries(next)) {
    if (!Object.hasOwn(previous, path) || !factValuesEqual(previous[path], value)) set[path] = value;
  }
  for (const path of Object.keys(previous)) {
    if (!Object.hasOwn(next, path)) unset.push(path);
  }
  unset.sort(compareStrings);
  return { set, unset };
}

export function isEmptyDelta(delta: FactDelta): boolean {
  return delta.unset.length === 0 && Object.keys(delta.set).length === 0;
}

/** A new map: `base` with the delta applied. `base` is not modified. */
export function applyDelta(base: FactMap, delta: FactDelta): FactMap {
  const result: FactMap = { ...base };
  for (const path of delta.unset) delete result[path];
  for (const [path, value] of Object.entries(delta.set)) result[path] = value;
  return result;
}

/** Per-category deltas, only for the categories that changed. */
export function computeCategoryDeltas(previous: FactMap, next: FactMap): Record<string, FactDelta> {
  const whole = computeDelta(previous, next);
  const byCategory: Record<string, FactDelta> = {};
  const entry = (category: string) => {
    byCategory[category] ??= { set: {}, unset: [] };
    return byCategory[category];
  };
  for (const [path, value] of Object.entries(whole.set)) entry(categoryOf(path)).set[path] = value;
  for (const path of whole.unset) entry(categoryOf(path)).unset.push(path);
  return byCategory;
}
