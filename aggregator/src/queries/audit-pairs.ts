/**
 * Which pairs an audit compares: first the neighbours in the promotion order among the audited
 * environments (dev -> staging, staging -> production: what is promoted next), then every other
 * pair, upstream (earlier in the order) as `from`. Environments outside the promotion order come
 * after it, by name (the catalog's order), so every pair has one stable direction.
 */
import type { AuditPairKind } from './audit-report.js';

export interface PlannedPair {
  from: string;
  to: string;
  kind: AuditPairKind;
}

/** `environments` must already be in audit order (promotion order first, then by name). */
export function auditPairs(environments: readonly string[], promotion: readonly string[]): PlannedPair[] {
  const inPromotion = environments.filter((name) => promotion.includes(name));
  const neighbours = new Set<string>();
  const pairs: PlannedPair[] = [];
  for (let i = 1; i < inPromotion.length; i++) {
    const from = inPromotion[i - 1] as string;
    const to = inPromotion[i] as string;
    neighbours.add(`${from}\u0000${to}`);
    pairs.push({ from, to, kind: 'promotion' });
  }
  for (let i = 0; i < environments.length; i++) {
    for (let j = i + 1; j < environments.length; j++) {
      const from = environments[i] as string;
      const to = environments[j] as string;
      if (!neighbours.has(`${from}\u0000${to}`)) pairs.push({ from, to, kind: 'other' });
    }
  }
  return pairs;
}
