/**
 * Which environments the drift engine compares with which. Only the adjacent pairs of the
 * promotion order (dev -> staging -> production: the path a change travels; comparing dev with
 * production would repeat every staging difference) and the pairs named in the config
 * (`comparePairs`). Never every pair: with per-PR preview environments a fleet has hundreds of
 * environments, and N² comparisons (each with its events) froze the aggregator. Without a promotion
 * order and without `comparePairs` no pair is compared in the background at all; compare on demand
 * (`GET /api/v1/compare`) still answers for any two environments.
 */

/** An ordered pair: `from` is the upstream side (the promotion's, or the first named in `comparePairs`). */
export interface EnvironmentPair {
  from: string;
  to: string;
}

/** Identity of a pair regardless of its direction. */
export function pairKey(a: string, b: string): string {
  return a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
}

/** The configured pairs (promotion neighbours first, then `comparePairs`), each once, no self-pairs. */
export function configuredPairs(
  promotion: readonly string[],
  comparePairs: readonly (readonly [string, string])[] = [],
): EnvironmentPair[] {
  const seen = new Set<string>();
  const pairs: EnvironmentPair[] = [];
  const add = (from: string, to: string) => {
    if (from === to) return;
    const key = pairKey(from, to);
    if (seen.has(key)) return;
    seen.add(key);
    pairs.push({ from, to });
  };
  for (let i = 0; i + 1 < promotion.length; i++) add(promotion[i] as string, promotion[i + 1] as string);
  for (const [from, to] of comparePairs) add(from, to);
  return pairs;
}

/**
 * The configured pairs whose both sides are among `environments` (those with facts). Linear in the
 * configured pairs: the number of environments never multiplies the work.
 */
export function environmentPairs(
  environments: Iterable<string>,
  promotion: readonly string[],
  comparePairs: readonly (readonly [string, string])[] = [],
): EnvironmentPair[] {
  const known = environments instanceof Set ? (environments as ReadonlySet<string>) : new Set(environments);
  return configuredPairs(promotion, comparePairs).filter(({ from, to }) => known.has(from) && known.has(to));
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
