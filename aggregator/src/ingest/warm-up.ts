/**
 * Runs the hot ingest code once at start, on a synthetic report, before the first agent arrives.
 * zod compiles its parsers on first use and V8 optimizes only code that ran: measured with
 * `npm run bench:healthz`, the first real reports after a start (a restart under a reconnecting
 * fleet is the normal case) held the event loop for up to ~100 ms on cold code, when the same work
 * takes under 50 ms once warm. Nothing is stored; the classifier caches only the synthetic paths.
 */
import {
  CATEGORIES,
  type Classifier,
  decodeAgentMessage,
  encodeMessage,
  type FactMap,
  factPath,
  findReportPathProblem,
  fingerprintMap,
} from '@envparity/shared';

const WARM_UP_PATHS_PER_CATEGORY = 64;
const WARM_UP_ROUNDS = 3;

export function warmUpIngest(classify: Classifier): void {
  const full: Record<string, FactMap> = {};
  for (const category of CATEGORIES) {
    const facts: FactMap = {};
    for (let i = 0; i < WARM_UP_PATHS_PER_CATEGORY; i++) {
      facts[factPath(category, 'warmup', `key-${i}`, 'value')] = i % 3 === 0 ? i : `v${i}`;
    }
    full[category] = facts;
  }
  for (let round = 0; round < WARM_UP_ROUNDS; round++) {
    const report = decodeAgentMessage(encodeMessage({ type: 'report', seq: 1, observedAt: Date.now(), full }));
    if (report.type !== 'report') continue;
    findReportPathProblem(report);
    for (const facts of Object.values(report.full ?? {})) {
      for (const path of Object.keys(facts)) classify(path);
      fingerprintMap(facts);
    }
  }
}
