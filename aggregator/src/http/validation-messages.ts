/**
 * The one mapping from zod issues to the messages API users read. Schema messages are written for
 * programmers ("Invalid input: expected string, received undefined"); users need the field, what is
 * wrong in plain words, and what to send instead ("`reason` is required: say why this difference is
 * intended"). Messages the schemas spell out themselves (custom refinements, regex explanations) are
 * kept; zod's generic ones are replaced. Per-field hints come from the route declaration.
 */
import type { z } from 'zod';

/** Per-field advice, keyed by the top-level field name: what a good value looks like. */
export type FieldHints = Readonly<Record<string, string>>;

/** Where an input came from, as the error message names it. */
export type InputSource = 'query' | 'body' | 'path';

const NOUN: Record<InputSource, string> = { query: 'query parameter', body: 'field', path: 'path parameter' };

/** zod's own messages, which users should never see (ours and the schemas' custom ones are kept). */
const GENERIC_MESSAGE = /^(Invalid|Too (small|big)|Unrecognized key|Expected|Required)/;

type Issue = z.core.$ZodIssue;

/** `environments[1]`, `labels.team`: how a field is named in messages. */
export function fieldName(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index ? '.' : ''}${String(part)}`))
    .join('');
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number' && Number.isNaN(value)) return 'not a number';
  if (typeof value === 'string') return value === '' ? 'an empty text' : `the text ${JSON.stringify(truncate(value))}`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

function truncate(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

const EXPECTED: Record<string, string> = {
  string: 'a text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  null: 'null',
};

function at(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const part of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

function plural(count: number | bigint, one: string, many: string): string {
  return `${count} ${Number(count) === 1 ? one : many}`;
}

function sizeText(issue: Extract<Issue, { code: 'too_small' | 'too_big' }>, bound: number | bigint): string {
  switch (issue.origin) {
    case 'string':
      return plural(bound, 'character', 'characters');
    case 'array':
    case 'set':
      return plural(bound, 'entry', 'entries');
    default:
      return String(bound);
  }
}

/** What is wrong with one field, without the field name. */
function problem(issue: Issue, input: unknown, known: readonly string[] | undefined, source: InputSource): string {
  const own = GENERIC_MESSAGE.test(issue.message) ? undefined : issue.message;
  const value = at(input, issue.path);
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return 'is required';
      return `must be ${EXPECTED[issue.expected] ?? issue.expected}, not ${describeValue(value)}`;
    case 'too_small': {
      const min = Number(issue.minimum);
      if ((issue.origin === 'string' || issue.origin === 'array') && min === 1) return 'must not be empty';
      if (own) return own;
      return issue.origin === 'string' || issue.origin === 'array'
        ? `needs at least ${sizeText(issue, issue.minimum)}`
        : `must be at least ${issue.minimum}${issue.inclusive ? '' : ' (exclusive)'}`;
    }
    case 'too_big':
      if (own) return own;
      return issue.origin === 'string' || issue.origin === 'array'
        ? `takes at most ${sizeText(issue, issue.maximum)}`
        : `must be at most ${issue.maximum}`;
    case 'invalid_format':
      if (own) return own;
      if (issue.format === 'datetime' || issue.format === 'date') {
        return `must be an ISO 8601 time such as 2026-01-31T12:00:00Z, not ${describeValue(value)}`;
      }
      if (issue.format === 'url') return `must be a URL, not ${describeValue(value)}`;
      return `is not a valid ${issue.format}: ${describeValue(value)}`;
    case 'invalid_value':
      if (own) return own;
      return `must be ${issue.values.length === 1 ? '' : 'one of '}${issue.values.map((v) => JSON.stringify(v)).join(', ')}, not ${describeValue(value)}`;
    case 'unrecognized_keys': {
      const list = issue.keys.map((key) => `\`${key}\``).join(', ');
      const noun = issue.keys.length === 1 ? `is not a known ${NOUN[source]}` : `are not known ${NOUN[source]}s`;
      if (!known) return `${list} ${noun}`;
      return `${list} ${noun}${known.length > 0 ? ` (known: ${known.join(', ')})` : ` (this route takes none)`}`;
    }
    case 'invalid_union':
      return own ?? `has an unexpected form: ${describeValue(value)}`;
    case 'not_multiple_of':
      return own ?? `must be a multiple of ${issue.divisor}`;
    default:
      return own ?? 'is not valid';
  }
}

/** Top-level keys a schema accepts, when it is an object schema (for "known: ..." lists). */
export function knownKeys(schema: z.ZodType): string[] | undefined {
  const shape = (schema as { shape?: Record<string, unknown> }).shape;
  return shape && typeof shape === 'object' ? Object.keys(shape) : undefined;
}

/**
 * One user-facing message for a failed validation: `invalid body: \`reason\` is required: say why this
 * difference is intended`. Only the first issue is described (fix one thing at a time); `field` is
 * the top-level field it concerns, for the error's `field`.
 */
export function describeValidationError(
  error: z.ZodError,
  input: unknown,
  { source, schema, hints = {} }: { source: InputSource; schema?: z.ZodType; hints?: FieldHints },
): { message: string; field: string | undefined } {
  const issue = error.issues[0];
  if (!issue) return { message: `invalid ${source}`, field: undefined };
  if (issue.path.length === 0 && issue.code === 'invalid_type') {
    return {
      message: `invalid ${source}: expected ${source === 'body' ? 'a JSON object' : 'parameters'}, not ${describeValue(input)}`,
      field: source,
    };
  }
  const known = schema && issue.path.length === 0 ? knownKeys(schema) : undefined;
  const text = problem(issue, input, known, source);
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0];
    const prefix = issue.path.length > 0 ? `\`${fieldName(issue.path)}\`: ` : '';
    return { message: `invalid ${source}: ${prefix}${text}`, field: key };
  }
  const top = issue.path.length > 0 ? String(issue.path[0]) : undefined;
  const hint = top === undefined ? undefined : hints[top];
  const field = issue.path.length > 0 ? `\`${fieldName(issue.path)}\`` : '';
  // The schema's own sentence ("`value` needs `fact`") already names the field, or follows a colon.
  const own = !GENERIC_MESSAGE.test(issue.message) && text === issue.message;
  const head = !field ? '' : own ? (text.includes(field) ? '' : `${field}: `) : `${field} `;
  return {
    message: `invalid ${source}: ${head}${text}${hint && !text.includes(hint) ? `: ${hint}` : ''}`,
    field: top,
  };
}
