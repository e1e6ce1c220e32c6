import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createExceptionBodySchema, createTokenBodySchema } from './api-schemas.js';
import { EXCEPTION_FIELD_HINTS } from './exceptions-routes.js';
import { TOKEN_FIELD_HINTS } from './tokens-routes.js';
import { describeValidationError } from './validation-messages.js';

function message(schema: z.ZodType, input: unknown, hints = {}, source: 'body' | 'query' = 'body'): string {
  const result = schema.safeParse(input);
  if (result.success) throw new Error('expected a validation error');
  return describeValidationError(result.error, input, { source, schema, hints }).message;
}

const valid = { path: 'config.env.LOG_LEVEL', environments: ['staging', 'production'], reason: 'verbose logs' };
const exception = (input: unknown) => message(createExceptionBodySchema, input, EXCEPTION_FIELD_HINTS);

describe('validation messages', () => {
  it('say what is wrong with an exception body, field by field, in words', () => {
    expect(exception({ ...valid, reason: undefined })).toBe(
      'invalid body: `reason` is required: say why this difference is intended',
    );
    expect(exception({ ...valid, reason: '  ' })).toBe(
      'invalid body: `reason` must not be empty: say why this difference is intended',
    );
    expect(exception({ ...valid, reason: 42 })).toBe(
      'invalid body: `reason` must be a text, not number 42: say why this difference is intended',
    );
    expect(exception({ ...valid, environments: [] })).toBe(
      'invalid body: `environments` must not be empty: name one environment, or the pair the difference is ' +
        'between, e.g. ["staging", "production"]',
    );
    expect(exception({ ...valid, environments: ['a', 'b', 'c'] })).toMatch(
      /^invalid body: `environments` takes at most 2 entries: name one environment/,
    );
    expect(exception({ ...valid, environments: 'staging' })).toMatch(
      /^invalid body: `environments` must be a list, not the text "staging": /,
    );
    expect(exception({ ...valid, environments: ['staging', 'no spaces'] })).toMatch(
      /^invalid body: `environments\[1\]`: environment names are letters, digits, _ and -: /,
    );
    expect(exception({ ...valid, expiresAt: 'next week' })).toBe(
      'invalid body: `expiresAt` must be an ISO 8601 time such as 2026-01-31T12:00:00Z, not the text "next week": ' +
        'give an ISO 8601 time in the future such as 2026-12-31T00:00:00Z, or leave it out for no expiry',
    );
    expect(exception({ ...valid, severity: 'high' })).toBe(
      'invalid body: `severity` is not a known field (known: path, environments, reason, impact, owner, expiresAt)',
    );
    expect(exception([])).toBe('invalid body: expected a JSON object, not a list');
  });

  it('say what a token body wants', () => {
    expect(message(createTokenBodySchema, { name: 'ci', scope: 'root' }, TOKEN_FIELD_HINTS)).toMatch(
      /^invalid body: `scope` must be one of "read", "verify", "admin", not the text "root": choose "read"/,
    );
    expect(message(createTokenBodySchema, { name: '', scope: 'read' }, TOKEN_FIELD_HINTS)).toBe(
      'invalid body: `name` must not be empty: name the token after who or what uses it, e.g. "ci-deploy"',
    );
  });

  it('never shows zod’s own wording', () => {
    const schema = z.strictObject({
      n: z.coerce.number().int().min(1).max(5),
      u: z.url(),
      list: z.array(z.string()).min(2),
    });
    const cases: unknown[] = [
      { n: 'x', u: 'https://a', list: ['a', 'b'] },
      { n: '9', u: 'https://a', list: ['a', 'b'] },
      { n: '0', u: 'https://a', list: ['a', 'b'] },
      { n: '1', u: 'nope', list: ['a', 'b'] },
      { n: '1', u: 'https://a', list: ['a'] },
      { n: '1', u: 'https://a', list: ['a', 'b'], extra: 1, more: 2 },
    ];
    const texts = cases.map((input) => message(schema, input, {}, 'query'));
    expect(texts).toEqual([
      'invalid query: `n` must be a number, not the text "x"',
      'invalid query: `n` must be at most 5',
      'invalid query: `n` must be at least 1',
      'invalid query: `u` must be a URL, not the text "nope"',
      'invalid query: `list` needs at least 2 entries',
      'invalid query: `extra`, `more` are not known query parameters (known: n, u, list)',
    ]);
    const own = z
      .strictObject({ value: z.string().optional(), since: z.string().regex(/^\d/, 'expected an ISO 8601 time') })
      .refine((q) => q.value === undefined, { path: ['value'], message: '`value` needs `fact` (the path to compare)' });
    expect(message(own, { since: '1', value: 'x' }, {}, 'query')).toBe(
      'invalid query: `value` needs `fact` (the path to compare)',
    );
    expect(message(own, { since: 'yesterday' }, {}, 'query')).toBe('invalid query: `since`: expected an ISO 8601 time');
    for (const text of texts)
      expect(text).not.toMatch(/Invalid input|Too (small|big)|Unrecognized|expected \w+, received/);
  });
});
