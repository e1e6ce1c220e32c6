/**
 * Runs `verify`'s health checks (checks.ts): every check once, then, with a retry timeout, only the
 * failing ones again after each sleep until all pass or the time is up (goss's `--retry-timeout`
 * and `--sleep`, but the facts are not re-collected: they are collected once, after the checks).
 * A check never throws: whatever goes wrong is what it saw.
 */
import { isDeepStrictEqual } from 'node:util';
import type { AgentConfig, ServiceConfig } from '@envparity/shared';
import { httpGet } from '../collectors/services/http-get.js';
import { evaluateJsonPath } from '../collectors/services/http-json-path.js';
import { connectSocket } from '../collectors/services/tcp-connect.js';
import { execCommand } from '../exec.js';
import { loadSemver } from '../lazy-packages.js';
import {
  assertUniqueNames,
  CheckFileError,
  type CheckKind,
  type CommandCheck,
  DEFAULT_CHECK_SLEEP_MS,
  formatMs,
  type HealthCheck,
  type HttpCheck,
  parseDuration,
  readChecksFile,
  resolveCheckServices,
  type ServiceCheck,
  type TcpCheck,
} from './checks.js';
import { VerifyError } from './verify-error.js';

/** One check's verdict as every format reports it. */
export interface HealthCheckResult {
  name: string;
  kind: CheckKind;
  ok: boolean;
  /** What the check asks for, in words (`status 200, body contains "ok"`). */
  expected: string;
  /** What the last attempt saw (`status 503`, `connection refused (ECONNREFUSED)`). */
  actual: string;
  /** Wall time of the last attempt, milliseconds. */
  durationMs: number;
  /** How many times it ran (1 without a retry timeout). */
  attempts: number;
}

interface Verdict {
  ok: boolean;
  expected: string;
  actual: string;
}

export interface RunChecksOptions {
  /** Keep re-running failing checks this long (0: one try). */
  retryTimeoutMs?: number;
  /** Pause between attempts (goss's default: 1 s). */
  sleepMs?: number;
  /** The `watch.services` entry of each `service` check, by check name (resolveCheckServices). */
  services?: ReadonlyMap<string, ServiceConfig>;
  /** Env of `command` checks and of services' `passwordEnv`. */
  env?: NodeJS.ProcessEnv;
  /** One line per attempt that leaves checks failing while retrying (stderr). */
  progress?: (line: string) => void;
  /** Stops retrying (the run ended otherwise); checks already running finish within their timeout. */
  signal?: AbortSignal;
}

/** More of an output than this is not shown. */
const MAX_SHOWN_CHARS = 200;

function clip(value: string): string {
  const line = value.trim().replace(/\s*\n\s*/g, ' ⏎ ');
  return line.length > MAX_SHOWN_CHARS ? `${line.slice(0, MAX_SHOWN_CHARS - 1)}…` : line;
}

function showJson(value: unknown): string {
  return value === undefined ? '(missing)' : clip(JSON.stringify(value));
}

async function runHttp(check: HttpCheck): Promise<Verdict> {
  const wanted = [`status ${check.status}`];
  if (check.bodyContains !== undefined) wanted.push(`body contains ${JSON.stringify(check.bodyContains)}`);
  if (check.jsonPath) {
    wanted.push(
      check.equals === undefined ? `${check.jsonPath} present` : `${check.jsonPath} = ${showJson(check.equals)}`,
    );
  }
  const expected = wanted.join(', ');
  const signal = AbortSignal.timeout(check.timeoutMs);
  const readBody = check.bodyContains !== undefined || check.jsonPath !== undefined;
  try {
    // The http service probe's GET (not fetch: its port blocklist refuses ports like 6000 or 10080).
    const answer = await httpGet(new URL(check.url), { signal, readBody });
    const seen = [`status ${answer.status}`];
    if (readBody && answer.body === undefined) {
      return { ok: false, expected, actual: `${seen[0]}, ${answer.bodyError ?? 'no body'}` };
    }
    const body = answer.body?.toString('utf8') ?? '';
    let ok = answer.status === check.status;
    if (check.bodyContains !== undefined && !body.includes(check.bodyContains)) {
      ok = false;
      seen.push(`body ${JSON.stringify(clip(body))}`);
    }
    if (check.jsonPath) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return { ok: false, expected, actual: `${seen.join(', ')}, body is not JSON` };
      }
      const at = evaluateJsonPath(parsed, check.jsonPath);
      seen.push(`${check.jsonPath} = ${at.found ? showJson(at.value) : '(missing)'}`);
      if (!at.found || (check.equals !== undefined && !isDeepStrictEqual(at.value, check.equals))) ok = false;
    }
    return { ok, expected, actual: seen.join(', ') };
  } catch (error) {
    const actual = signal.aborted ? `no answer within ${formatMs(check.timeoutMs)}` : (error as Error).message;
    return { ok: false, expected, actual };
  }
}

