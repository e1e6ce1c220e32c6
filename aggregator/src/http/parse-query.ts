/**
 * Request validation with zod: unknown query parameters or body keys and bad values are a 400 that
 * names the field in words a user understands (validation-messages.ts), so `?enviroment=prod` is an
 * error rather than a silently unfiltered answer.
 */
import type { z } from 'zod';
import { InvalidRequestError } from '../errors.js';
import { describeValidationError, type FieldHints, type InputSource } from './validation-messages.js';

/** Parses `input` with `schema`; InvalidRequestError names the first offending field. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  source: InputSource,
  hints?: FieldHints,
): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const { message, field } = describeValidationError(result.error, input, {
    source,
    schema,
    ...(hints ? { hints } : {}),
  });
  throw new InvalidRequestError(message, field);
}

/** Query strings (`c.req.query()`): every value is a string. */
export function parseQuery<S extends z.ZodType>(schema: S, query: Record<string, string>): z.infer<S> {
  return parseInput(schema, query, 'query');
}
