/**
 * Health checks of `verify` (`checks:` in an expectation file, or `verify --checks FILE`): things
 * that must answer right now, beside the facts that must match. Four kinds, one key naming the
 * kind (as goss names its resources): `http: URL`, `tcp: host:port`, `command: sh text`,
 * `service: <watch.services name>`. Parsing is strict like the rest of the file: an unknown key, a
 * second kind or a bad value is refused with a message naming the key (`checks[1].tcp: ...`).
 */
import { readFile } from 'node:fs/promises';
import type { ServiceConfig } from '@envparity/shared';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseJsonPath } from '../collectors/services/http-json-path.js';
import { endpointLabel } from '../collectors/services/tcp-connect.js';
import { loadSemver } from '../lazy-packages.js';

export const CHECK_KINDS = ['http', 'tcp', 'command', 'service'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

/** The time one attempt of a check may take when it names no `timeout`. */
export const DEFAULT_CHECK_TIMEOUT_MS = 5_000;
/** `verify --sleep`: the pause between attempts while `--retry-timeout` lasts (goss's default). */
export const DEFAULT_CHECK_SLEEP_MS = 1_000;

interface CheckBase {
  /** Unique within the file; defaults to the kind and its target (`http http://127.0.0.1:8080/health`). */
  name: string;
  /** Where it was written (`FILE: checks[2]`), for messages. */
  at: string;
}

export interface HttpCheck extends CheckBase {
  kind: 'http';
  url: string;
  status: number;
  bodyContains?: string;
  /** `$.a.b`, `$.items[0].v`: the grammar of the http service's versionJsonPath. */
  jsonPath?: string;
  /** Compared with the value at `jsonPath` (deep equality); absent: the path only has to exist. */
  equals?: unknown;
  timeoutMs: number;
}
export interface TcpCheck extends CheckBase {
  kind: 'tcp';
  host: string;
  port: number;
  /** goss's `reachable`: false asserts the port is closed. */
  reachable: boolean;
  timeoutMs: number;
}
export interface CommandCheck extends CheckBase {
  kind: 'command';
  command: string;
  exitCode: number;
  stdoutContains?: string;
  timeoutMs: number;
}
export interface ServiceCheck extends CheckBase {
  kind: 'service';
  service: string;
  /** A semver range the service's version (coerced: `15.4 (Debian 15.4-1)` -> 15.4.0) must satisfy. */
  version?: string;
}
export type HealthCheck = HttpCheck | TcpCheck | CommandCheck | ServiceCheck;

/** A bad `checks:` list or checks file; the message names the key. */
export class CheckFileError extends Error {
  readonly code = 'CHECKS_INVALID';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CheckFileError';
  }
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/**
 * `500ms`, `2s`, `1.5m`, `1h` -> milliseconds; a bare number is seconds, as `timeout` is everywhere
 * in the agent config. Undefined when not a positive duration. (The operator CLI's parseDuration
 * has no `ms` and lives in a package the agent does not depend on.)
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value * 1_000 : undefined;
  if (typeof value !== 'string') return undefined;
  const match = DURATION.exec(value.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * DURATION_UNITS_MS[match[2] as keyof typeof DURATION_UNITS_MS];
  return ms > 0 && Number.isFinite(ms) ? ms : undefined;
}

/** `2s`, `500ms`, `1.5s`: how long, for people. */
export function formatMs(ms: number): string {
  return ms < 1_000 ? `${Math.round(ms)}ms` : `${Math.round(ms / 100) / 10}s`;
}

const duration = z.unknown().transform((value, context) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    context.addIssue({ code: 'custom', message: 'expected a duration such as 500ms, 2s, 1m (a number is seconds)' });
    return z.NEVER;
  }
  return ms;
});
const name = z.string().min(1, 'must not be empty').max(200);
const text = z.string().min(1, 'must not be empty');

