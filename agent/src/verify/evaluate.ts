/**
 * Turns a comparison into per-path checks, the unit every output format reports: a check per
 * compared path, passing or not, so the summary counts and per-category views add up.
 */
import {
  type Classifier,
  categoryOf,
  compareFacts,
  compareStrings,
  createClassifier,
  DIFFERENCE_STATUSES,
  differenceStatus,
  type ExceptionRule,
  type FactMap,
  type FactValue,
  type SecretPolicyRule,
} from '@envparity/shared';
import { describeMatcher, type ExpectationFile, matches } from './expectation.js';

/**
 * A passing check, or a difference's status (`secret-policy`: a secret that the aggregator's
 * `secretPolicy` says must differ, or be equal, does not).
 */
export const CHECK_STATUSES = ['pass', ...DIFFERENCE_STATUSES] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

export interface Check {
  path: string;
  category: string;
  status: CheckStatus;
  /** What the target holds (baseline value, or the matcher's description for --expect); absent when missing there. */
  expected?: FactValue;
  /** What this host holds; absent when missing here. */
  actual?: FactValue;
  /** Why a justified difference is accepted. */
  exception?: { id: string; reason: string };
}

export interface VerifyResult {
  target: { kind: 'environment' | 'file'; name: string };
  host: { id: string; environment?: string };
  /** Share of compared behavior paths that are equal or justified. */
  parity: number;
  strict: boolean;
  /** Categories that may fail the run; empty = all. */
  failOn: string[];
  passed: boolean;
  summary: {
    checked: number;
    pass: number;
    drift: number;
    justified: number;
    scale: number;
    secretPolicy: number;
    ignored: number;
  };
  checks: Check[];
}

export interface JudgeOptions {
  strict?: boolean;
  failOn?: readonly string[];
}

/** Whether a check fails the run under the given options. */
export function isFailing(check: Check, { strict = false, failOn = [] }: JudgeOptions): boolean {
  if (failOn.length > 0 && !failOn.includes(check.category)) return false;
  return check.status === 'drift' || check.status === 'secret-policy' || (strict && check.status === 'scale');
}

function summarize(
  target: VerifyResult['target'],
  host: VerifyResult['host'],
  checks: Check[],
  parity: number,
  ignored: number,
  options: JudgeOptions,
): VerifyResult {
  const summary = { checked: checks.length, pass: 0, drift: 0, justified: 0, scale: 0, secretPolicy: 0, ignored };
  for (const check of checks) summary[check.status === 'secret-policy' ? 'secretPolicy' : check.status]++;
  return {
    target,
    host,
    parity,
    strict: options.strict ?? false,
    failOn: [...(options.failOn ?? [])],
    passed: !checks.some((check) => isFailing(check, options)),
    summary,
    checks,
  };
}

export interface AgainstOptions extends JudgeOptions {
  classify?: Classifier;
  exceptions?: readonly ExceptionRule[];
  /** The aggregator's `secretPolicy` (published with the baseline), so secrets are judged as `/compare` does. */
  secretPolicy?: readonly SecretPolicyRule[];
  categories?: readonly string[];
  now?: Date;
}

/** This host against an environment's live baseline, judged like the aggregator's compare. */
export function verifyAgainstBaseline(
  host: VerifyResult['host'],
  hostFacts: FactMap,
  environment: string,
  baseline: FactMap,
  options: AgainstOptions = {},
): VerifyResult {
  const classify = options.classify ?? createClassifier();
  const comparison = compareFacts(baseline, hostFacts, {
    classify,
    exceptions: options.exceptions ?? [],
    fromEnvironment: environment,
    ...(host.environment ? { toEnvironment: host.environment } : {}),
    ...(options.categories ? { categories: options.categories } : {}),
    ...(options.now ? { now: options.now } : {}),
    // The policy is about environment pairs: it applies only when this host's environment is
    // known and is not the target (inside one environment hosts share their secrets).
    ...(options.secretPolicy && host.environment && host.environment !== environment
      ? { secretPolicy: options.secretPolicy }
      : {}),
  });
  const differing = new Map(comparison.differences.map((d) => [d.path, d]));
  const checks: Check[] = [];
  const paths = new Set([...Object.keys(baseline), ...Object.keys(hostFacts)]);
  for (const path of [...paths].sort(compareStrings)) {
    const factClass = classify(path);
    if (factClass !== 'behavior' && factClass !== 'scale') continue;
    const category = categoryOf(path);
    if (options.categories && !options.categories.includes(category)) continue;
    const difference = differing.get(path);
    const check: Check = { path, category, status: difference ? difference.status : 'pass' };
    if (Object.hasOwn(baseline, path)) check.expected = baseline[path] as FactValue;
    if (Object.hasOwn(hostFacts, path)) check.actual = hostFacts[path] as FactValue;
    if (difference?.exception) check.exception = difference.exception;
    checks.push(check);
  }
  return summarize({ kind: 'environment', name: environment }, host, checks, comparison.parity, 0, options);
}

export interface ExpectOptions extends JudgeOptions {
  classify?: Classifier;
  categories?: readonly string[];
}

/** This host against an expectation file: only the paths the file lists are checked. */
export function verifyAgainstExpectations(
  host: VerifyResult['host'],
  hostFacts: FactMap,
  file: ExpectationFile,
  source: string,
  options: ExpectOptions = {},
): VerifyResult {
  const classify = options.classify ?? createClassifier();
  const checks: Check[] = [];
  let ignored = 0;
  let behaviorChecked = 0;
  let behaviorOk = 0;
  for (const path of [...file.expectations.keys()].sort(compareStrings)) {
    const matcher = file.expectations.get(path)!;
    const category = categoryOf(path);
    if (options.categories && !options.categories.includes(category)) continue;
    if (matcher.kind === 'ignore') {
      ignored++;
      continue;
    }
    const actual = hostFacts[path];
    const ok = Object.hasOwn(hostFacts, path) && matches(matcher, actual);
    const factClass = classify(path);
    // Parity counts every expectation but scale ones, whatever the path's class: it was asked for.
    if (factClass !== 'scale') {
      behaviorChecked++;
      if (ok) behaviorOk++;
    }
    const check: Check = {
      path,
      category,
      // An expectation file carries no exceptions.
      status: ok ? 'pass' : differenceStatus({ factClass }),
      expected: matcher.kind === 'equals' ? matcher.value : describeMatcher(matcher),
    };
    if (Object.hasOwn(hostFacts, path)) check.actual = actual as FactValue;
    checks.push(check);
  }
  const parity = behaviorChecked === 0 ? 1 : behaviorOk / behaviorChecked;
  return summarize({ kind: 'file', name: source }, host, checks, parity, ignored, options);
}
