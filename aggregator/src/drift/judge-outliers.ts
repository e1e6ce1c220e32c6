/**
 * Outliers judged like a comparison: behavior differences are `drift` unless an active exception
 * covering the environment (a rule naming it) justifies them, scale differences are `scale`. The
 * same matcher as `compareFacts`, so an exception means the same thing everywhere.
 */
import { createExceptionMatcher, type DifferenceStatus, type ExceptionRule } from '@envparity/shared';
import type { Outlier } from './outliers.js';

export interface JudgedOutlier extends Outlier {
  status: DifferenceStatus;
  exception?: { id: string; reason: string };
}

export function judgeOutliers(
  outliers: readonly Outlier[],
  environment: string,
  rules: readonly ExceptionRule[],
  now: Date,
): JudgedOutlier[] {
  const exceptionFor = createExceptionMatcher(rules, environment, environment, now);
  return outliers.map((outlier) => {
    if (outlier.class === 'scale') return { ...outlier, status: 'scale' };
    const rule = exceptionFor(outlier.path);
    return rule
      ? { ...outlier, status: 'justified', exception: { id: rule.id, reason: rule.reason } }
      : { ...outlier, status: 'drift' };
  });
}
