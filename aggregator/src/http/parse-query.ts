/**
 * Query-string validation with zod: unknown parameters and bad values are a 400 that names the
 * parameter, so `?enviroment=prod` is an error rather than a silently unfiltered answer.
 */
import { formatIssues } from '@envparity/shared';
import type { z } from 'zod';
import { InvalidRequestError } from '../errors.js';

export function parseQuery<S extends z.ZodType>(schema: S, query: Record<string, string>): z.infer<S> {
  const result = schema.safeParse(query);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field =
    issue?.code === 'unrecognized_keys' ? issue.keys[0] : issue?.path.length ? String(issue.path[0]) : undefined;
  throw new InvalidRequestError(`invalid query: ${formatIssues(result.error)}`, field);
}
