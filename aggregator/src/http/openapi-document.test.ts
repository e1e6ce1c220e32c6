import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApi, type TestApi } from '../../testing/test-api.js';
import { AGGREGATOR_PACKAGE_VERSION } from '../version.js';
import { openApiPath } from './openapi-document.js';

let api: TestApi;
beforeEach(() => {
  api = createTestApi();
});
afterEach(async () => {
  await api.aggregator.stop();
});

/** The contract's routes (DESIGN.md "HTTP") plus what this API adds. */
const CONTRACT = [
  'get /healthz',
  'get /metrics',
  'get /api/v1/agent',
  'get /api/v1/environments',
  'get /api/v1/environments/{env}/baseline',
  'get /api/v1/environments/{env}/outliers',
  'get /api/v1/compare',
  'get /api/v1/hosts',
  'get /api/v1/hosts/{id}',
  'get /api/v1/hosts/{id}/changes',
  'get /api/v1/drift',
  'get /api/v1/facts/distribution',
  'post /api/v1/tokens',
  'get /api/v1/tokens',
  'delete /api/v1/tokens/{id}',
  'post /api/v1/exceptions',
  'get /api/v1/exceptions',
  'delete /api/v1/exceptions/{id}',
  'get /api/v1/openapi.json',
  'delete /api/v1/hosts/{id}',
  'get /api/v1/fleet-key',
];

function collectRefs(value: unknown, refs: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) collectRefs(item, refs);
  else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') refs.push(child);
      else collectRefs(child, refs);
    }
  }
  return refs;
}

describe('GET /api/v1/openapi.json', () => {
  it('is an OpenAPI 3.1 document listing every registered route and every contract route', async () => {
    const { status, body: doc } = await api.get('/api/v1/openapi.json');
    expect(status).toBe(200);
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: AGGREGATOR_PACKAGE_VERSION });
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });

    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method} ${path}`),
    );
    const registered = api.aggregator.routes.routes.map((route) => `${route.method} ${openApiPath(route.path)}`);
    expect(documented.sort()).toEqual([...registered].sort());
    for (const route of CONTRACT) expect(documented, route).toContain(route);
  });

  it('documents exactly the routes the app serves (the HTML pages of the dashboard aside)', () => {
    const isApi = (path: string) => path.startsWith('/api/') || path === '/healthz' || path === '/metrics';
    const served = api.aggregator.app.routes
      .filter((route) => route.method !== 'ALL' && isApi(route.path))
      .map((route) => `${route.method.toLowerCase()} ${route.path}`);
    // Everything else is a page of the dashboard (HTML, same port), which the API document does not describe.
    const pages = api.aggregator.app.routes.filter((route) => route.method !== 'ALL' && !isApi(route.path));
    expect(pages.map((route) => route.path)).toContain('/login');
    expect(pages.map((route) => route.path)).toContain('/compare');
    const registered = api.aggregator.routes.routes.map((route) => `${route.method} ${route.path}`);
    expect([...new Set(served)].sort()).toEqual([...registered].sort());
  });

  it('has well-formed operations: unique ids, declared path parameters, responses, security, resolvable refs', async () => {
    const { body: doc } = await api.get('/api/v1/openapi.json');
    const ids = new Set<string>();
    // biome-ignore lint/suspicious/noExplicitAny: walking a JSON document
    for (const [path, operations] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      expect(path.startsWith('/')).toBe(true);
      for (const [method, op] of Object.entries(operations)) {
        const where = `${method} ${path}`;
        expect(['get', 'post', 'put', 'patch', 'delete']).toContain(method);
        expect(ids.has(op.operationId), where).toBe(false);
        ids.add(op.operationId);
        expect(op.summary, where).toEqual(expect.any(String));
        const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
        for (const name of pathParams) {
          expect(op.parameters, where).toContainEqual(expect.objectContaining({ name, in: 'path', required: true }));
        }
        for (const parameter of op.parameters) {
          expect(['path', 'query']).toContain(parameter.in);
          expect(parameter.schema, `${where} ${parameter.name}`).toEqual(expect.any(Object));
        }
        const codes = Object.keys(op.responses);
        expect(
          codes.some((code) => /^2\d\d$|^426$/.test(code)),
          where,
        ).toBe(true);
        for (const response of Object.values(op.responses) as { description: string }[]) {
          expect(response.description, where).toEqual(expect.any(String));
        }
        if (op['x-envparity-scope'] === 'none') expect(op.security).toEqual([]);
        else {
          expect(op.security).toEqual([{ bearerAuth: [] }]);
          expect(codes).toContain('401');
        }
        if (op['x-envparity-scope'] === 'admin' || op['x-envparity-scope'] === 'verify') {
          expect(codes).toContain('403');
        }
      }
    }
    for (const ref of collectRefs(doc)) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas).toHaveProperty([ref.split('/').at(-1) as string]);
    }
    expect(JSON.stringify(doc)).not.toContain('"$schema"');
  });

  it('describes parameters and bodies from the zod schemas', async () => {
    const { body: doc } = await api.get('/api/v1/openapi.json');
    const compare = doc.paths['/api/v1/compare'].get;
    expect(compare.parameters.map((p: { name: string }) => p.name).sort()).toEqual([
      'at',
      'category',
      'from',
      'fromAt',
      'fromHost',
      'to',
      'toAt',
      'toHost',
    ]);
    // An audit answers JSON or, with `?format=`, Markdown, HTML and CSV; recording one takes an optional body.
    const audit = doc.paths['/api/v1/audit'].get;
    expect(Object.keys(audit.responses['200'].content).sort()).toEqual([
      'application/json',
      'text/csv',
      'text/html',
      'text/markdown',
    ]);
    const record = doc.paths['/api/v1/audits'].post;
    expect(record.requestBody.required).toBe(false);
    expect(Object.keys(record.requestBody.content['application/json'].schema.properties).sort()).toEqual([
      'environments',
      'note',
    ]);
    const outliers = doc.paths['/api/v1/environments/{env}/outliers'].get;
    expect(outliers.parameters).toContainEqual(
      expect.objectContaining({
        name: 'includeScale',
        in: 'query',
        required: false,
        schema: { type: 'string', enum: ['true', 'false'] },
      }),
    );
    const post = doc.paths['/api/v1/exceptions'].post;
    expect(post['x-envparity-scope']).toBe('admin');
    expect(Object.keys(post.responses).sort()).toEqual(['201', '400', '401', '403']);
    const bodySchema = post.requestBody.content['application/json'].schema;
    expect(bodySchema.required.sort()).toEqual(['environments', 'path', 'reason']);
    expect(bodySchema.additionalProperties).toBe(false);
    const environments = doc.paths['/api/v1/environments'].get.responses['200'].content['application/json'].schema;
    expect(environments.type).toBe('array');
    const drift = doc.paths['/api/v1/drift'].get.responses['200'].content['application/json'].schema;
    expect(drift.properties.events.items.properties.kind.enum).toEqual(['outlier', 'environment', 'emergency', 'lost']);
  });

  it('needs a token', async () => {
    expect((await api.get('/api/v1/openapi.json', null)).status).toBe(401);
  });
});