const jsonPath = z.string().refine((value) => {
  try {
    parseJsonPath(value);
    return true;
  } catch {
    return false;
  }
}, 'expected a JSON path such as $.status or $.checks[0].ok');

const httpUrl = z
  .string()
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, 'expected an http:// or https:// URL')
  // The URL is the check's default name and appears in every report: no password in it.
  .refine((value) => !/^https?:\/\/[^/]*@/.test(value), 'a URL with user:password@ is refused: reports show the URL');
const HOST_PORT = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]/]+)):(\d{1,5})$/;
const hostPort = z.string().transform((value, context) => {
  const match = HOST_PORT.exec(value);
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65_535) {
    context.addIssue({ code: 'custom', message: 'expected host:port (e.g. 127.0.0.1:5432, [::1]:80)' });
    return z.NEVER;
  }
  return { host: (match[1] ?? match[2]) as string, port };
});
const semverRange = z
  .string()
  .refine((value) => loadSemver().validRange(value) !== null, 'expected a semver range such as ">=15 <16"');

const KIND_SCHEMAS = {
  http: z
    .strictObject({
      name: name.optional(),
      http: httpUrl,
      status: z.number().int().min(100).max(599).default(200),
      bodyContains: text.optional(),
      jsonPath: jsonPath.optional(),
      equals: z.unknown().optional(),
      timeout: duration.optional(),
    })
    .refine((check) => check.equals === undefined || check.jsonPath !== undefined, {
      path: ['equals'],
      message: 'needs jsonPath: the value it is compared with',
    }),
  tcp: z.strictObject({
    name: name.optional(),
    tcp: hostPort,
    reachable: z.boolean().default(true),
    timeout: duration.optional(),
  }),
  command: z.strictObject({
    name: name.optional(),
    command: text,
    exitCode: z.number().int().min(0).max(255).default(0),
    stdoutContains: text.optional(),
    timeout: duration.optional(),
  }),
  service: z.strictObject({
    name: name.optional(),
    service: z.string().regex(/^[A-Za-z0-9_-]+$/, 'a watch.services name: letters, digits, _ and -'),
    version: semverRange.optional(),
  }),
} as const;

function issueText(at: string, error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue?.code === 'unrecognized_keys') return `${at}.${issue.keys[0]}: unknown key`;
  const key = issue?.path.length ? `${at}.${issue.path.join('.')}` : at;
  return `${key}: ${issue?.message ?? 'invalid'}`;
}

function shorten(value: string): string {
  return value.length > 60 ? `${value.slice(0, 59)}…` : value;
}

function parseOne(raw: unknown, index: number, source: string): HealthCheck {
  const at = `${source}: checks[${index}]`;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new CheckFileError(`${at}: expected a mapping with one of ${CHECK_KINDS.join(', ')}`);
  const kinds = CHECK_KINDS.filter((kind) => Object.hasOwn(raw, kind));
  if (kinds.length > 1) throw new CheckFileError(`${at}: a check has one kind, got ${kinds.join(' and ')}`);
  const kind = kinds[0];
  if (kind === undefined) {
    const unknown = Object.keys(raw).filter((key) => key !== 'name');
    const got = unknown.length ? `, got ${unknown.map((key) => JSON.stringify(key)).join(', ')}` : '';
    throw new CheckFileError(`${at}: unknown check kind: expected one of ${CHECK_KINDS.join(', ')}${got}`);
  }
  const parsed = KIND_SCHEMAS[kind].safeParse(raw);
  if (!parsed.success) throw new CheckFileError(issueText(at, parsed.error));
  const value = parsed.data;
  if ('http' in value) {
    const check: HttpCheck = {
      kind: 'http',
      at,
      name: value.name ?? `http ${value.http}`,
      url: value.http,
      status: value.status,
      timeoutMs: value.timeout ?? DEFAULT_CHECK_TIMEOUT_MS,
    };
    if (value.bodyContains !== undefined) check.bodyContains = value.bodyContains;
    if (value.jsonPath !== undefined) check.jsonPath = value.jsonPath;
    if (value.equals !== undefined) check.equals = value.equals;
    return check;
  }
  if ('tcp' in value) {
    const { host, port } = value.tcp;
    const timeoutMs = value.timeout ?? DEFAULT_CHECK_TIMEOUT_MS;
    const checkName = value.name ?? `tcp ${endpointLabel(host, port)}`;
    return { kind: 'tcp', at, name: checkName, host, port, reachable: value.reachable, timeoutMs };
  }
  if ('command' in value) {
    const check: CommandCheck = {
      kind: 'command',
      at,
      name: value.name ?? `command ${shorten(value.command)}`,
      command: value.command,
      exitCode: value.exitCode,
      timeoutMs: value.timeout ?? DEFAULT_CHECK_TIMEOUT_MS,
    };
    if (value.stdoutContains !== undefined) check.stdoutContains = value.stdoutContains;
    return check;
  }
  const check: ServiceCheck = {
    kind: 'service',
    at,
    name: value.name ?? `service ${value.service}`,
    service: value.service,
  };
  if (value.version !== undefined) check.version = value.version;
  return check;
}

