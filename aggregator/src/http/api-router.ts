/**
 * The route registry: every API route is declared once with its auth scope and the zod schemas of
 * its path parameters, query, body and response. Registering binds the route on the Hono app with
 * validation in front of the handler, and keeps the declaration for the OpenAPI document, so the
 * document lists exactly the routes that exist with the schemas that are enforced.
 */
import type { Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { ForbiddenError, InvalidRequestError } from '../errors.js';
import { type ApiEnv, scopeAllows } from './api-auth.js';
import { parseInput } from './parse-query.js';
import type { FieldHints } from './validation-messages.js';

export const ROUTE_METHODS = ['get', 'post', 'delete'] as const;
export type RouteMethod = (typeof ROUTE_METHODS)[number];

/** `none`: open; `read`: any valid token; `verify`: a verify or admin token; `admin`: an admin token. */
export type RouteAuth = 'none' | 'read' | 'verify' | 'admin';

type MaybeSchema = z.ZodType | undefined;
type Output<S extends MaybeSchema> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteSpec<
  P extends MaybeSchema = MaybeSchema,
  Q extends MaybeSchema = MaybeSchema,
  B extends MaybeSchema = MaybeSchema,
  R extends z.ZodType = z.ZodType,
> {
  method: RouteMethod;
  /** Hono syntax: `/api/v1/hosts/:id`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  auth: RouteAuth;
  /** Required when the path has parameters. */
  params?: P;
  /** Default: no parameters allowed (unless `lenientQuery`). */
  query?: Q;
  /** Unknown query parameters are ignored instead of refused (probes add cache busters). */
  lenientQuery?: boolean;
  body?: B;
  /** The body may be left out entirely: an empty body parses as `{}` (every field optional). */
  optionalBody?: boolean;
  /** Per-field advice appended to validation errors (`reason`: "say why this difference is intended"). */
  hints?: FieldHints;
  /** Success status. */
  status?: 200 | 201 | 426;
  response: R;
  /** Non-JSON success content (Prometheus text); the handler returns a Response. */
  contentType?: string;
  /** Other content the route answers besides JSON (`?format=`: Markdown, HTML, CSV), as Responses. */
  alternateContentTypes?: readonly string[];
  /** 404 is a documented answer (unknown host, environment, token...). */
  notFound?: boolean;
  /** 409 is a documented answer (already retired host, file exception deleted through the API...). */
  conflict?: boolean;
}

export type AnyRouteSpec = RouteSpec<MaybeSchema, MaybeSchema, MaybeSchema, z.ZodType>;

export interface RouteInput<P extends MaybeSchema, Q extends MaybeSchema, B extends MaybeSchema> {
  params: Output<P>;
  query: Output<Q>;
  body: Output<B>;
  c: Context<ApiEnv>;
}

export type RouteHandler<P extends MaybeSchema, Q extends MaybeSchema, B extends MaybeSchema, R extends z.ZodType> = (
  input: RouteInput<P, Q, B>,
) => z.input<R> | Response | Promise<z.input<R> | Response>;

const NO_QUERY = z.strictObject({});
const ANY_QUERY = z.looseObject({});

/** `:name` parameters of a Hono path. */
export function pathParameterNames(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1] as string);
}

export class ApiRouter {
  readonly #routes: AnyRouteSpec[] = [];

  constructor(private readonly app: Hono<ApiEnv>) {}

  /** Every registered route, in registration order. */
  get routes(): readonly AnyRouteSpec[] {
    return this.#routes;
  }

  /**
   * Declares a route and binds it. Authentication of `/api/v1/*` happens in the app's middleware
   * (registered between the open routes and the others); `admin` routes add the scope check here,
   * before any input is validated, so a read token gets 403 whatever it sends.
   */
  add<P extends MaybeSchema, Q extends MaybeSchema, B extends MaybeSchema, R extends z.ZodType>(
    spec: RouteSpec<P, Q, B, R>,
    handler: RouteHandler<P, Q, B, R>,
  ): void {
    const names = pathParameterNames(spec.path);
    if (names.length > 0 && !spec.params) throw new Error(`route ${spec.path} needs a params schema`);
    if (this.#routes.some((route) => route.operationId === spec.operationId)) {
      throw new Error(`duplicate operationId ${spec.operationId}`);
    }
    this.#routes.push(spec as AnyRouteSpec);
    const status = (spec.status ?? 200) as ContentfulStatusCode;
    this.app.on(spec.method.toUpperCase(), spec.path, async (c) => {
      // The `read` check already ran in the app's `/api/v1/*` middleware.
      if (spec.auth === 'admin' || spec.auth === 'verify') {
        const scope = c.get('principal')?.scope;
        if (!scope || !scopeAllows(scope, spec.auth)) {
          throw new ForbiddenError(
            spec.auth === 'admin'
              ? 'this route needs a token with the admin scope'
              : 'this route needs a token with the verify (or admin) scope: create one with POST /api/v1/tokens {"scope":"verify"}',
          );
        }
      }
      const params = spec.params ? parseInput(spec.params, c.req.param(), 'path', spec.hints) : undefined;
      const query = parseInput(
        spec.query ?? (spec.lenientQuery ? ANY_QUERY : NO_QUERY),
        c.req.query(),
        'query',
        spec.hints,
      );
      let body: unknown;
      if (spec.body) {
        let json: unknown;
        try {
          const text = await c.req.text();
          json = spec.optionalBody && text.trim() === '' ? {} : JSON.parse(text);
        } catch {
          throw new InvalidRequestError(
            'invalid body: expected a JSON object (send Content-Type: application/json and a JSON body)',
            'body',
          );
        }
        body = parseInput(spec.body, json, 'body', spec.hints);
      }
      const result = await handler({ params, query, body, c } as RouteInput<P, Q, B>);
      if (result instanceof Response) return result;
      return c.json(result as object, status);
    });
  }
}
