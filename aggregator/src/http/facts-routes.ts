/**
 * `/api/v1/facts/distribution`: fleet inventory of one fact — which values exist and on how many
 * hosts. Counted per category blob (hosts sharing a category share its blob), so a fleet of
 * 10,000 hosts running a few images costs a few lookups per image.
 */
import { canonicalValue, categoryOf, compareStrings, type FactValue } from '@envparity/shared';
import { z } from 'zod';
import type { DriftEngine } from '../drift/drift-engine.js';
import type { FactStore } from '../store/fact-store.js';
import type { ApiRouter } from './api-router.js';
import { distributionResponseSchema, environmentNameSchema, factPathSchema } from './api-schemas.js';
import type { EnvironmentCatalog } from './environment-catalog.js';
import { knownEnvironmentOr404 } from './environments-routes.js';

const distributionQuery = z.strictObject({
  path: factPathSchema,
  environment: environmentNameSchema.optional(),
});

export function registerFactsRoutes(
  router: ApiRouter,
  { engine, store, known = engine }: { engine: DriftEngine; store: FactStore; known?: EnvironmentCatalog },
): void {
  router.add(
    {
      method: 'get',
      path: '/api/v1/facts/distribution',
      operationId: 'getFactDistribution',
      summary: 'Values of one fact path across the fleet (or one environment), with host counts',
      description:
        'Most common value first. Only hosts that reported facts are counted; `missing` of them lack the path.',
      tag: 'facts',
      auth: 'read',
      query: distributionQuery,
      response: distributionResponseSchema,
      notFound: true,
    },
    ({ query }) => {
      const environment = query.environment === undefined ? undefined : knownEnvironmentOr404(known, query.environment);
      const category = categoryOf(query.path);
      const perBlob = new Map<string, number>();
      let hosts = 0;
      let missing = 0;
      for (const host of store.listHosts()) {
        if (environment !== undefined && host.environment !== environment) continue;
        if (host.categories.size === 0) continue;
        hosts++;
        const hash = host.categories.get(category);
        if (hash === undefined) missing++;
        else perBlob.set(hash, (perBlob.get(hash) ?? 0) + 1);
      }
      const values = new Map<string, { value: FactValue; hosts: number }>();
      for (const [hash, count] of perBlob) {
        const facts = store.getBlob(hash);
        if (!facts || !Object.hasOwn(facts, query.path)) {
          missing += count;
          continue;
        }
        const value = facts[query.path] as FactValue;
        const key = canonicalValue(value);
        const entry = values.get(key);
        if (entry) entry.hosts += count;
        else values.set(key, { value, hosts: count });
      }
      const sorted = [...values].sort(([ka, a], [kb, b]) => b.hosts - a.hosts || compareStrings(ka, kb));
      return {
        path: query.path,
        ...(environment !== undefined ? { environment } : {}),
        hosts,
        missing,
        values: sorted.map(([, entry]) => entry),
      };
    },
  );
}
