/**
 * Probe classes agents declared (`declared_classes`): the first accepted declaration of each glob,
 * with the host that made it. Read once at start, before the fleet state is loaded, so a restart
 * classifies every stored path exactly as before (aggregator/src/classes/class-registry.ts).
 */
import { existsSync } from 'node:fs';
import type { DeclarableClass } from '@envparity/shared';
import Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import { isMemoryPath } from './sqlite-connection.js';

/** One accepted declaration. */
export interface DeclaredClassRecord {
  glob: string;
  class: DeclarableClass;
  /** The host whose hello declared it first. */
  hostId: string;
  at: number;
}

export interface DeclaredClassRow {
  glob: string;
  class: DeclarableClass;
  host_id: string;
  at: number;
}

export const SELECT_DECLARED_CLASSES = 'SELECT glob, class, host_id, at FROM declared_classes ORDER BY at, glob';

export function toDeclaredClassRecord(row: DeclaredClassRow): DeclaredClassRecord {
  return { glob: row.glob, class: row.class, hostId: row.host_id, at: row.at };
}

/** Declared classes of one backend; the conformance suite (repositories.conformance.test.ts) holds any implementation to it. */
export interface DeclaredClassRepository {
  /** Every accepted declaration, oldest first (the order the classifier tries them in). */
  list(): DeclaredClassRecord[];
  /** Stores a declaration; false (and nothing changes) when its glob is already stored. */
  add(record: DeclaredClassRecord): boolean;
}

export class SqliteDeclaredClassRepository implements DeclaredClassRepository {
  private readonly insert: Database.Statement;
  private readonly selectAll: Database.Statement;

  constructor(db: Database.Database) {
    this.insert = db.prepare(
      'INSERT INTO declared_classes (glob, class, host_id, at) VALUES (@glob, @class, @hostId, @at) ON CONFLICT (glob) DO NOTHING',
    );
    this.selectAll = db.prepare(SELECT_DECLARED_CLASSES);
  }

  list(): DeclaredClassRecord[] {
    return (this.selectAll.all() as DeclaredClassRow[]).map(toDeclaredClassRecord);
  }

  add(record: DeclaredClassRecord): boolean {
    return this.insert.run(record).changes === 1;
  }
}

/**
 * The declarations stored in the SQLite file at `path`, read before the store opens it (the store
 * loads its fleet state through the classifier, which must know them already). Nothing for
 * `:memory:`, a file that does not exist yet, or a database older than the table (migration 10).
 */
export function readDeclaredClasses(path: string): DeclaredClassRecord[] {
  if (isMemoryPath(path) || !existsSync(path)) return [];
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { fileMustExist: true });
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'declared_classes'").get();
    return table === undefined
      ? []
      : (db.prepare(SELECT_DECLARED_CLASSES).all() as DeclaredClassRow[]).map(toDeclaredClassRecord);
  } catch (cause) {
    throw new StoreError('STORE_FAILED', `cannot read the declared classes of ${path}: ${(cause as Error).message}`, {
      cause,
    });
  } finally {
    db?.close();
  }
}
