/**
 * `/api/v1/hosts`: hosts, their current facts and their change history. Everything but the history
 * is answered from the fleet state in memory (through the queries).
 */
import { z } from 'zod';
import type { FleetQueries } from '../queries/fleet-queries.js';
import type { HistoryQueries } from '../queries/history-queries.js';
import type { HostView } from '../store/fact-store.js';
import type { ApiRouter } from './api-router.js';
import {
  changesResponseSchema,
  environmentNameSchema,
  factPathSchema,
  hostsResponseSchema,
  isoTimeQuery,
  limitQuery,
} from './api-schemas.js';
import { hostAtSchema, instantQuery } from './history-schemas.js';

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

const hostQuery = z.strictObject({ at: instantQuery('the host’s facts and fingerprints').optional() });

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function registerHostsRoutes(
  router: ApiRouter,
  { queries, history }: { queries: FleetQueries; history: HistoryQueries },
): void {
  const summary = (host: HostView) => {
    const { online, presence } = queries.presenceOf(host.id);
    return {
      id: host.id,
      environment: host.environment,
      labels: host.labels,
      online,
      lastSeen: iso(host.lastSeen),
      fingerprint: host.fingerprint,
      ...(presence !== undefined ? { presence } : {}),
    };
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
    ({ query }) => ({ hosts: queries.hosts(query).map(summary) }),
  );

  router.add(
    {
      method: 'get',
      path: '/api/v1/hosts/:id',
      operationId: 'getHost',
      summary: 'One host with its current facts (retired hosts too, with `retiredAt`), or its facts at a past instant',
      description:
        '`?at=ISO`: `facts`, `fingerprint` and `fingerprints` as they were then, rebuilt from the stored history ' +
        '(initial state and changes); volatile facts are left out (they are not recorded as changes). Everything ' +
        'else (environment, labels, presence, agent version) is current. 409 when the host’s stored history starts ' +
        'after `at` (`historyStartsAt`), 400 for a future `at`.',
      tag: 'hosts',
      auth: 'read',
      params: hostParamsSchema,
      query: hostQuery,
      response: hostAtSchema,
      notFound: true,
      conflict: true,
    },
    async ({ params, query }) => {
      const host = queries.host(params.id);
      const detail = {
        ...summary(host),
        agentVersion: host.agentVersion,
        enrolledAt: iso(host.enrolledAt),
        fingerprints: host.fingerprints,
        lastSeq: host.lastSeq,
        meta: host.meta ?? null,
        facts: queries.hostFacts(host.id),
        retiredAt: iso(host.retiredAt),
        ...(host.retiredBy !== null ? { retiredBy: host.retiredBy } : {}),
      };
      if (query.at === undefined) return detail;
      const past = await history.hostAt(host.id, query.at);
      return {
        ...detail,
        fingerprint: past.fingerprint,
        fingerprints: past.fingerprints,
        facts: past.facts,
        at: iso(past.at) as string,
        historyStartsAt: iso(past.historyStartsAt) as string,
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
      const { items, truncated } = await queries.changes(params.id, query);
      return {
        changes: items.map((change) => {
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
        truncated,
      };
    },
  );
}
