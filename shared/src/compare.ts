/**
 * Comparison of two fact maps as users see it: every compared path whose values differ, with a
 * status (`drift`, `justified` by a documented exception, or `scale`), and a parity score. Shared
 * by the aggregator's compare/outliers and the agent's `verify`, so both judge identically.
 */
import { z } from 'zod';
import { compareStrings, factValuesEqual } from './canonical.js';
import { type Classifier, createClassifier } from './classes.js';
import type { FactMap, FactValue } from './facts.js';
import { compilePathGlob, type PathGlob } from './glob.js';
import { categoryOf } from './paths.js';

export const DIFFERENCE_STATUSES = ['drift', 'justified', 'scale'] as const;
export type DifferenceStatus = (typeof DIFFERENCE_STATUSES)[number];

/** A documented intentional difference (InSpec-style waiver): reason required, expiry optional. */
export const exceptionRuleSchema = z.object({
  id: z.string(),
  path: z.string().min(1),
  environments: z.array(z.string().min(1)).min(1).max(2),
  reason: z.string().min(1),
  impact: z.string().optional(),
  owner: z.string().optional(),
  expiresAt: z.string().nullable().optional(),
});
export type ExceptionRule = z.infer<typeof exceptionRuleSchema>;

export interface ComparedDifference {
  path: string;
  category: string;
  status: DifferenceStatus;
  /** Absent when the path exists only on the `to` side. */
  from?: FactValue;
  /** Absent when the path exists only on the `from` side. */
  to?: FactValue;
  /** The exception that justifies this difference. */
  exception?: { id: string; reason: string };
}

export interface Comparison {
  /** Share of compared behavior paths that are equal or justified, 0..1 (1 when nothing to compare). */
  parity: number;
  /** Number of behavior paths compared (present on either side). */
  compared: number;
  differences: ComparedDifference[];
}

export interface CompareOptions {
  classify?: Classifier;
  exceptions?: readonly ExceptionRule[];
  /** Environment names of the two sides, for exception matching. */
  fromEnvironment?: string;
  toEnvironment?: string;
  /** Only these categories. */
  categories?: readonly string[];
  /** Expired exceptions stop matching. */
  now?: Date;
}

/** True when `rule` is in force at `now` (no expiry, or an expiry after now). */
export function isExceptionActive(rule: Pick<ExceptionRule, 'expiresAt'>, now = new Date()): boolean {
  return !rule.expiresAt || Date.parse(rule.expiresAt) > now.getTime();
}

/**
 * Exception matching: the path glob matches and both sides' environments are among the rule's
 * `environments` (an unordered pair; a single name covers differences inside that environment).
 */
export function createExceptionMatcher(
  rules: readonly ExceptionRule[],
  fromEnvironment: string | undefined,
  toEnvironment: string | undefined,
  now = new Date(),
): (path: string) => ExceptionRule | undefined {
  const applicable: { rule: ExceptionRule; glob: PathGlob }[] = rules
    .filter((rule) => isExceptionActive(rule, now))
    .filter((rule) => {
      if (fromEnvironment === undefined || toEnvironment === undefined) return false;
      return rule.environments.includes(fromEnvironment) && rule.environments.includes(toEnvironment);
    })
    .map((rule) => ({ rule, glob: compilePathGlob(rule.path) }));
  return (path) => applicable.find(({ glob }) => glob.matches(path))?.rule;
}

const defaultClassifier = createClassifier();

/** Compares two fact maps; identity and volatile facts never appear. */
export function compareFacts(from: FactMap, to: FactMap, options: CompareOptions = {}): Comparison {
  const { classify = defaultClassifier, exceptions = [], fromEnvironment, toEnvironment, categories, now } = options;
  const exceptionFor = createExceptionMatcher(exceptions, fromEnvironment, toEnvironment, now);
  const paths = new Set([...Object.keys(from), ...Object.keys(to)]);
  const differences: ComparedDifference[] = [];
  let compared = 0;
  let equalOrJustified = 0;
  for (const path of [...paths].sort(compareStrings)) {
    const factClass = classify(path);
    if (factClass !== 'behavior' && factClass !== 'scale') continue;
    const category = categoryOf(path);
    if (categories && !categories.includes(category)) continue;
    const inFrom = Object.hasOwn(from, path);
    const inTo = Object.hasOwn(to, path);
    const equal = inFrom && inTo && factValuesEqual(from[path], to[path]);
    if (factClass === 'behavior') compared++;
    if (equal) {
      if (factClass === 'behavior') equalOrJustified++;
      continue;
    }
    const difference: ComparedDifference = { path, category, status: factClass === 'scale' ? 'scale' : 'drift' };
    if (inFrom) difference.from = from[path] as FactValue;
    if (inTo) difference.to = to[path] as FactValue;
    if (factClass === 'behavior') {
      const rule = exceptionFor(path);
      if (rule) {
        difference.status = 'justified';
        difference.exception = { id: rule.id, reason: rule.reason };
        equalOrJustified++;
      }
    }
    differences.push(difference);
  }
  return { parity: compared === 0 ? 1 : equalOrJustified / compared, compared, differences };
}
