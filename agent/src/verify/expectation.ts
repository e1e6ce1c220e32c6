/**
 * Expectation files for `verify --expect` (written by `baseline`, like `goss autoadd`, then loosened
 * by hand). Each path holds one matcher:
 *   exact value           os.distro.id: debian
 *   semver range          runtime.node.version: ">=20.11 <21"   (leading operator, or an x-range like 20.x)
 *   regex                 library.dpkg.openssl: /^3\.0\./
 *   list of allowed       config.env.LOG_LEVEL: [info, warn]
 *   ignore                hardware.cpu.cores: ignore
 * and the explicit forms {equals}, {range}, {match}, {oneOf}, {ignore: true} for values the
 * shorthand would misread (array values, strings that look like a regex or range, "ignore").
 * A `checks:` list beside `facts:` holds health checks (checks.ts).
 */
import { type FactValue, factValueSchema, factValuesEqual, parsePath } from '@envparity/shared';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import { loadSemver } from '../lazy-packages.js';
import { CheckFileError, type HealthCheck, parseChecks } from './checks.js';

export const EXPECTATION_FORMAT = 'envparity/expectations/v1';

export type Matcher =
  | { kind: 'equals'; value: FactValue }
  | { kind: 'range'; range: string }
  | { kind: 'match'; regex: RegExp; source: string }
  | { kind: 'oneOf'; values: FactValue[] }
  | { kind: 'ignore' };

export interface ExpectationFile {
  format: typeof EXPECTATION_FORMAT;
  hostId?: string;
  environment?: string;
  createdAt?: string;
  expectations: Map<string, Matcher>;
  /** Health checks to run beside the fact comparison (empty when the file has none). */
  checks: HealthCheck[];
}

/** A bad expectation file; the message names the path or key. */
export class ExpectationError extends Error {
  readonly code = 'EXPECTATION_INVALID';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExpectationError';
  }
}

const REGEX_SHORTHAND = /^\/(.+)\/([dgimsuvy]*)$/s;
const X_RANGE = /^v?\d+(\.(\d+|[xX*]))*(\.[xX*])$|^v?\d+\.[xX*]$/;

function looksLikeRange(text: string): boolean {
  if (!/^[<>=^~]/.test(text) && !text.includes('||') && !/\s-\s/.test(text) && !X_RANGE.test(text)) return false;
  return loadSemver().validRange(text) !== null;
}

function compileRegex(source: string, flags: string, path: string): RegExp {
  try {
    return new RegExp(source, flags);
  } catch (cause) {
    throw new ExpectationError(`${path}: invalid regex /${source}/${flags}: ${(cause as Error).message}`, { cause });
  }
}

const explicitSchema = z.union([
  z.strictObject({ equals: factValueSchema }),
  z.strictObject({ range: z.string().min(1) }),
  z.strictObject({ match: z.string().min(1) }),
  z.strictObject({ oneOf: z.array(factValueSchema).min(1) }),
  z.strictObject({ ignore: z.literal(true) }),
]);

/** Reads one path's expectation from its YAML value. */
export function parseMatcher(path: string, raw: unknown): Matcher {
  if (raw === 'ignore') return { kind: 'ignore' };
  if (Array.isArray(raw)) {
    const parsed = z.array(factValueSchema).min(1).safeParse(raw);
    if (!parsed.success)
      throw new ExpectationError(`${path}: a list of allowed values must hold scalars or arrays of scalars`);
    return { kind: 'oneOf', values: parsed.data };
  }
  if (raw !== null && typeof raw === 'object') {
    const parsed = explicitSchema.safeParse(raw);
    if (!parsed.success) {
      throw new ExpectationError(
        `${path}: expected a value, or one of {equals}, {range}, {match}, {oneOf}, {ignore: true}`,
      );
    }
    const value = parsed.data;
    if ('equals' in value) return { kind: 'equals', value: value.equals };
    if ('range' in value) {
      if (loadSemver().validRange(value.range) === null)
        throw new ExpectationError(`${path}: invalid semver range ${JSON.stringify(value.range)}`);
      return { kind: 'range', range: value.range };
    }
    if ('match' in value) return { kind: 'match', regex: compileRegex(value.match, '', path), source: value.match };
    if ('oneOf' in value) return { kind: 'oneOf', values: value.oneOf };
    return { kind: 'ignore' };
  }
  if (typeof raw === 'string') {
    const regex = REGEX_SHORTHAND.exec(raw);
    if (regex) return { kind: 'match', regex: compileRegex(regex[1] as string, regex[2] as string, path), source: raw };
    if (looksLikeRange(raw)) return { kind: 'range', range: raw };
  }
  const parsed = factValueSchema.safeParse(raw);
  if (!parsed.success) throw new ExpectationError(`${path}: unsupported value`);
  return { kind: 'equals', value: parsed.data };
}

