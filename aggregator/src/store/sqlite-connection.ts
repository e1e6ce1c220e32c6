/**
 * Opens the store's SQLite connection: a new file starts private, WAL journal, the chosen
 * `synchronous`, a busy timeout for other connections (backups), foreign keys on, the quick check
 * at open (store-integrity.ts) and the migrations.
 */
import { closeSync, existsSync, openSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import { migrate } from './migrations.js';
import type { StoreSynchronous } from './sqlite-store-options.js';
import { assertQuickCheck } from './store-integrity.js';

export interface ConnectionOptions {
  path: string;
  synchronous: StoreSynchronous;
  busyTimeoutMs: number;
  quickCheckOnOpen: boolean;
}

export function isMemoryPath(path: string): boolean {
  return path === ':memory:' || path === '';
}

export function openConnection({
  path,
  synchronous,
  busyTimeoutMs,
  quickCheckOnOpen,
}: ConnectionOptions): Database.Database {
  let db: Database.Database | undefined;
  try {
    // A new database file starts private (facts, token hashes); SQLite gives -wal/-shm the same mode.
    if (!isMemoryPath(path) && !existsSync(path)) closeSync(openSync(path, 'a', 0o600));
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    db.pragma('foreign_keys = ON');
    if (quickCheckOnOpen) assertQuickCheck(db, path);
    migrate(db);
    return db;
  } catch (cause) {
    db?.close();
    if (cause instanceof StoreError) throw cause;
    throw new StoreError('STORE_FAILED', `cannot open the database ${path}: ${(cause as Error).message}`, { cause });
  }
}

/** Bytes the database takes: its file and write-ahead log (pages in use for `:memory:`). */
export function databaseSizeBytes(db: Database.Database, path: string): number {
  if (isMemoryPath(path)) {
    const pages = db.pragma('page_count', { simple: true }) as number;
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    return pages * pageSize;
  }
  let total = 0;
  for (const file of [path, `${path}-wal`]) {
    try {
      total += statSync(file).size;
    } catch {
      // no WAL yet
    }
  }
  return total;
}