async function runTcp(check: TcpCheck): Promise<Verdict> {
  const expected = check.reachable ? 'open' : 'closed';
  const signal = AbortSignal.timeout(check.timeoutMs);
  try {
    (await connectSocket(check.host, check.port, signal)).destroy();
    return { ok: check.reachable, expected, actual: 'open' };
  } catch (error) {
    const why = signal.aborted ? `no answer within ${formatMs(check.timeoutMs)}` : (error as Error).message;
    return { ok: !check.reachable, expected, actual: `closed: ${why}` };
  }
}

async function runCommand(check: CommandCheck, env: NodeJS.ProcessEnv): Promise<Verdict> {
  const wanted = [`exit ${check.exitCode}`];
  if (check.stdoutContains !== undefined) wanted.push(`stdout contains ${JSON.stringify(check.stdoutContains)}`);
  const expected = wanted.join(', ');
  try {
    const result = await execCommand(check.command, [], { shell: true, timeoutMs: check.timeoutMs, env });
    if (result.timedOut) return { ok: false, expected, actual: `killed after ${formatMs(check.timeoutMs)} (timeout)` };
    const seen = [result.code === null ? `killed by ${result.signal}` : `exit ${result.code}`];
    let ok = result.code === check.exitCode;
    if (check.stdoutContains !== undefined && !result.stdout.includes(check.stdoutContains)) ok = false;
    if (!ok && result.stdout.trim()) seen.push(`stdout ${JSON.stringify(clip(result.stdout))}`);
    if (!ok && result.stderr.trim()) seen.push(`stderr ${JSON.stringify(clip(result.stderr))}`);
    return { ok, expected, actual: seen.join(', ') };
  } catch (error) {
    return { ok: false, expected, actual: `cannot run /bin/sh: ${(error as Error).message}` };
  }
}

async function runService(check: ServiceCheck, spec: ServiceConfig | undefined, env: NodeJS.ProcessEnv) {
  const expected = check.version ? `reachable, version ${check.version}` : 'reachable';
  if (!spec) return { ok: false, expected, actual: `no service ${JSON.stringify(check.service)} in watch.services` };
  // The service probes (and their client libraries) load only when a service check runs.
  const { observeService } = await import('../collectors/services/observe.js');
  const observation = await observeService(spec, { env });
  if (!observation.reachable)
    return { ok: false, expected, actual: `unreachable: ${observation.error ?? 'no answer'}` };
  const seen =
    observation.version === undefined ? 'reachable, no version reported' : `reachable, version ${observation.version}`;
  if (!check.version) return { ok: true, expected, actual: seen };
  const semver = loadSemver();
  const version = observation.version === undefined ? null : semver.coerce(observation.version);
  const ok = version !== null && semver.satisfies(version, check.version, { includePrerelease: true });
  return { ok, expected, actual: seen };
}

