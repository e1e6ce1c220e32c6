/**
 * The OpenAPI 3.1 document of the API, generated from the route registry: paths, parameters,
 * bodies and responses all come from the zod schemas the routes validate with (`z.toJSONSchema`,
 * JSON Schema 2020-12, which OpenAPI 3.1 embeds as is). Nothing is written by hand, so a route
 * cannot exist without being documented, nor be documented differently from how it behaves.
 */
import { z } from 'zod';
import type { AnyRouteSpec } from './api-router.js';
import { pathParameterNames } from './api-router.js';
import { errorBodySchema } from './api-schemas.js';

export const OPENAPI_VERSION = '3.1.0';

type JsonSchema = Record<string, unknown>;

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  description?: string;
  schema: JsonSchema;
}

export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  security: Record<string, string[]>[];
  'x-envparity-scope': string;
  parameters: OpenApiParameter[];
  requestBody?: { required: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: JsonSchema }> }>;
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  servers: { url: string }[];
  tags: { name: string }[];
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: {
    securitySchemes: Record<string, { type: string; scheme: string; description: string }>;
    schemas: Record<string, JsonSchema>;
  };
}

const ERROR_REF = { $ref: '#/components/schemas/Error' };

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input; the message names the field (`INVALID_REQUEST`).',
  401: 'No token, or an unknown or revoked one (`UNAUTHORIZED`).',
  403: 'The token’s scope does not allow the route (`FORBIDDEN`).',
  404: 'Unknown resource (`NOT_FOUND`).',
  409: 'The resource’s state forbids the change; the message says why (`CONFLICT`).',
};

/** JSON Schema of a zod schema as the request side (`input`) or the response side (`output`) sees it. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io,
    target: 'draft-2020-12',
    unrepresentable: 'any',
  }) as JsonSchema;
  return rest;
}

/** `/api/v1/hosts/:id` -> `/api/v1/hosts/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parametersOf(schema: z.ZodType | undefined, location: 'path' | 'query'): OpenApiParameter[] {
  if (!schema) return [];
  const json = jsonSchemaOf(schema, 'input');
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...propertySchema } = property;
    const parameter: OpenApiParameter = {
      name,
      in: location,
      required: location === 'path' || required.has(name),
      schema: propertySchema,
    };
    if (typeof description === 'string') parameter.description = description;
    return parameter;
  });
}

function operationOf(route: AnyRouteSpec): OpenApiOperation {
  const success = String(route.status ?? 200);
  const contentType = route.contentType ?? 'application/json';
  const responseSchema = route.contentType ? { type: 'string' } : jsonSchemaOf(route.response, 'output');
  const content: Record<string, { schema: JsonSchema }> = { [contentType]: { schema: responseSchema } };
  for (const alternate of route.alternateContentTypes ?? []) content[alternate] = { schema: { type: 'string' } };
  const responses: OpenApiOperation['responses'] = { [success]: { description: route.summary, content } };
  const errors: number[] = [];
  // Without a query schema unknown parameters are refused (400), unless the route is lenient.
  if (route.params || route.query || route.body || !route.lenientQuery) errors.push(400);
  if (route.auth !== 'none') errors.push(401);
  if (route.auth === 'admin' || route.auth === 'verify') errors.push(403);
  if (route.notFound) errors.push(404);
  if (route.conflict) errors.push(409);
  for (const status of errors) {
    responses[String(status)] = {
      description: ERROR_DESCRIPTIONS[status] as string,
      content: { 'application/json': { schema: ERROR_REF } },
    };
  }
  const operation: OpenApiOperation = {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    security: route.auth === 'none' ? [] : [{ bearerAuth: [] }],
    'x-envparity-scope': route.auth,
    parameters: [...parametersOf(route.params, 'path'), ...parametersOf(route.query, 'query')],
    responses,
  };
  if (route.description) operation.description = route.description;
  if (route.body) {
    operation.requestBody = {
      required: !route.optionalBody,
      content: { 'application/json': { schema: jsonSchemaOf(route.body, 'input') } },
    };
  }
  // Path parameters the params schema does not describe would make the document invalid.
  for (const name of pathParameterNames(route.path)) {
    if (!operation.parameters.some((p) => p.in === 'path' && p.name === name)) {
      operation.parameters.unshift({ name, in: 'path', required: true, schema: { type: 'string' } });
    }
  }
  return operation;
}

export interface OpenApiInfo {
  title?: string;
  version: string;
  description?: string;
}

/** Builds the document from the registered routes. */
export function buildOpenApiDocument(routes: readonly AnyRouteSpec[], info: OpenApiInfo): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  const tags: string[] = [];
  for (const route of routes) {
    const path = openApiPath(route.path);
    paths[path] ??= {};
    (paths[path] as Record<string, OpenApiOperation>)[route.method] = operationOf(route);
    if (!tags.includes(route.tag)) tags.push(route.tag);
  }
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: info.title ?? 'envparity aggregator API',
      version: info.version,
      description:
        info.description ??
        'Environment parity: hosts, environment baselines, outliers, comparisons, drift events, exceptions. ' +
          'All routes under /api/v1 take `Authorization: Bearer TOKEN`; scopes `read` < `verify` (adds the fleet key) < `admin`.',
    },
    servers: [{ url: '/' }],
    tags: tags.map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API token (`read`, `verify` or `admin` scope), or the bootstrap ENVPARITY_ADMIN_TOKEN.',
        },
      },
      schemas: { Error: jsonSchemaOf(errorBodySchema, 'output') },
    },
  };
}
