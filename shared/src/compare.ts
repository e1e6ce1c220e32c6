/**
 * Comparison of two fact maps as users see it: every compared path whose values differ, with a
 * status (`drift`, `justified` by a documented exception, `scale`, or `secret-policy` when a secret
 * breaks its policy), and a parity score. Shared by the aggregator's compare/outliers and the agent's
 * `verify`, so both judge identically.
 */
import { z } from 'zod';
import { compareStrings, factValuesEqual } from './canonical.js';
import { type Classifier, createClassifier } from './classes.js';
import { type DifferenceStatus, differenceStatus, type PlainDifferenceStatus } from './difference-status.js';
import type { FactMap, FactValue } from './facts.js';
import { compilePathGlob, type PathGlob } from './glob.js';
import { categoryOf } from './paths.js';

/** Prefix of every secret value the agents send: a keyed hash (HMAC-SHA256 with the fleet key), hex. */
export const SECRET_HASH_PREFIX = 'hmac-sha256:';

/** True when a fact value is a secret's keyed hash (never a clear value). */
export function isSecretHash(value: FactValue | undefined): value is string {
  return typeof value === 'string' && value.startsWith(SECRET_HASH_PREFIX);
}

/**
 * What a secret path should look like across two environments: `differ` (staging must not use the
 * production secret: equal hashes are the finding, different ones are fine) or `equal` (one shared
 * secret: different hashes are the finding). Config `secretPolicy` of the aggregator.
 */
export interface SecretPolicyRule {
  /** Path glob (e.g. `config.env.DB_PASSWORD`, `process.*.env.*_SECRET`). */
  glob: string;
  expect: 'differ' | 'equal';
}

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

export interface ComparedDifference<S extends DifferenceStatus = DifferenceStatus> {
  path: string;
  category: string;
  status: S;
  /** Absent when the path exists only on the `to` side. */
  from?: FactValue;
  /** Absent when the path exists only on the `from` side. */
  to?: FactValue;
  /** The exception that justifies this difference. */
  exception?: { id: string; reason: string };
  /** Status `secret-policy` (or justified one): what the policy expected of the two hashes. */
  secretPolicy?: SecretPolicyRule['expect'];
}

export interface Comparison<S extends DifferenceStatus = DifferenceStatus> {
  /** Share of compared behavior paths that are equal or justified, 0..1 (1 when nothing to compare). */
  parity: number;
  /** Number of behavior paths compared (present on either side). */
  compared: number;
  differences: ComparedDifference<S>[];
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
  /**
   * Secret policy (first matching glob wins), applied to behavior paths whose values are secret
   * hashes on both sides, when the sides are different environments (or an environment is unknown):
   * `differ` turns equal hashes into a `secret-policy` finding and different hashes into no
   * difference at all; `equal` turns different hashes into a `secret-policy` finding. A finding
   * counts like drift in `parity`; an exception covering the path justifies it.
   */
  secretPolicy?: readonly SecretPolicyRule[];
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
      // One environment justifies differences inside it (outliers); a pair, differences between
      // the two. A staging/production exception says nothing about one production host that drifted.
      if (fromEnvironment === toEnvironment) {
        return rule.environments.length === 1 && rule.environments[0] === fromEnvironment;
      }
      return rule.environments.includes(fromEnvironment) && rule.environments.includes(toEnvironment);
    })
    .map((rule) => ({ rule, glob: compilePathGlob(rule.path) }));
  return (path) => applicable.find(({ glob }) => glob.matches(path))?.rule;
}

const defaultClassifier = createClassifier();

/** The policy of a path, if any (first matching glob wins). */
export function createSecretPolicyMatcher(
  rules: readonly SecretPolicyRule[],
): (path: string) => SecretPolicyRule | undefined {
  const compiled = rules.map((rule) => ({ rule, glob: compilePathGlob(rule.glob) }));
  return (path) => compiled.find(({ glob }) => glob.matches(path))?.rule;
}

/** Compares two fact maps; identity and volatile facts never appear. */
export function compareFacts(
  from: FactMap,
  to: FactMap,
  options?: CompareOptions & { secretPolicy?: undefined },
): Comparison<PlainDifferenceStatus>;
export function compareFacts(from: FactMap, to: FactMap, options?: CompareOptions): Comparison;
export function compareFacts(from: FactMap, to: FactMap, options: CompareOptions = {}): Comparison {
  const { classify = defaultClassifier, exceptions = [], fromEnvironment, toEnvironment, categories, now } = options;
  const exceptionFor = createExceptionMatcher(exceptions, fromEnvironment, toEnvironment, now);
  // Inside one environment hosts share their secrets: the policy is about environment pairs.
  const sameEnvironment = fromEnvironment !== undefined && fromEnvironment === toEnvironment;
  const policyFor =
    options.secretPolicy && options.secretPolicy.length > 0 && !sameEnvironment
      ? createSecretPolicyMatcher(options.secretPolicy)
      : undefined;
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
    const policy =
      factClass === 'behavior' && policyFor && isSecretHash(from[path]) && isSecretHash(to[path])
        ? policyFor(path)
        : undefined;
    // `differ`: different hashes are what is wanted; `equal`: equal ones. Either is parity.
    if (policy ? equal !== (policy.expect === 'differ') : equal) {
      if (factClass === 'behavior') equalOrJustified++;
      continue;
    }
    const rule = exceptionFor(path);
    const status = differenceStatus({ factClass, exception: rule });
    // A secret breaking its policy is drift of its own kind (an exception still justifies it).
    const difference: ComparedDifference = {
      path,
      category,
      status: policy && status === 'drift' ? 'secret-policy' : status,
    };
    if (policy) difference.secretPolicy = policy.expect;
    if (inFrom) difference.from = from[path] as FactValue;
    if (inTo) difference.to = to[path] as FactValue;
    if (status === 'justified' && rule) {
      difference.exception = { id: rule.id, reason: rule.reason };
      equalOrJustified++;
    }
    differences.push(difference);
  }
  return { parity: compared === 0 ? 1 : equalOrJustified / compared, compared, differences };
}