/** Runs one attempt of one check. */
export async function runCheckOnce(check: HealthCheck, options: RunChecksOptions = {}): Promise<Verdict> {
  const env = options.env ?? process.env;
  switch (check.kind) {
    case 'http':
      return runHttp(check);
    case 'tcp':
      return runTcp(check);
    case 'command':
      return runCommand(check, env);
    case 'service':
      return runService(check, options.services?.get(check.name), env);
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Runs the checks (in parallel), retrying the failing ones while the retry timeout lasts. */
export async function runHealthChecks(
  checks: readonly HealthCheck[],
  options: RunChecksOptions = {},
): Promise<HealthCheckResult[]> {
  const { retryTimeoutMs = 0, sleepMs = DEFAULT_CHECK_SLEEP_MS, progress, signal } = options;
  const deadline = performance.now() + retryTimeoutMs;
  const results = new Map<HealthCheck, HealthCheckResult>();
  let pending = [...checks];
  for (let attempt = 1; pending.length > 0; attempt++) {
    await Promise.all(
      pending.map(async (check) => {
        const started = performance.now();
        const verdict = await runCheckOnce(check, options);
        const durationMs = Math.round((performance.now() - started) * 10) / 10;
        results.set(check, { name: check.name, kind: check.kind, ...verdict, durationMs, attempts: attempt });
      }),
    );
    pending = pending.filter((check) => !results.get(check)?.ok);
    if (retryTimeoutMs <= 0 || signal?.aborted) break;
    const left = deadline - performance.now();
    const failing = pending.map((check) => `${check.name}: ${results.get(check)?.actual}`).join('; ');
    if (pending.length === 0) {
      if (attempt > 1) progress?.(`checks: attempt ${attempt}: all ${checks.length} passing\n`);
      break;
    }
    const head = `checks: attempt ${attempt}: ${pending.length} of ${checks.length} failing (${failing})`;
    if (left <= 0) {
      progress?.(`${head}; retry timeout ${formatMs(retryTimeoutMs)} reached\n`);
      break;
    }
    progress?.(`${head}; retrying in ${formatMs(Math.min(sleepMs, left))}, ${formatMs(left)} left\n`);
    await pause(Math.min(sleepMs, left), signal);
  }
  return checks.map((check) => results.get(check) as HealthCheckResult);
}

function durationFlag(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  // A bare number would be ambiguous on a flag (seconds? milliseconds?): the unit is required.
  const ms = /^\s*[\d.]+\s*$/.test(value) ? undefined : parseDuration(value);
  if (ms === undefined)
    throw new VerifyError(`${flag}: expected a duration such as 500ms, 2s, 1m, got ${JSON.stringify(value)}`);
  return ms;
}

function asVerifyError(cause: unknown): unknown {
  return cause instanceof CheckFileError ? new VerifyError(cause.message, { cause }) : cause;
}

/** `verify --checks FILE` (none: no checks); a bad file is a VerifyError (exit 2). */
export async function readExtraChecks(path: string | undefined): Promise<HealthCheck[]> {
  if (path === undefined) return [];
  return readChecksFile(path).catch((cause: unknown) => {
    throw asVerifyError(cause);
  });
}

/** The health checks of one verify run, under way. */
export interface VerifyChecks {
  results: Promise<HealthCheckResult[]>;
  /** Ends the retrying early (verify failed otherwise). */
  stop(): void;
}

/**
 * Starts verify's health checks with `--retry-timeout` and `--sleep`; no checks resolve at once.
 * Bad flags, duplicate names and service names the config lacks throw here, before anything runs.
 */
export function startVerifyChecks(
  checks: readonly HealthCheck[],
  config: AgentConfig,
  flags: { retryTimeout?: string; sleep?: string },
  { env, progress }: Pick<RunChecksOptions, 'env' | 'progress'>,
): VerifyChecks {
  const retryTimeoutMs = durationFlag('--retry-timeout', flags.retryTimeout, 0);
  const sleepMs = durationFlag('--sleep', flags.sleep, DEFAULT_CHECK_SLEEP_MS);
  let services: Map<string, ServiceConfig>;
  try {
    assertUniqueNames(checks);
    services = resolveCheckServices(checks, config.watch.services);
  } catch (cause) {
    throw asVerifyError(cause);
  }
  const abort = new AbortController();
  const options: RunChecksOptions = { retryTimeoutMs, sleepMs, services, signal: abort.signal };
  if (env) options.env = env;
  if (progress) options.progress = progress;
  const results = checks.length === 0 ? Promise.resolve([]) : runHealthChecks(checks, options);
  return { results, stop: () => abort.abort() };
}
