/**
 * `/api/v1/environments`: every environment a host has declared, its baseline (the dominant value
 * of each compared path among its live hosts, ties reported, never broken) and its outliers. All
 * answered from the drift engine's per-environment cache.
 */
import { z } from 'zod';
import type { Baseline } from '../drift/baseline.js';
import type { FleetQueries } from '../queries/fleet-queries.js';
import type { HistoryQueries } from '../queries/history-queries.js';
import type { ApiRouter } from './api-router.js';
import {
  booleanQuery,
  environmentNameSchema,
  environmentsResponseSchema,
  limitQuery,
  outliersResponseSchema,
} from './api-schemas.js';
import { baselineAtSchema, instantQuery } from './history-schemas.js';

export const DEFAULT_OUTLIERS_LIMIT = 1000;
export const MAX_OUTLIERS_LIMIT = 100_000;

export const environmentParamsSchema = z.strictObject({ env: environmentNameSchema });

export function registerEnvironmentsRoutes(
  router: ApiRouter,
  { queries, history }: { queries: FleetQueries; history: HistoryQueries },
): void {
  router.add(
    {
      method: 'get',
      path: '/api/v1/environments',
      operationId: 'listEnvironments',
      summary: 'Every environment a host has declared or the config declares, with its baseline fingerprint',
      description:
        'A JSON array, promotion order first. `fingerprint` is the baseline fingerprint. Environments the config ' +
        'declares (`promotion`, `environments:`) are listed before any host reports them, with 0 hosts.',
      tag: 'environments',
      auth: 'read',
      response: environmentsResponseSchema,
    },
    async () =>
      (await queries.environments()).map(({ name, state, outlierHosts, openDrift, upstream, downstream }) => ({
        name,
        hosts: state.hostCount,
        online: state.online,
        fingerprint: state.hosts.length > 0 ? state.baseline.fingerprint : null,
        stale: state.baseline.stale,
        ties: state.baseline.ties.length,
        outlierHosts,
        openDrift,
        upstream,
        downstream,
      })),
  );

  router.add(
    {
      method: 'get',
      path: '/api/v1/environments/:env/baseline',
      operationId: 'getEnvironmentBaseline',
      summary: 'Baseline of an environment: the dominant value of each compared path among its live hosts',
      description:
        'Computed from the live (connected) hosts; when none is live, from the last known state of all (`stale`). ' +
        'A path whose top values are equally frequent is listed in `ties` and left out of `facts`. `?at=ISO`: the ' +
        'baseline at that instant, by the same rules, over the hosts in the environment now (and those retired ' +
        'after `at`) whose stored history starts at or before `at`, each as it was then; every one counts (presence ' +
        'is not history). `hostsLeftOut` counts the others. 409 before the retention edge, 400 for a future `at`.',
      tag: 'environments',
      auth: 'read',
      params: environmentParamsSchema,
      query: z.strictObject({ at: instantQuery('the baseline').optional() }),
      response: baselineAtSchema,
      notFound: true,
      conflict: true,
    },
    async ({ params, query }) => {
      const shape = (environment: string, baseline: Baseline) => ({
        environment,
        hosts: baseline.hosts,
        stale: baseline.stale,
        fingerprint: baseline.fingerprint,
        facts: baseline.facts,
        ties: baseline.ties,
        support: baseline.support,
        classes: [...queries.classes],
        secretPolicy: queries.secretPolicy.map(({ glob, expect }) => ({ glob, expect })),
      });
      if (query.at === undefined) {
        const { environment, baseline } = queries.environment(params.env);
        return shape(environment, baseline);
      }
      const past = await history.baselineAt(params.env, query.at);
      return {
        ...shape(past.environment, past.baseline),
        at: new Date(past.at).toISOString(),
        hostsLeftOut: past.hostsLeftOut,
      };
    },
  );

  router.add(
    {
      method: 'get',
      path: '/api/v1/environments/:env/outliers',
      operationId: 'listEnvironmentOutliers',
      summary: 'Hosts off their environment’s baseline, path by path',
      description:
        'Behavior differences only unless `includeScale=true`. `status` is `drift`, `justified` (an exception ' +
        'naming the environment) or `scale`. Tied paths are not outliers (the tie is in the baseline). Hosts by ' +
        'id, then paths; at most `limit` outliers (`truncated` when there are more, `total` counts them all).',
      tag: 'environments',
      auth: 'read',
      params: environmentParamsSchema,
      query: z.strictObject({
        includeScale: booleanQuery.optional(),
        limit: limitQuery(MAX_OUTLIERS_LIMIT, DEFAULT_OUTLIERS_LIMIT),
      }),
      response: outliersResponseSchema,
      notFound: true,
    },
    async ({ params, query }) => {
      const { state, outliers, total } = await queries.outliers(params.env, {
        includeScale: query.includeScale ?? false,
        limit: query.limit,
      });
      return {
        environment: state.environment,
        hosts: state.baseline.hosts,
        stale: state.baseline.stale,
        outliers,
        total,
        truncated: total > outliers.length,
      };
    },
  );
}
