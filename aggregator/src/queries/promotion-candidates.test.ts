/**
 * Promotion reads only the histories of candidate paths (promotion-candidates.ts) and asks who holds
 * a value of the outlier index (promotion-holders.ts). Property: on random fleets and change
 * sequences its lists equal those computed from every change of both environments with holders
 * counted host by host (the pure functions over full histories), so neither shortcut loses anything.
 */
import { categoryOf, createExceptionMatcher, type FactValue, factValuesEqual, ownValue } from '@envparity/shared';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { addHost, changeHost, PROMOTION, serverFacts, T0 } from '../../testing/drift-fleet.js';
import { createTestApi, type TestApi } from '../../testing/test-api.js';
import type { EnvironmentState } from '../drift/environment-states.js';
import { PromotionHistory } from './promotion-history.js';
import { type Holders, hostsOfBaseline } from './promotion-holders.js';
import { PromotionQueries } from './promotion-queries.js';
import { outOfOrderCandidates, type PairInput, waitingChanges } from './promotion-tracking.js';

const HOUR = 3_600_000;
const HOSTS = { dev: ['dev-1', 'dev-2'], staging: ['stg-1', 'stg-2', 'stg-3'], production: ['prod-1', 'prod-2'] };
const ALL_HOSTS = Object.values(HOSTS).flat();
/** Behavior paths (and one scale path, which never counts) with a few values each. */
const VALUES: Record<string, FactValue[]> = {
  'library.openssl': ['3.0.13', '3.0.14', '3.0.15'],
  'config.env.LOG_LEVEL': ['info', 'debug'],
  'runtime.python': ['3.11.2', '3.12.1'],
  'hardware.cpu.cores': [8, 16],
};

/** A value rolled out to some hosts of one environment (one host, or several: a deploy). */
const changeArb = fc.record({
  hosts: fc.subarray(ALL_HOSTS, { minLength: 1, maxLength: 3 }),
  path: fc.constantFrom(...Object.keys(VALUES)),
  pick: fc.nat(),
  afterMinutes: fc.integer({ min: 1, max: 120 }),
});

let api: TestApi | undefined;
afterEach(async () => {
  await api?.aggregator.stop();
  api = undefined;
});

/** Who holds what, host by host (no blobs, no index): the reference for ValueHolders. */
function naiveHolders(state: EnvironmentState): Holders {
  const hosts = hostsOfBaseline(state);
  const holding = (path: string, value: FactValue) =>
    hosts.filter((host) => {
      const blob = host.categories.get(categoryOf(path));
      const held = blob ? ownValue(blob.facts, path) : undefined;
      return held !== undefined && factValuesEqual(held, value);
    });
  return { total: hosts.length, hosts: holding, count: (path, value) => holding(path, value).length };
}

/** The lists from every recorded change of both environments (no narrowing, no index). */
async function fromFullHistories(testApi: TestApi, from: string, to: string) {
  const { queries, store } = testApi.aggregator;
  const full = async (environment: string) =>
    new PromotionHistory(await store.listEnvironmentChanges(environment, { order: 'newest', limit: 1_000_000 }));
  const side = async (environment: string) => ({
    environment,
    baseline: queries.environment(environment).baseline.facts,
    holders: naiveHolders(queries.environment(environment)),
    history: await full(environment),
  });
  const input: PairInput = {
    from: await side(from),
    to: await side(to),
    classify: queries.classify,
    exceptionFor: createExceptionMatcher(queries.exceptionRules(), from, to, new Date(testApi.clock.now)),
    expectedToDiffer: () => false,
    enrolledAt: (hostId) => store.getHost(hostId)?.enrolledAt,
    now: testApi.clock.now,
  };
  const outOfOrder = [];
  for (const { fromArrival, ...change } of outOfOrderCandidates(input)) {
    if (fromArrival === undefined && (await store.environmentHadValue(from, change.path, change.value))) continue;
    outOfOrder.push(change);
  }
  return { ...waitingChanges(input), outOfOrder };
}

describe('promotion reads only the candidate paths’ histories', () => {
  it('and finds what every change of both environments gives (property)', async () => {
    let waitingSeen = 0;
    let outOfOrderSeen = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(changeArb, { minLength: 1, maxLength: 20 }), async (changes) => {
        await api?.aggregator.stop();
        const testApi = createTestApi({ promotion: PROMOTION });
        api = testApi;
        for (const [environment, ids] of Object.entries(HOSTS)) {
          for (const id of ids) {
            await addHost(testApi.aggregator.store, id, environment, serverFacts(id));
            testApi.presence.set(id, true);
          }
        }
        let at = T0;
        for (const { hosts, path, pick, afterMinutes } of changes) {
          const values = VALUES[path] as FactValue[];
          // One pick in (values + 1) removes the path: hosts that lack a value the baseline has.
          const value = values[pick % (values.length + 1)];
          for (const host of hosts) {
            at += afterMinutes * 60_000;
            if (value === undefined) await changeHost(testApi.aggregator.store, host, at, {}, [path]);
            else await changeHost(testApi.aggregator.store, host, at, { [path]: value });
          }
        }
        testApi.clock.now = at + HOUR;
        const promotion = new PromotionQueries({
          queries: testApi.aggregator.queries,
          store: testApi.aggregator.store,
          now: () => testApi.clock.now,
        });
        const report = await promotion.report();
        for (const pair of report.pairs) {
          const expected = await fromFullHistories(testApi, pair.from, pair.to);
          expect({ waiting: pair.waiting, outOfOrder: pair.outOfOrder, justified: pair.justified }).toEqual(expected);
          waitingSeen += pair.waiting.length;
          outOfOrderSeen += pair.outOfOrder.length;
        }
      }),
      { numRuns: 150 },
    );
    // Not vacuous: both lists were often non-empty.
    expect(waitingSeen).toBeGreaterThan(20);
    expect(outOfOrderSeen).toBeGreaterThan(50);
  }, 120_000);
});
