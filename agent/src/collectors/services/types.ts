/**
 * What one service probe (postgres.ts, mysql.ts, redis.ts, http.ts, tcp.ts) gets and gives back.
 * A probe connects, reads what it can and returns facts relative to `service.<name>`; the
 * dispatcher (observe.ts) adds the name, reachability, latency and the error line.
 */
import type { FactMap } from '@envparity/shared';

export interface ServiceProbeContext {
  /** Aborted when the service's `timeout` fires or the pass is cancelled: close sockets on it. */
  readonly signal: AbortSignal;
  /** The service's whole budget (connect + queries), milliseconds. */
  readonly timeoutMs: number;
  /** From `passwordEnv` or `passwordFile`; used for the connection only, never reported or logged. */
  readonly password: string | undefined;
}

export interface ServiceObservation {
  /** The server answered its protocol (a TCP connect alone for `tcp`). */
  reachable: boolean;
  /** The server's version as it reports it (postgres `server_version`, the MySQL greeting, redis_version...). */
  version?: string;
  /**
   * Facts relative to `service.<name>`, keys built with shared `formatPath` (e.g. `settings.work_mem`,
   * `tables["public.users"].rows`); the dispatcher prefixes them.
   */
  facts: FactMap;
  /** Why the server was unreachable, or which part could not be read; never contains the password. */
  error?: string;
}

export type ServiceProbe<Spec> = (spec: Spec, context: ServiceProbeContext) => Promise<ServiceObservation>;
