import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, type TestApi } from '../../../aggregator/testing/test-api.js';
import { CLIENT_ROUTES, fillPath } from './routes.js';

interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, unknown>;
  items?: JsonSchema;
}

interface Operation {
  parameters?: { name: string; in: string }[];
  responses: Record<string, { content?: Record<string, { schema?: JsonSchema }> }>;
}

let api: TestApi;
let doc: { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, JsonSchema> } };

beforeAll(async () => {
  api = createTestApi();
  const answer = await api.get('/api/v1/openapi.json');
  expect(answer.status).toBe(200);
  doc = answer.body;
});
afterAll(async () => {
  await api.aggregator.stop();
});

function resolve(schema: JsonSchema | undefined): JsonSchema | undefined {
  if (!schema?.$ref) return schema;
  const name = schema.$ref.split('/').pop() ?? '';
  return doc.components.schemas[name];
}

describe('CLIENT_ROUTES against the aggregator OpenAPI document', () => {
  const entries = Object.entries(CLIENT_ROUTES);

  it('covers the routes the CLI needs', () => {
    expect(entries.length).toBeGreaterThanOrEqual(20);
  });

  it.each(entries)(
    '%s: method and path exist, its query parameters and read properties are documented',
    (_name, route) => {
      const operation = doc.paths[route.path]?.[route.method];
      expect(operation, `${route.method} ${route.path} in openapi.json`).toBeDefined();
      if (!operation) return;
      const status = String('status' in route ? route.status : 200);
      const success = operation.responses[status];
      expect(success, `${route.method} ${route.path} answers ${status}`).toBeDefined();
      const documentedQuery = (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
      for (const name of route.query) expect(documentedQuery, `${route.path} query ${name}`).toContain(name);
      let schema = resolve(success?.content?.['application/json']?.schema);
      expect(schema, `${route.path} has a JSON schema`).toBeDefined();
      if ('array' in route && route.array) {
        expect(schema?.type).toBe('array');
        schema = resolve(schema?.items);
      } else {
        expect(schema?.type).toBe('object');
      }
      const properties = Object.keys(schema?.properties ?? {});
      for (const property of route.reads)
        expect(properties, `${route.path} answer property ${property}`).toContain(property);
    },
  );

  it('the table checks a route the document does not have (a control for the test above)', () => {
    expect(doc.paths['/api/v1/no-such-route']).toBeUndefined();
    expect(Object.keys(doc.paths['/api/v1/hosts']?.get?.responses ?? {})).toContain('200');
  });
});

describe('fillPath', () => {
  it('encodes parameters and refuses a missing one', () => {
    expect(fillPath('/api/v1/hosts/{id}/changes', { id: 'web 1/a' })).toBe('/api/v1/hosts/web%201%2Fa/changes');
    expect(() => fillPath('/api/v1/hosts/{id}', {})).toThrow(/missing path parameter id/);
  });
});