/** True when `actual` satisfies the matcher. A missing fact satisfies only `ignore`. */
export function matches(matcher: Matcher, actual: FactValue | undefined): boolean {
  switch (matcher.kind) {
    case 'ignore':
      return true;
    case 'equals':
      return actual !== undefined && factValuesEqual(matcher.value, actual);
    case 'oneOf':
      return actual !== undefined && matcher.values.some((value) => factValuesEqual(value, actual));
    case 'match': {
      if (actual === undefined) return false;
      const values = Array.isArray(actual) ? actual : [actual];
      return values.length > 0 && values.every((value) => matcher.regex.test(String(value)));
    }
    case 'range': {
      if (typeof actual !== 'string' && typeof actual !== 'number') return false;
      const semver = loadSemver();
      const version = semver.coerce(String(actual));
      return version !== null && semver.satisfies(version, matcher.range, { includePrerelease: true });
    }
  }
}

/** Human text of what a matcher expects, for reports. */
export function describeMatcher(matcher: Matcher): string {
  switch (matcher.kind) {
    case 'ignore':
      return 'ignore';
    case 'equals':
      return JSON.stringify(matcher.value);
    case 'oneOf':
      return `one of ${matcher.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'match':
      return matcher.source.startsWith('/') ? matcher.source : `/${matcher.source}/`;
    case 'range':
      return `semver ${matcher.range}`;
  }
}

const fileSchema = z.strictObject({
  format: z.literal(EXPECTATION_FORMAT, { error: `format: expected "${EXPECTATION_FORMAT}"` }),
  hostId: z.string().optional(),
  environment: z.string().optional(),
  createdAt: z.string().optional(),
  facts: z.record(z.string(), z.unknown()),
  checks: z.unknown().optional(),
});

/** Parses and validates an expectation file (YAML or JSON). */
export function parseExpectationFile(text: string, source = 'expectation file'): ExpectationFile {
  let raw: unknown;
  try {
    raw = parseYaml(text, { uniqueKeys: true });
  } catch (cause) {
    throw new ExpectationError(`${source}: not valid YAML or JSON: ${(cause as Error).message.split('\n')[0]}`, {
      cause,
    });
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path.join('.') || (issue?.code === 'unrecognized_keys' ? issue.keys.join(', ') : '(root)');
    throw new ExpectationError(`${source}: ${key}: ${issue?.message ?? 'invalid'}`);
  }
  const expectations = new Map<string, Matcher>();
  for (const [path, value] of Object.entries(parsed.data.facts)) {
    try {
      parsePath(path);
    } catch (cause) {
      throw new ExpectationError(`${source}: ${(cause as Error).message}`, { cause });
    }
    expectations.set(path, parseMatcher(path, value));
  }
  let checks: HealthCheck[] = [];
  try {
    if (parsed.data.checks !== undefined) checks = parseChecks(parsed.data.checks, source);
  } catch (cause) {
    if (cause instanceof CheckFileError) throw new ExpectationError(cause.message, { cause });
    throw cause;
  }
  const file: ExpectationFile = { format: EXPECTATION_FORMAT, expectations, checks };
  if (parsed.data.hostId) file.hostId = parsed.data.hostId;
  if (parsed.data.environment) file.environment = parsed.data.environment;
  if (parsed.data.createdAt) file.createdAt = parsed.data.createdAt;
  return file;
}

/** The shorthand for a value when it reads back as itself, else the explicit `{equals}` form. */
function serializeExact(path: string, value: FactValue): unknown {
  try {
    if (parseMatcher(path, value).kind === 'equals') return value;
  } catch {
    // e.g. an empty array: not a valid list of allowed values, so it needs the explicit form
  }
  return { equals: value };
}

/** Writes facts as an expectation file whose every entry is an exact match (`baseline`). */
export function formatExpectationFile(
  facts: Record<string, FactValue>,
  meta: { hostId?: string; environment?: string; createdAt?: string } = {},
): string {
  const body: Record<string, unknown> = {};
  for (const path of Object.keys(facts).sort()) body[path] = serializeExact(path, facts[path] as FactValue);
  const header = [
    '# envparity expectation file: `envparity-agent verify --expect FILE` checks a host against it.',
    '# Each path holds an exact value; loosen by hand with a semver range (">=20.11 <21"), a regex',
    '# (/^3\\.0\\./), a list of allowed values ([info, warn]) or `ignore`. See docs/VERIFY.md.',
  ].join('\n');
  return `${header}\n${stringifyYaml({ format: EXPECTATION_FORMAT, ...meta, facts: body }, { lineWidth: 0 })}`;
}
