/**
 * Request validation with zod: unknown query parameters or body keys and bad values are a 400 that
 * names the field, so `?enviroment=prod` is an error rather than a silently unfiltered answer.
 */
import { formatIssues } from '@envparity/shared';
import type { z } from 'zod';
import { InvalidRequestError } from '../errors.js';

/** Where an input came from, as the error message names it. */
export type InputSource = 'query' | 'body' | 'path';

/** Parses `input` with `schema`; InvalidRequestError names the first offending field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, source: InputSource): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field =
    issue?.code === 'unrecognized_keys' ? issue.keys[0] : issue?.path.length ? String(issue.path[0]) : undefined;
  throw new InvalidRequestError(`invalid ${source}: ${formatIssues(result.error)}`, field);
}

/** Query strings (`c.req.query()`): every value is a string. */
export function parseQuery<S extends z.ZodType>(schema: S, query: Record<string, string>): z.infer<S> {
  return parseInput(schema, query, 'query');
}
