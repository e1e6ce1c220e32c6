/**
 * Observes one `watch.services` entry: reads its password (env var or file), runs the probe of its
 * type under the service's own timeout, and turns whatever happens (refused, timed out, bad
 * credentials) into an observation, never a thrown error: an unreachable server is a fact.
 * Shared by the service collector (facts) and `verify` health checks (`service` checks).
 */
import { readFile } from 'node:fs/promises';
import type { ServiceConfig } from '@envparity/shared';
import { probeHttp } from './http.js';
import { probeMysql } from './mysql.js';
import { probePostgres } from './postgres.js';
import { probeRedis } from './redis.js';
import { probeTcp } from './tcp.js';
import type { ServiceObservation, ServiceProbeContext } from './types.js';

/** A password file larger than this is not a password file. */
const MAX_PASSWORD_FILE_BYTES = 4096;

export interface TimedObservation extends ServiceObservation {
  /** Wall time of the whole probe, milliseconds. */
  latencyMs: number;
}

export interface ObserveOptions {
  /** The pass's own signal (the collector timeout); the service's timeout is added to it. */
  signal?: AbortSignal;
  /** Env vars to read `passwordEnv` from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

type Credentialed = Extract<ServiceConfig, { passwordEnv?: string }>;

/** The password a service names, or why it could not be read (the message never holds it). */
export async function readServicePassword(
  spec: ServiceConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ password?: string; error?: string }> {
  if (!('passwordEnv' in spec) && !('passwordFile' in spec)) return {};
  const credentialed = spec as Credentialed;
  if (credentialed.passwordEnv !== undefined) {
    const value = env[credentialed.passwordEnv];
    if (value === undefined) return { error: `env var ${credentialed.passwordEnv} (passwordEnv) is not set` };
    return { password: value };
  }
  if (credentialed.passwordFile !== undefined) {
    try {
      const bytes = await readFile(credentialed.passwordFile);
      if (bytes.length > MAX_PASSWORD_FILE_BYTES) {
        return { error: `passwordFile ${credentialed.passwordFile} is over ${MAX_PASSWORD_FILE_BYTES} bytes` };
      }
      // Files written by `echo secret > file` end with a newline that is not part of the password.
      return { password: bytes.toString('utf8').replace(/\r?\n$/, '') };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      return { error: `passwordFile ${credentialed.passwordFile} cannot be read (${code})` };
    }
  }
  return {};
}

function runProbe(spec: ServiceConfig, context: ServiceProbeContext): Promise<ServiceObservation> {
  switch (spec.type) {
    case 'postgres':
      return probePostgres(spec, context);
    case 'mysql':
      return probeMysql(spec, context);
    case 'redis':
      return probeRedis(spec, context);
    case 'http':
      return probeHttp(spec, context);
    case 'tcp':
      return probeTcp(spec, context);
  }
}

export async function observeService(spec: ServiceConfig, options: ObserveOptions = {}): Promise<TimedObservation> {
  const started = performance.now();
  const timeoutMs = Math.round(spec.timeout * 1000);
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const credentials = await readServicePassword(spec, options.env);
  const context: ServiceProbeContext = { signal, timeoutMs, password: credentials.password };
  // The probe may ignore the signal somewhere deep in a client library: the race makes the timeout hold.
  const timedOut = new Promise<ServiceObservation>((resolve) => {
    // The pass's own signal (the collector timeout, a shutdown) is not the server being slow.
    const onAbort = () =>
      resolve({
        reachable: false,
        facts: {},
        error: options.signal?.aborted ? 'cancelled: the pass ended first' : `no answer within ${spec.timeout} s`,
      });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  let observation: ServiceObservation;
  try {
    observation = await Promise.race([runProbe(spec, context), timedOut]);
  } catch (error) {
    observation = { reachable: false, facts: {}, error: error instanceof Error ? error.message : String(error) };
  }
  const latencyMs = Math.round((performance.now() - started) * 10) / 10;
  const errors = [credentials.error, observation.error].filter((line): line is string => Boolean(line));
  return { ...observation, ...(errors.length ? { error: errors.join('; ') } : {}), latencyMs };
}
