/**
 * One throwaway PostgreSQL cluster per test file and a fresh database per test: `CREATE DATABASE`
 * takes tens of milliseconds where a cluster takes seconds. Without PostgreSQL installed the
 * tests that need it are skipped, except in CI (ENVPARITY_REQUIRE_SERVERS=1), where that fails.
 */
import { type PostgresServer, postgresSupport, startPostgres } from './postgres-server.js';

export interface PostgresDatabases {
  readonly server: PostgresServer;
  /** A new empty database; its connection string (the superuser, trusted on 127.0.0.1). */
  create(): Promise<string>;
  stop(): Promise<void>;
}

/** Why PostgreSQL tests cannot run here, or undefined when they can. */
export function postgresUnavailable(): string | undefined {
  const support = postgresSupport();
  return support.ok ? undefined : support.reason;
}

export async function startPostgresDatabases(): Promise<PostgresDatabases> {
  const server = await startPostgres({ settings: { fsync: 'off', max_connections: 200 } });
  let count = 0;
  return {
    server,
    async create() {
      const name = `envparity_test_${++count}`;
      await server.query(`CREATE DATABASE ${name}`);
      return `postgres://${server.superuser}@${server.host}:${server.port}/${name}`;
    },
    stop: () => server.stop(),
  };
}
