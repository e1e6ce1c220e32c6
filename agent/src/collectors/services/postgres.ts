/**
 * The `postgres` service probe: one `pg` Client (never a pool: one connection per pass is all a
 * probe needs), connected under the service's budget, reading catalogs only (postgres-catalog.ts,
 * postgres-migrations.ts), closed in `finally` and at once on abort. A connection that fails is an
 * observation (`reachable: false` and a plain error line), never a throw; a part that fails once
 * connected (say extensions) is named in `error` while the other parts are still reported.
 * The password goes to the server only: errors are scrubbed of it as a last guard.
 */
import type { FactMap, PostgresServiceConfig } from '@envparity/shared';
import type { Client, ClientConfig } from 'pg';
import { limitStatements, readExtensions, readSettings, readTables, readVersion } from './postgres-catalog.js';
import { readMigration } from './postgres-migrations.js';
import type { ServiceObservation, ServiceProbe, ServiceProbeContext } from './types.js';

/** Reported to the server (pg_stat_activity), so a DBA can tell who holds the connection. */
const APPLICATION_NAME = 'envparity-agent';
/** A password shorter than this is not scrubbed from messages: it would mangle ordinary words. */
const MIN_SCRUBBED_PASSWORD_LENGTH = 3;

class MissingPasswordError extends Error {
  override readonly name = 'MissingPasswordError';
  readonly code = 'MISSING_PASSWORD';
}

/** `127.0.0.1:5432`, or the socket file for a unix socket directory. */
const where = (spec: PostgresServiceConfig) =>
  spec.host.startsWith('/') ? `${spec.host}/.s.PGSQL.${spec.port}` : `${spec.host}:${spec.port}`;

/** What failed, in plain words: the server's own message when it sent one (it never holds the password). */
export function describeConnectError(error: unknown, spec: PostgresServiceConfig, timeoutMs: number): string {
  if (error instanceof MissingPasswordError) return error.message;
  const { code, message } = error as { code?: string; message?: string };
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused at ${where(spec)}`;
    case 'ENOENT':
      return `no server socket at ${where(spec)}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host name ${spec.host} does not resolve`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `cannot reach ${where(spec)} (${code})`;
    case 'ECONNRESET':
      return `connection reset by ${where(spec)}`;
  }
  if (message === 'timeout expired' || message === 'Connection terminated due to connection timeout') {
    return `no answer from ${where(spec)} within ${timeoutMs / 1000} s`;
  }
  if (message?.startsWith('Connection terminated')) return `${where(spec)} closed the connection: ${message}`;
  return message ?? String(error);
}

function scrub(text: string, password: string | undefined): string {
  if (!password || password.length < MIN_SCRUBBED_PASSWORD_LENGTH) return text;
  return text.split(password).join('***');
}

function clientConfig(spec: PostgresServiceConfig, context: ServiceProbeContext): ClientConfig {
  return {
    host: spec.host,
    port: spec.port,
    database: spec.database,
    user: spec.user,
    // A function, so that a server asking for a password we were not given gets a clear error
    // (instead of pg falling back to PGPASSWORD or ~/.pgpass behind the config's back).
    password: () => {
      if (context.password !== undefined) return context.password;
      throw new MissingPasswordError(
        `the server asks a password for user ${spec.user}: set passwordEnv or passwordFile for this service`,
      );
    },
    connectionTimeoutMillis: context.timeoutMs,
    query_timeout: context.timeoutMs,
    application_name: APPLICATION_NAME,
  };
}

/** The parts read once connected; each failure is kept as a line and the others still run. */
async function readFacts(
  client: Client,
  spec: PostgresServiceConfig,
  timeoutMs: number,
  errors: string[],
): Promise<FactMap> {
  const parts: Array<[string, () => Promise<FactMap>]> = [
    ['settings', () => readSettings(client, spec.settings)],
    ['statement timeout', () => limitStatements(client, timeoutMs).then(() => ({}))],
    ['extensions', () => readExtensions(client)],
    ['tables', () => readTables(client, spec.tables)],
  ];
  if (spec.migrationsTable !== undefined) {
    const table = spec.migrationsTable;
    parts.push(['migration', () => readMigration(client, table)]);
  }
  const facts: FactMap = {};
  for (const [part, read] of parts) {
    try {
      Object.assign(facts, await read());
    } catch (error) {
      errors.push(`${part}: ${error instanceof Error ? error.message : String(error)}`);
      if (part === 'migration') facts['migration.table'] = spec.migrationsTable ?? null;
    }
  }
  return facts;
}

export const probePostgres: ServiceProbe<PostgresServiceConfig> = async (spec, context) => {
  const { Client: PgClient } = await import('pg');
  const client = new PgClient(clientConfig(spec, context));
  // A server that goes away mid-probe emits 'error' on the client: unhandled, it would end the agent.
  client.on('error', () => {});
  // On abort the socket is destroyed, not closed politely: the server may be the thing that hangs.
  const onAbort = () => client.connection.stream.destroy();
  context.signal.addEventListener('abort', onAbort, { once: true });
  const errors: string[] = [];
  try {
    if (context.signal.aborted) return { reachable: false, facts: {}, error: 'aborted before connecting' };
    try {
      await client.connect();
    } catch (error) {
      return {
        reachable: false,
        facts: {},
        error: scrub(describeConnectError(error, spec, context.timeoutMs), context.password),
      };
    }
    const observation: ServiceObservation = { reachable: true, facts: {} };
    try {
      const { version, versionNum } = await readVersion(client);
      observation.version = version;
      observation.facts.versionNum = versionNum;
      Object.assign(observation.facts, await readFacts(client, spec, context.timeoutMs, errors));
    } catch (error) {
      errors.push(error instanceof Error ? error.message : String(error));
    }
    if (errors.length > 0) observation.error = scrub(errors.join('; '), context.password);
    return observation;
  } finally {
    context.signal.removeEventListener('abort', onAbort);
    await client.end().catch(() => {});
  }
};
