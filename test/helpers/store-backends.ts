/**
 * The fact store's two backends for tests that must hold on both: a SQLite file (or `:memory:`)
 * and a PostgreSQL database on one throwaway cluster per test file (skipped without PostgreSQL
 * installed, except in CI, where that fails: postgres-databases.ts). Register the hooks once per
 * file with `useStoreBackends()`, then `describe.each(backends)`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { PgBridge } from '../../aggregator/src/store/postgres/pg-bridge.js';
import { openPostgresBridge, PostgresFactStore } from '../../aggregator/src/store/postgres/postgres-fact-store.js';
import type { RepositoryFactStore } from '../../aggregator/src/store/repository-fact-store.js';
import { openSqliteFactStore, type SqliteFactStore } from '../../aggregator/src/store/sqlite-fact-store.js';
import type { FactStoreOptions } from '../../aggregator/src/store/store-options.js';
import { type PostgresDatabases, postgresUnavailable, startPostgresDatabases } from './postgres-databases.js';

export interface StoreBackend {
  readonly name: 'sqlite' | 'postgres';
  /** A new empty place for a store: a SQLite file, or a PostgreSQL database's URL. */
  newLocation(): string;
  /** Opens a store there (a fresh one of its own when none is given); closed after each test. */
  open(location?: string, options?: FactStoreOptions): RepositoryFactStore;
  /** Makes every audit-log insert fail, as a full disk would; returns how to undo it. */
  failAuditInserts(store: RepositoryFactStore): () => void;
}

export interface PostgresCluster {
  /** Whether PostgreSQL runs for this file (false: not installed here; CI fails instead). */
  readonly available: boolean;
  /** A new empty database on the file's cluster (created synchronously); its connection string. */
  createDatabase(prefix: string): string;
}

/** One throwaway cluster for the test file (started in beforeAll, removed in afterAll), when PostgreSQL is installed. */
export function usePostgresCluster(): PostgresCluster {
  let postgres: { databases: PostgresDatabases; admin: PgBridge; count: number } | undefined;
  const noPostgres = postgresUnavailable();
  beforeAll(async () => {
    if (noPostgres !== undefined) return;
    const databases = await startPostgresDatabases();
    const { server } = databases;
    const admin = new PgBridge({
      connectionString: `postgres://${server.superuser}@${server.host}:${server.port}/postgres`,
    });
    postgres = { databases, admin, count: 0 };
  });
  afterAll(async () => {
    postgres?.admin.close();
    await postgres?.databases.stop();
  });
  return {
    available: noPostgres === undefined,
    createDatabase(prefix) {
      if (!postgres) throw new Error('PostgreSQL did not start');
      const name = `${prefix}_${++postgres.count}`;
      postgres.admin.exec(`CREATE DATABASE ${name}`);
      const { server } = postgres.databases;
      return `postgres://${server.superuser}@${server.host}:${server.port}/${name}`;
    },
  };
}

/** Registers the hooks (cluster start, store closing) and returns `[name, backend]` pairs for describe.each. */
export function useStoreBackends(): [string, StoreBackend][] {
  const stores: RepositoryFactStore[] = [];
  const dirs: string[] = [];
  const cluster = usePostgresCluster();

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const sqlite: StoreBackend = {
    name: 'sqlite',
    newLocation() {
      const dir = mkdtempSync(join(tmpdir(), 'envparity-store-'));
      dirs.push(dir);
      return join(dir, 'envparity.db');
    },
    open(location = ':memory:', options = {}) {
      const store = openSqliteFactStore({ path: location, flushIntervalMs: 1, ...options });
      stores.push(store);
      return store;
    },
    failAuditInserts(store) {
      const { db } = store as SqliteFactStore;
      db.exec("CREATE TRIGGER no_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END");
      return () => db.exec('DROP TRIGGER no_audit');
    },
  };

  const postgresBackend: StoreBackend = {
    name: 'postgres',
    newLocation: () => cluster.createDatabase('envparity_store'),
    open(location = postgresBackend.newLocation(), options = {}) {
      const store = new PostgresFactStore({
        bridge: openPostgresBridge({ connectionString: location }),
        flushIntervalMs: 1,
        ...options,
      });
      stores.push(store);
      return store;
    },
    failAuditInserts(store) {
      const { bridge } = store as PostgresFactStore;
      bridge.exec(`CREATE FUNCTION no_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$;
        CREATE TRIGGER no_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION no_audit()`);
      return () => bridge.exec('DROP TRIGGER no_audit ON audit_log; DROP FUNCTION no_audit()');
    },
  };

  return cluster.available
    ? [
        ['sqlite', sqlite],
        ['postgres', postgresBackend],
      ]
    : [['sqlite', sqlite]];
}
