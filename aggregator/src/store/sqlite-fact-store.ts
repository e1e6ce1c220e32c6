/**
 * The fact store on better-sqlite3 (one file, WAL): the SQLite backend (its repositories on one
 * connection) under the common composition (repository-fact-store.ts), plus what only a local
 * file has: `PRAGMA quick_check` at open, the host-count sidecar beside the file and the
 * clean-shutdown record (store-integrity.ts).
 */
import type Database from 'better-sqlite3';
import { SqliteApiTokenRepository } from './api-token-repository.js';
import { SqliteAuditRepository } from './audit-repository.js';
import { SqliteChangeHistoryRepository } from './change-history-repository.js';
import { SqliteDeclaredClassRepository } from './declared-class-repository.js';
import { SqliteDriftEventRepository } from './drift-event-repository.js';
import { SqlExceptionRepository } from './exception-repository.js';
import { SqliteHostFactsRepository } from './host-facts-repository.js';
import { RepositoryFactStore } from './repository-fact-store.js';
import { SqliteSqlPort } from './sql-port.js';
import { databaseSizeBytes, isMemoryPath, openConnection } from './sqlite-connection.js';
import {
  DEFAULT_BUSY_TIMEOUT_MS,
  DEFAULT_STORE_SYNCHRONOUS,
  type SqliteFactStoreOptions,
} from './sqlite-store-options.js';
import type { StoreBackend } from './store-backend.js';
import {
  CLEAN_SHUTDOWN_KEY,
  checkHostCount,
  HostCountTracker,
  hostCountFileOf,
  readHostCountFile,
  writeStoreMeta,
} from './store-integrity.js';

export * from './sqlite-store-options.js';

/** Opens (creating and migrating as needed) a SQLite fact store and loads its cache. */
export function openSqliteFactStore(options: SqliteFactStoreOptions = {}): SqliteFactStore {
  return new SqliteFactStore(options);
}

/** The repositories on one better-sqlite3 connection. */
export function sqliteBackend(db: Database.Database, path: string): StoreBackend {
  const sql = new SqliteSqlPort(db);
  return {
    kind: 'sqlite',
    location: path,
    sql,
    repositories: {
      hostFacts: new SqliteHostFactsRepository(db),
      changes: new SqliteChangeHistoryRepository(db),
      driftEvents: new SqliteDriftEventRepository(db),
      exceptions: new SqlExceptionRepository(sql),
      apiTokens: new SqliteApiTokenRepository(db),
      audits: new SqliteAuditRepository(db),
      declaredClasses: new SqliteDeclaredClassRepository(db),
    },
    sizeBytes: () => databaseSizeBytes(db, path),
    integrityCheck: () =>
      (db.pragma('integrity_check') as { integrity_check: string }[]).map((row) => row.integrity_check).join('; '),
    close: (shutdown) => {
      if (!db.open) return;
      let failed: unknown;
      // The host count of a clean shutdown: the next open compares with it (store-integrity.ts).
      if (shutdown) {
        try {
          writeStoreMeta(db, CLEAN_SHUTDOWN_KEY, { hosts: shutdown.hostCount, at: Date.now(), clean: true });
        } catch (error) {
          failed = error;
        }
      }
      db.close();
      if (failed !== undefined) throw failed;
    },
  };
}

export class SqliteFactStore extends RepositoryFactStore {
  /** The underlying connection; exposed for tests and operational tooling, not for the app. */
  readonly db: Database.Database;
  readonly path: string;
  private readonly hostCount: HostCountTracker | undefined;

  constructor(options: SqliteFactStoreOptions = {}) {
    const {
      path = ':memory:',
      synchronous = DEFAULT_STORE_SYNCHRONOUS,
      busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS,
      quickCheckOnOpen = true,
      hostCountFile,
    } = options;
    const db = openConnection({ path, synchronous, busyTimeoutMs, quickCheckOnOpen });
    super(sqliteBackend(db, path), options);
    this.db = db;
    this.path = path;
    const sidecar = hostCountFile === undefined ? (isMemoryPath(path) ? null : hostCountFileOf(path)) : hostCountFile;
    const previous = sidecar === null ? undefined : readHostCountFile(sidecar);
    this.openReport = checkHostCount(db, this.fleet.hostCount, previous, quickCheckOnOpen ? 'ok' : 'skipped');
    if (sidecar !== null) {
      this.hostCount = new HostCountTracker(
        sidecar,
        () => this.fleet.hostCount,
        Date.now,
        (error) => options.onListenerError?.(error),
      );
      this.hostCount.start();
    }
  }

  override async close(): Promise<void> {
    await super.close();
    this.hostCount?.stop(true);
  }
}
