/**
 * `/api/v1/hosts`: hosts, their current facts and their change history. Everything but the history
 * is answered from the store's in-memory state.
 */
import { canonicalValue, categoryOf, type FactValue, isValidPath } from '@envparity/shared';
import { Hono } from 'hono';
import { z } from 'zod';
import { NotFoundError } from '../errors.js';
import type { FactChange, FactStore, HostView } from '../store/fact-store.js';
import type { ApiEnv } from './api-auth.js';
import { parseQuery } from './parse-query.js';

export const DEFAULT_CHANGES_LIMIT = 1000;
export const MAX_CHANGES_LIMIT = 10_000;

/** Tells whether a host has a live agent socket. */
export interface Presence {
  isOnline(hostId: string): boolean;
}

const environmentName = z.string().regex(/^[A-Za-z0-9_-]+$/, 'environment names are letters, digits, _ and -');

const hostsQuery = z
  .strictObject({
    environment: environmentName.optional(),
    fact: z.string().refine(isValidPath, 'not a valid fact path').optional(),
    value: z.string().optional(),
  })
  .refine((q) => q.value === undefined || q.fact !== undefined, {
    path: ['value'],
    message: '`value` needs `fact` (the path to compare)',
  });

const isoTime = z
  .string()
  .refine((s) => /^\d{4}-\d{2}-\d{2}(T|$)/.test(s) && !Number.isNaN(Date.parse(s)), 'expected an ISO 8601 date or time')
  .transform((s) => Date.parse(s));

const changesQuery = z.strictObject({
  since: isoTime.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_CHANGES_LIMIT).default(DEFAULT_CHANGES_LIMIT),
});

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** A fact value compared with a query string: strings as is, anything else by its JSON text. */
function valueMatches(value: FactValue, expected: string): boolean {
  return typeof value === 'string' ? value === expected : canonicalValue(value) === expected;
}

export interface HostsRoutesDeps {
  store: FactStore;
  presence: Presence;
}

export function createHostsRoutes({ store, presence }: HostsRoutesDeps): Hono<ApiEnv> {
  const routes = new Hono<ApiEnv>();

  const summary = (host: HostView) => ({
    id: host.id,
    environment: host.environment,
    labels: host.labels,
    online: presence.isOnline(host.id),
    lastSeen: iso(host.lastSeen),
    fingerprint: host.fingerprint,
  });

  const factOf = (host: HostView, path: string): FactValue | undefined => {
    const hash = host.categories.get(categoryOf(path));
    const facts = hash === undefined ? undefined : store.getBlob(hash);
    return facts && Object.hasOwn(facts, path) ? facts[path] : undefined;
  };

  routes.get('/', (c) => {
    const query = parseQuery(hostsQuery, c.req.query());
    let hosts = store.listHosts();
    if (query.environment !== undefined) hosts = hosts.filter((host) => host.environment === query.environment);
    if (query.fact !== undefined) {
      const { fact, value } = query;
      hosts = hosts.filter((host) => {
        const actual = factOf(host, fact);
        return actual !== undefined && (value === undefined || valueMatches(actual, value));
      });
    }
    return c.json({ hosts: hosts.map(summary) });
  });

  const hostOr404 = (id: string): HostView => {
    const host = store.getHost(id);
    if (!host) throw new NotFoundError(`unknown host ${JSON.stringify(id)}`);
    return host;
  };

  routes.get('/:id', (c) => {
    parseQuery(z.strictObject({}), c.req.query());
    const host = hostOr404(c.req.param('id'));
    return c.json({
      ...summary(host),
      agentVersion: host.agentVersion,
      enrolledAt: iso(host.enrolledAt),
      fingerprints: host.fingerprints,
      lastSeq: host.lastSeq,
      meta: host.meta ?? null,
      facts: store.getHostFacts(host.id) ?? {},
    });
  });

  routes.get('/:id/changes', async (c) => {
    const query = parseQuery(changesQuery, c.req.query());
    const host = hostOr404(c.req.param('id'));
    // One more than asked tells whether the answer was cut.
    const rows = await store.listChanges(host.id, { since: query.since, limit: query.limit + 1 });
    const truncated = rows.length > query.limit;
    return c.json({
      changes: rows.slice(0, query.limit).map((change: FactChange) => {
        const out: { at: string; seq: number; path: string; from?: FactValue; to?: FactValue } = {
          at: new Date(change.at).toISOString(),
          seq: change.seq,
          path: change.path,
        };
        if (change.from !== undefined) out.from = change.from;
        if (change.to !== undefined) out.to = change.to;
        return out;
      }),
      truncated,
    });
  });

  return routes;
}
