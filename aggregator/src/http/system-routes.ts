/**
 * Routes that are not about the fleet: liveness, Prometheus metrics, the agent channel's plain-GET
 * answer and the OpenAPI document. `/healthz` and `/metrics` are open (probes and scrapers rarely
 * carry tokens, and neither shows a host name or a fact).
 */
import { z } from 'zod';
import type { AggregatorMetrics } from '../metrics/aggregator-metrics.js';
import { PROMETHEUS_CONTENT_TYPE } from '../metrics/aggregator-metrics.js';
import { AGGREGATOR_PACKAGE_VERSION } from '../version.js';
import type { ApiRouter } from './api-router.js';
import { errorBodySchema } from './api-schemas.js';
import { buildOpenApiDocument } from './openapi-document.js';

/** Open routes: registered before the `/api/v1/*` authentication. */
export function registerOpenRoutes(router: ApiRouter, { metrics }: { metrics: AggregatorMetrics }): void {
  router.add(
    {
      method: 'get',
      path: '/healthz',
      operationId: 'getHealth',
      summary: 'Liveness',
      tag: 'system',
      auth: 'none',
      lenientQuery: true,
      response: z.object({ status: z.literal('ok') }),
    },
    () => ({ status: 'ok' as const }),
  );
  router.add(
    {
      method: 'get',
      path: '/metrics',
      operationId: 'getMetrics',
      summary: 'Prometheus metrics (text exposition format)',
      tag: 'system',
      auth: 'none',
      lenientQuery: true,
      response: z.string(),
      contentType: PROMETHEUS_CONTENT_TYPE,
    },
    async ({ c }) => c.body(await metrics.render(), 200, { 'content-type': PROMETHEUS_CONTENT_TYPE }),
  );
  // The agent channel is a WebSocket (handled on the server's `upgrade` event); plain GETs land here.
  router.add(
    {
      method: 'get',
      path: '/api/v1/agent',
      operationId: 'getAgentChannel',
      summary: 'The agent WebSocket channel (see PROTOCOL.md); a plain GET answers 426',
      tag: 'system',
      auth: 'none',
      lenientQuery: true,
      status: 426,
      response: errorBodySchema,
    },
    () => ({ error: { code: 'UPGRADE_REQUIRED', message: 'the agent channel is a WebSocket' } }),
  );
}

/** The OpenAPI document of every route registered on `router` (read at request time: all of them). */
export function registerOpenApiRoute(router: ApiRouter): void {
  router.add(
    {
      method: 'get',
      path: '/api/v1/openapi.json',
      operationId: 'getOpenApiDocument',
      summary: 'This API as an OpenAPI 3.1 document, generated from the route registry',
      tag: 'system',
      auth: 'read',
      response: z.record(z.string(), z.unknown()),
    },
    () =>
      buildOpenApiDocument(router.routes, { version: AGGREGATOR_PACKAGE_VERSION }) as unknown as Record<
        string,
        unknown
      >,
  );
}
