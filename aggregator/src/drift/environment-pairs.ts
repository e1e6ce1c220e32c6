/**
 * Which environments are compared with which. With a promotion order (dev -> staging ->
 * production) only neighbours are: that is the path a change travels, and comparing dev with
 * production would repeat every staging difference. Without one, every pair is compared.
 */
import { compareStrings } from '@envparity/shared';

/** An ordered pair: `from` is the upstream side (or the first by name when there is no promotion). */
export interface EnvironmentPair {
  from: string;
  to: string;
}

/** Pairs among `environments`; with a promotion order, its adjacent pairs whose both sides exist. */
export function environmentPairs(environments: readonly string[], promotion: readonly string[]): EnvironmentPair[] {
  const known = new Set(environments);
  if (promotion.length > 0) {
    const pairs: EnvironmentPair[] = [];
    for (let i = 0; i + 1 < promotion.length; i++) {
      const from = promotion[i] as string;
      const to = promotion[i + 1] as string;
      if (known.has(from) && known.has(to)) pairs.push({ from, to });
    }
    return pairs;
  }
  const sorted = [...known].sort(compareStrings);
  const pairs: EnvironmentPair[] = [];
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) pairs.push({ from: sorted[i] as string, to: sorted[j] as string });
  }
  return pairs;
}

/** The environment right before `environment` in the promotion order, if any. */
export function upstreamOf(environment: string, promotion: readonly string[]): string | undefined {
  const index = promotion.indexOf(environment);
  return index > 0 ? promotion[index - 1] : undefined;
}

/** The environment right after `environment` in the promotion order, if any. */
export function downstreamOf(environment: string, promotion: readonly string[]): string | undefined {
  const index = promotion.indexOf(environment);
  return index >= 0 && index + 1 < promotion.length ? promotion[index + 1] : undefined;
}
