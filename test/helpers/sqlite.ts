/**
 * Store checks from the outside: the aggregator's own better-sqlite3 (loaded through the aggregator
 * package, so the test workspace needs no dependency of its own) opens the database file after the
 * process has stopped.
 */
import { copyFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { makeTempDir, REPO_ROOT } from './processes.js';

const requireFromAggregator = createRequire(join(REPO_ROOT, 'aggregator/package.json'));
const Database = requireFromAggregator('better-sqlite3') as typeof BetterSqlite3;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * `PRAGMA integrity_check` rows (`['ok']` when sound). `copy: true` checks a copy of the database
 * and its WAL: for a store left behind by SIGKILL, whose WAL a read-only open could not recover
 * without writing next to the original. Otherwise the file is opened read-only in place.
 */
export async function integrityCheck(dbPath: string, { copy = false }: { copy?: boolean } = {}): Promise<string[]> {
  let path = dbPath;
  if (copy) {
    const dir = await makeTempDir('envparity-e2e-db-copy-');
    path = join(dir, basename(dbPath));
    await copyFile(dbPath, path);
    if (await exists(`${dbPath}-wal`)) await copyFile(`${dbPath}-wal`, `${path}-wal`);
  }
  const db = new Database(path, { readonly: !copy, fileMustExist: true });
  try {
    return (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((row) => row.integrity_check);
  } finally {
    db.close();
  }
}

/** Rows of a read-only query on a stopped aggregator's database. */
export function queryStore<T = Record<string, unknown>>(dbPath: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}