/** Refuses two checks of one name (the report names checks): the later one is named. */
export function assertUniqueNames(checks: readonly HealthCheck[]): void {
  const seen = new Set<string>();
  for (const check of checks) {
    if (seen.has(check.name))
      throw new CheckFileError(`${check.at}.name: duplicate name ${JSON.stringify(check.name)}`);
    seen.add(check.name);
  }
}

/** Validates a `checks:` value (a list); throws CheckFileError naming the key. */
export function parseChecks(raw: unknown, source = 'checks'): HealthCheck[] {
  if (!Array.isArray(raw)) throw new CheckFileError(`${source}: checks: expected a list of checks`);
  const checks = raw.map((item, index) => parseOne(item, index, source));
  assertUniqueNames(checks);
  return checks;
}

/** Parses a `--checks` file (YAML or JSON) holding only `checks:`. */
export function parseChecksFile(textContent: string, source = 'checks file'): HealthCheck[] {
  let raw: unknown;
  try {
    raw = parseYaml(textContent, { uniqueKeys: true });
  } catch (cause) {
    throw new CheckFileError(`${source}: not valid YAML or JSON: ${(cause as Error).message.split('\n')[0]}`, {
      cause,
    });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new CheckFileError(`${source}: expected a mapping with a checks: list`);
  const extra = Object.keys(raw).filter((key) => key !== 'checks');
  if (extra.length > 0)
    throw new CheckFileError(`${source}: ${extra[0]}: unknown key (a checks file holds only checks:)`);
  if (!Object.hasOwn(raw, 'checks')) throw new CheckFileError(`${source}: checks: required`);
  return parseChecks((raw as { checks: unknown }).checks, source);
}

/** Reads and parses a `--checks` file. */
export async function readChecksFile(path: string): Promise<HealthCheck[]> {
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (cause) {
    throw new CheckFileError(`cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  return parseChecksFile(content, path);
}

/**
 * The `watch.services` entry of every `service` check, by check name; a name the config does not
 * declare is refused (exit 2), naming it and the ones it does.
 */
export function resolveCheckServices(
  checks: readonly HealthCheck[],
  services: readonly ServiceConfig[],
): Map<string, ServiceConfig> {
  const byName = new Map(services.map((spec) => [spec.name, spec]));
  const resolved = new Map<string, ServiceConfig>();
  for (const check of checks) {
    if (check.kind !== 'service') continue;
    const spec = byName.get(check.service);
    if (!spec) {
      const known = services.length ? `declared: ${services.map((s) => s.name).join(', ')}` : 'it declares none';
      throw new CheckFileError(
        `${check.at}.service: no service ${JSON.stringify(check.service)} in the agent config's watch.services (${known})`,
      );
    }
    resolved.set(check.name, spec);
  }
  return resolved;
}
