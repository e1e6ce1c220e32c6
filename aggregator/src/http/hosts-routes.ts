/**
 * `/api/v1/hosts`: hosts, their current facts and their change history. Everything but the history
 * is answered from the store's in-memory state.
 */
import { canonicalValue, categoryOf, type FactValue } from '@envparity/shared';
import { z } from 'zod';
import type { Presence } from '../drift/host-snapshots.js';
import type { HostPresence } from '../drift/presence-tracker.js';
import { NotFoundError } from '../errors.js';
import type { FactStore, HostView } from '../store/fact-store.js';
import type { ApiRouter } from './api-router.js';
import {
  changesResponseSchema,
  environmentNameSchema,
  factPathSchema,
  hostDetailSchema,
  hostsResponseSchema,
  isoTimeQuery,
  limitQuery,
} from './api-schemas.js';

export const DEFAULT_CHANGES_LIMIT = 1000;
export const MAX_CHANGES_LIMIT = 10_000;

const hostsQuery = z
  .strictObject({
    environment: environmentNameSchema.optional(),
    fact: factPathSchema.optional().meta({ description: 'Only hosts holding this path.' }),
    value: z
      .string()
      .optional()
      .meta({ description: 'With `fact`: only hosts whose value is this (strings as is, other values as JSON).' }),
  })
  .refine((q) => q.value === undefined || q.fact !== undefined, {
    path: ['value'],
    message: '`value` needs `fact` (the path to compare)',
  });

const changesQuery = z.strictObject({
  since: isoTimeQuery.optional().meta({ description: 'ISO time, inclusive.' }),
  limit: limitQuery(MAX_CHANGES_LIMIT, DEFAULT_CHANGES_LIMIT),
});

export const hostParamsSchema = z.strictObject({ id: z.string().min(1) });

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** A fact value compared with a query string: strings as is, anything else by its JSON text. */
export function valueMatches(value: FactValue, expected: string): boolean {
  return typeof value === 'string' ? value === expected : canonicalValue(value) === expected;
}

/** One fact of a host, read from its category blob without merging the host's facts. */
export function hostFact(store: Pick<FactStore, 'getBlob'>, host: HostView, path: string): FactValue | undefined {
  const hash = host.categories.get(categoryOf(path));
  const facts = hash === undefined ? undefined : store.getBlob(hash);
  return facts && Object.hasOwn(facts, path) ? facts[path] : undefined;
}

export interface HostsRoutesDeps {
  store: FactStore;
  /** `presenceOf` (the drift engine's presence phases) adds `presence` to each host. */
  presence: Presence & { presenceOf?(hostId: string): HostPresence };
}

export function registerHostsRoutes(router: ApiRouter, { store, presence }: HostsRoutesDeps): void {
  const summary = (host: HostView) => ({
    id: host.id,
    environment: host.environment,
    labels: host.labels,
    online: presence.isOnline(host.id),
    lastSeen: iso(host.lastSeen),
    fingerprint: host.fingerprint,
    ...(presence.presenceOf ? { presence: presence.presenceOf(host.id) } : {}),
  });
  const hostOr404 = (id: string): HostView => {
    const host = store.getHost(id);
    if (!host) throw new NotFoundError(`unknown host ${JSON.stringify(id)}`);
    return host;
  };

  router.add(
    {
      method: 'get',
      path: '/api/v1/hosts',
      operationId: 'listHosts',
      summary: 'Hosts, optionally of one environment or holding a fact (value)',
      tag: 'hosts',
      auth: 'read',
      query: hostsQuery,
      response: hostsResponseSchema,
    },
    ({ query }) => {
      let hosts = store.listHosts();
      if (query.environment !== undefined) hosts = hosts.filter((host) => host.environment === query.environment);
      if (query.fact !== undefined) {
        const { fact, value } = query;
        hosts = hosts.filter((host) => {
          const actual = hostFact(store, host, fact);
          return actual !== undefined && (value === undefined || valueMatches(actual, value));
        });
      }
      return { hosts: hosts.map(summary) };
    },
  );

  router.add(
    {
      method: 'get',
      path: '/api/v1/hosts/:id',
      operationId: 'getHost',
      summary: 'One host with its current facts (retired hosts too, with `retiredAt`)',
      tag: 'hosts',
      auth: 'read',
      params: hostParamsSchema,
      response: hostDetailSchema,
      notFound: true,
    },
    ({ params }) => {
      const host = hostOr404(params.id);
      return {
        ...summary(host),
        agentVersion: host.agentVersion,
        enrolledAt: iso(host.enrolledAt),
        fingerprints: host.fingerprints,
        lastSeq: host.lastSeq,
        meta: host.meta ?? null,
        facts: store.getHostFacts(host.id) ?? {},
        retiredAt: iso(host.retiredAt),
        ...(host.retiredBy !== null ? { retiredBy: host.retiredBy } : {}),
      };
    },
  );

  router.add(
    {
      method: 'get',
      path: '/api/v1/hosts/:id/changes',
      operationId: 'listHostChanges',
      summary: 'Per-path change history of a host, oldest first',
      description:
        '`emergency: true` marks a change that reached the environment before its upstream ever had the value.',
      tag: 'hosts',
      auth: 'read',
      params: hostParamsSchema,
      query: changesQuery,
      response: changesResponseSchema,
      notFound: true,
    },
    async ({ params, query }) => {
      const host = hostOr404(params.id);
      // One more than asked tells whether the answer was cut.
      const rows = await store.listChanges(host.id, { since: query.since, limit: query.limit + 1 });
      return {
        changes: rows.slice(0, query.limit).map((change) => {
          const out: z.input<typeof changesResponseSchema>['changes'][number] = {
            at: new Date(change.at).toISOString(),
            seq: change.seq,
            path: change.path,
          };
          if (change.from !== undefined) out.from = change.from;
          if (change.to !== undefined) out.to = change.to;
          if (change.emergency) out.emergency = true;
          return out;
        }),
        truncated: rows.length > query.limit,
      };
    },
  );
}
