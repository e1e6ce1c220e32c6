/**
 * `/api/v1/environments`: every environment a host has declared, its baseline (the dominant value
 * of each compared path among its live hosts, ties reported, never broken) and its outliers. All
 * answered from the drift engine's per-environment cache.
 */
import { type ClassRule, compareStrings, type SecretPolicyRule } from '@envparity/shared';
import { z } from 'zod';
import type { DriftEngine } from '../drift/drift-engine.js';
import { downstreamOf, upstreamOf } from '../drift/environment-pairs.js';
import { NotFoundError } from '../errors.js';
import type { ApiRouter } from './api-router.js';
import {
  baselineResponseSchema,
  booleanQuery,
  environmentNameSchema,
  environmentsResponseSchema,
  limitQuery,
  outliersResponseSchema,
} from './api-schemas.js';
import type { EnvironmentCatalog } from './environment-catalog.js';

export const DEFAULT_OUTLIERS_LIMIT = 1000;
export const MAX_OUTLIERS_LIMIT = 100_000;

export const environmentParamsSchema = z.strictObject({ env: environmentNameSchema });

/** 404 unless some host has ever declared the environment, or the config declares it. */
export function knownEnvironmentOr404(known: EnvironmentCatalog, name: string): string {
  if (!known.environments().includes(name)) throw new NotFoundError(unknownEnvironmentMessage(known, name));
  return name;
}

/** "unknown environment ...": what is known, and how to declare one ahead of its hosts. */
export function unknownEnvironmentMessage(known: EnvironmentCatalog, name: string): string {
  const names = known.environments();
  return (
    `unknown environment ${JSON.stringify(name)}: no host has reported it and the aggregator config does not ` +
    `declare it (\`environments:\`)${names.length > 0 ? `; known: ${names.join(', ')}` : ''}`
  );
}

/** Promotion order first (upstream to downstream), then the others by name. */
export function sortEnvironments(names: readonly string[], promotion: readonly string[]): string[] {
  const rank = (name: string) => {
    const index = promotion.indexOf(name);
    return index === -1 ? promotion.length : index;
  };
  return [...names].sort((a, b) => rank(a) - rank(b) || compareStrings(a, b));
}

export function registerEnvironmentsRoutes(
  router: ApiRouter,
  {
    engine,
    classes = [],
    known = engine,
    secretPolicy = [],
  }: {
    engine: DriftEngine;
    classes?: readonly ClassRule[];
    known?: EnvironmentCatalog;
    secretPolicy?: readonly SecretPolicyRule[];
  },
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
    async () => {
      await engine.checkExpiredExceptions();
      return sortEnvironments(known.environments(), engine.promotion).map((name) => {
        const state = engine.state(name);
        return {
          name,
          hosts: state.hostCount,
          online: state.online,
          fingerprint: state.hosts.length > 0 ? state.baseline.fingerprint : null,
          stale: state.baseline.stale,
          ties: state.baseline.ties.length,
          outlierHosts: engine.outlierHostCount(name),
          openDrift: engine.openEventCount(name),
          upstream: upstreamOf(name, engine.promotion) ?? null,
          downstream: downstreamOf(name, engine.promotion) ?? null,
        };
      });
    },
  );

  router.add(
    {
      method: 'get',
      path: '/api/v1/environments/:env/baseline',
      operationId: 'getEnvironmentBaseline',
      summary: 'Baseline of an environment: the dominant value of each compared path among its live hosts',
      description:
        'Computed from the live (connected) hosts; when none is live, from the last known state of all (`stale`). ' +
        'A path whose top values are equally frequent is listed in `ties` and left out of `facts`.',
      tag: 'environments',
      auth: 'read',
      params: environmentParamsSchema,
      response: baselineResponseSchema,
      notFound: true,
    },
    ({ params }) => {
      const name = knownEnvironmentOr404(known, params.env);
      const state = engine.state(name);
      const { baseline } = state;
      return {
        environment: name,
        hosts: baseline.hosts,
        stale: baseline.stale,
        fingerprint: baseline.fingerprint,
        facts: baseline.facts,
        ties: baseline.ties,
        support: baseline.support,
        classes: [...classes],
        secretPolicy: secretPolicy.map(({ glob, expect }) => ({ glob, expect })),
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
      const name = knownEnvironmentOr404(known, params.env);
      await engine.checkExpiredExceptions();
      const state = engine.state(name);
      const { outliers, total } = engine.outlierPage(name, {
        includeScale: query.includeScale ?? false,
        limit: query.limit,
      });
      return {
        environment: name,
        hosts: state.baseline.hosts,
        stale: state.baseline.stale,
        outliers,
        total,
        truncated: total > outliers.length,
      };
    },
  );
}
