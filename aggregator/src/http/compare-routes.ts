/**
 * `/api/v1/compare`: two environments (their baselines), two hosts, or a host against an
 * environment, path by path, judged by the shared `compareFacts` with the stored exceptions — the
 * function the agent's `verify` uses, so the API and `verify` always agree.
 */
import { CATEGORIES, compareFacts, type FactMap, type SecretPolicyRule } from '@envparity/shared';
import { z } from 'zod';
import type { BaselineTie } from '../drift/baseline.js';
import type { DriftEngine } from '../drift/drift-engine.js';
import { NotFoundError } from '../errors.js';
import type { FactStore } from '../store/fact-store.js';
import type { ApiRouter } from './api-router.js';
import { categoryListQuery, compareResponseSchema } from './api-schemas.js';
import type { EnvironmentCatalog } from './environment-catalog.js';
import { knownEnvironmentOr404 } from './environments-routes.js';

/** `host:` in `from`/`to` names a host instead of an environment (environment names cannot hold `:`). */
export const HOST_SIDE_PREFIX = 'host:';

const sideSchema = z
  .string()
  .regex(/^(host:.+|[A-Za-z0-9_-]+)$/, 'expected an environment name or host:ID')
  .meta({ description: 'Environment name, or `host:ID` for one host.' });

const compareQuery = z
  .strictObject({
    from: sideSchema.optional(),
    to: sideSchema.optional(),
    fromHost: z.string().min(1).optional().meta({ description: 'Host id (same as `from=host:ID`).' }),
    toHost: z.string().min(1).optional().meta({ description: 'Host id (same as `to=host:ID`).' }),
    category: categoryListQuery
      .optional()
      .meta({ description: `Only these categories, comma-separated (${CATEGORIES.join(', ')}).` }),
  })
  .superRefine((q, ctx) => {
    for (const side of ['from', 'to'] as const) {
      const host = `${side}Host` as const;
      if (q[side] === undefined && q[host] === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [side],
          message: `\`${side}\` (an environment) or \`${host}\` is required`,
        });
      } else if (q[side] !== undefined && q[host] !== undefined) {
        ctx.addIssue({ code: 'custom', path: [host], message: `give \`${side}\` or \`${host}\`, not both` });
      }
    }
  });

interface Side {
  label: string;
  kind: 'environment' | 'host';
  name: string;
  environment: string | null;
  fingerprint: string | null;
  facts: FactMap;
  ties: BaselineTie[];
}

export function registerCompareRoutes(
  router: ApiRouter,
  {
    engine,
    store,
    now,
    known = engine,
    secretPolicy = [],
  }: {
    engine: DriftEngine;
    store: FactStore;
    now: () => number;
    known?: EnvironmentCatalog;
    /** Config `secretPolicy`: secret paths whose hashes should differ (or be equal) across the sides. */
    secretPolicy?: readonly SecretPolicyRule[];
  },
): void {
  const resolveSide = (environment: string | undefined, hostId: string | undefined): Side => {
    const host =
      hostId ?? (environment?.startsWith(HOST_SIDE_PREFIX) ? environment.slice(HOST_SIDE_PREFIX.length) : undefined);
    if (host !== undefined) {
      const view = store.getHost(host);
      if (!view) throw new NotFoundError(`unknown host ${JSON.stringify(host)}`);
      return {
        label: `${HOST_SIDE_PREFIX}${host}`,
        kind: 'host',
        name: host,
        environment: view.environment,
        fingerprint: view.fingerprint,
        facts: store.getHostFacts(host) ?? {},
        ties: [],
      };
    }
    const name = knownEnvironmentOr404(known, environment as string);
    const state = engine.state(name);
    return {
      label: name,
      kind: 'environment',
      name,
      environment: name,
      fingerprint: state.hosts.length > 0 ? state.baseline.fingerprint : null,
      facts: state.baseline.facts,
      ties: state.baseline.ties,
    };
  };

  router.add(
    {
      method: 'get',
      path: '/api/v1/compare',
      operationId: 'compare',
      summary: 'Compare two environments (baselines), two hosts, or a host with an environment',
      description:
        'Each side is `from`/`to` (an environment name, or `host:ID`) or `fromHost`/`toHost`. Identity and ' +
        'volatile facts never appear; `status` is `drift`, `justified` (an active exception whose environments ' +
        'include both sides’ environments), `secret-policy` (a secret path of the config `secretPolicy` whose ' +
        'hashes are equal where they should differ, or differ where they should be equal; counts like drift) or ' +
        '`scale` (never lowers `parity`). `parity` = equal or justified ' +
        'behavior paths / compared behavior paths. A path tied in a side’s baseline is absent from that side ' +
        '(`tie: true`), exactly as `verify --against` sees the baseline.',
      tag: 'compare',
      auth: 'read',
      query: compareQuery,
      response: compareResponseSchema,
      notFound: true,
    },
    async ({ query }) => {
      const from = resolveSide(query.from, query.fromHost);
      const to = resolveSide(query.to, query.toHost);
      await engine.checkExpiredExceptions();
      const comparison = compareFacts(from.facts, to.facts, {
        classify: engine.classify,
        exceptions: engine.exceptionRules(),
        ...(from.environment !== null ? { fromEnvironment: from.environment } : {}),
        ...(to.environment !== null ? { toEnvironment: to.environment } : {}),
        ...(query.category ? { categories: query.category } : {}),
        ...(secretPolicy.length > 0 ? { secretPolicy } : {}),
        now: new Date(now()),
      });
      const tied = new Set([...from.ties, ...to.ties].map((tie) => tie.path));
      const side = ({ kind, name, environment, fingerprint, ties }: Side) => ({
        kind,
        name,
        environment,
        fingerprint,
        ties,
      });
      return {
        from: from.label,
        to: to.label,
        parity: comparison.parity,
        compared: comparison.compared,
        differences: comparison.differences.map((difference) =>
          tied.has(difference.path) ? { ...difference, tie: true as const } : difference,
        ),
        sides: { from: side(from), to: side(to) },
      };
    },
  );
}
