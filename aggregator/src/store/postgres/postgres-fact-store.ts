/**
 * The fact store on PostgreSQL: the PostgreSQL repositories on one bridge (pg-bridge.ts) under the
 * common composition (../repository-fact-store.ts). The schema is migrated at open under an
 * advisory lock (pg-migrations.ts), so several aggregators may open one database at once.
 *
 * What the SQLite store keeps beside its file (the host-count sidecar, the clean-shutdown record,
 * `quick_check`) has no meaning here: the database outlives any one aggregator, and PostgreSQL
 * checks its own pages.
 */
import { StoreError } from '../../errors.js';
import { RepositoryFactStore } from '../repository-fact-store.js';
import { PgSqlPort } from '../sql-port.js';
import type { StoreBackend } from '../store-backend.js';
import type { FactStoreOptions } from '../store-options.js';
import { PgBridge, type PgConnectionOptions } from './pg-bridge.js';
import { migratePostgres, PG_MIGRATIONS, pgSchemaVersion } from './pg-migrations.js';
import { openPgRepositories } from './pg-repositories.js';

export interface PostgresFactStoreOptions extends FactStoreOptions {
  /** An open bridge (the aggregator reads the declared classes through it before the store loads). */
  bridge: PgBridge;
}

/**
 * Held by the aggregator that uses the database, for as long as its connection lives. Each
 * aggregator keeps the fleet in memory and does not yet learn of another's writes, so a second one
 * on the same database is refused at start rather than let the two overwrite each other.
 */
export const SINGLE_AGGREGATOR_LOCK_KEY = 0x656e7671;

/** Opens a bridge, migrates the schema and takes the database: the first step of opening a PostgreSQL store. */
export function openPostgresBridge(options: PgConnectionOptions): PgBridge {
  const bridge = new PgBridge(options);
  try {
    migratePostgres(bridge);
    const taken = bridge.get<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
      SINGLE_AGGREGATOR_LOCK_KEY,
    ]);
    if (!taken?.locked) {
      throw new StoreError(
        'STORE_FAILED',
        `another aggregator is using the PostgreSQL database at ${bridge.description}: several aggregators on one database are not supported yet`,
      );
    }
    return bridge;
  } catch (error) {
    bridge.close();
    throw error;
  }
}

export function postgresBackend(bridge: PgBridge): StoreBackend {
  return {
    kind: 'postgres',
    location: bridge.description,
    sql: new PgSqlPort(bridge),
    repositories: openPgRepositories(bridge),
    sizeBytes: () =>
      bridge.get<{ bytes: number }>('SELECT pg_database_size(current_database())::bigint AS bytes')?.bytes ?? 0,
    integrityCheck: () => {
      const version = pgSchemaVersion(bridge);
      return version === PG_MIGRATIONS.length ? 'ok' : `schema version ${version}, expected ${PG_MIGRATIONS.length}`;
    },
    close: () => bridge.close(),
  };
}

export class PostgresFactStore extends RepositoryFactStore {
  readonly bridge: PgBridge;

  constructor({ bridge, ...options }: PostgresFactStoreOptions) {
    super(postgresBackend(bridge), options);
    this.bridge = bridge;
  }
}
