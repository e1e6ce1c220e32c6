/**
 * Outliers judged like a comparison: behavior differences are `drift` unless an active exception
 * covering the environment (a rule naming it) justifies them, scale differences are `scale`. The
 * same matcher as `compareFacts`, so an exception means the same thing everywhere.
 */
import { createExceptionMatcher, type DifferenceStatus, differenceStatus, type ExceptionRule } from '@envparity/shared';
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
    const rule = exceptionFor(outlier.path);
    const status = differenceStatus({ factClass: outlier.class, exception: rule });
    return status === 'justified' && rule
      ? { ...outlier, status, exception: { id: rule.id, reason: rule.reason } }
      : { ...outlier, status };
  });
}
