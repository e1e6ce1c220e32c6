/**
 * Exceptions (`exceptions`), held in memory too (the drift engine reads them on every pass), in
 * portable SQL (sql-port.ts): the same class on SQLite and PostgreSQL. Two sources: the API (`source` absent) and the exceptions file (`source: file:<path>`),
 * which is replaced as a whole on each load; ids cannot be shared between the two.
 */

import { randomUUID } from 'node:crypto';
import { compareStrings } from '@envparity/shared';
import { StoreError } from '../errors.js';
import type { ExceptionRecord, FileException, NewException } from './fact-store.js';
import type { SqlPort } from './sql-port.js';

interface ExceptionRow {
  id: string;
  path: string;
  environments: string;
  reason: string;
  impact: string | null;
  owner: string | null;
  expires_at: number | null;
  created_at: number;
  created_by: string | null;
  expired_at: number | null;
  source: string;
}

/** What makes two versions of an exception the same rule (ids and times aside). */
function exceptionContent(record: FileException | ExceptionRecord) {
  return [
    record.path,
    [...record.environments].sort(compareStrings),
    record.reason,
    record.impact ?? null,
    record.owner ?? null,
    record.expiresAt,
    record.createdBy ?? null,
  ];
}

function toException(row: ExceptionRow): ExceptionRecord {
  const record: ExceptionRecord = {
    id: row.id,
    path: row.path,
    environments: JSON.parse(row.environments) as string[],
    reason: row.reason,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    expiredAt: row.expired_at,
  };
  if (row.impact !== null) record.impact = row.impact;
  if (row.owner !== null) record.owner = row.owner;
  if (row.created_by !== null) record.createdBy = row.created_by;
  if (row.source !== 'api') record.source = row.source;
  return record;
}

const SQL = {
  insert: `INSERT INTO exceptions (id, path, environments, reason, impact, owner, expires_at, created_at, created_by)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  delete: 'DELETE FROM exceptions WHERE id = ?',
  upsertFile: `INSERT INTO exceptions (id, path, environments, reason, impact, owner, expires_at, created_at, created_by, expired_at, source)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET path = excluded.path, environments = excluded.environments,
       reason = excluded.reason, impact = excluded.impact, owner = excluded.owner, expires_at = excluded.expires_at,
       created_at = excluded.created_at, created_by = excluded.created_by, expired_at = excluded.expired_at,
       source = excluded.source`,
  markExpired: 'UPDATE exceptions SET expired_at = ? WHERE id = ? AND expired_at IS NULL',
} as const;

/** The columns `id` to `created_by`, in the order of SQL.insert. */
function ruleColumns(record: ExceptionRecord): unknown[] {
  return [
    record.id,
    record.path,
    JSON.stringify(record.environments),
    record.reason,
    record.impact ?? null,
    record.owner ?? null,
    record.expiresAt,
    record.createdAt,
    record.createdBy ?? null,
  ];
}

/** Exceptions of one backend; held to repositories.conformance.test.ts. */
export interface ExceptionRepository {
  /** Every exception, expired ones included, by creation. */
  list(): ExceptionRecord[];
  create(input: NewException): ExceptionRecord;
  /** False when no exception has this id. */
  delete(id: string): boolean;
  replaceFileExceptions(source: string, exceptions: readonly FileException[]): string[];
  /** Records that the expiry was noticed (once). */
  markExpired(id: string, at: number): void;
  /**
   * The SQL half of `markExpired`, for a caller's transaction; returns the memory half, to run once
   * that transaction committed (a rolled-back one must leave the record as it was).
   */
  stageExpired(id: string, at: number): () => void;
  /** Reads every exception again (another aggregator on the same database wrote some). */
  reload(): void;
}

export class SqlExceptionRepository implements ExceptionRepository {
  private readonly records = new Map<string, ExceptionRecord>();

  constructor(private readonly sql: SqlPort) {
    this.reload();
  }

  reload(): void {
    this.records.clear();
    // By creation, then id by code unit (sorted here: the databases' text collations differ).
    const rows = this.sql
      .all<ExceptionRow>('SELECT * FROM exceptions')
      .sort((a, b) => a.created_at - b.created_at || compareStrings(a.id, b.id));
    for (const row of rows) this.records.set(row.id, toException(row));
  }

  list(): ExceptionRecord[] {
    return [...this.records.values()];
  }

  create(input: NewException): ExceptionRecord {
    const record: ExceptionRecord = {
      ...input,
      environments: [...input.environments],
      id: randomUUID(),
      expiredAt: null,
    };
    this.sql.run(SQL.insert, ruleColumns(record));
    this.records.set(record.id, record);
    return record;
  }

  delete(id: string): boolean {
    const deleted = this.sql.run(SQL.delete, [id]) > 0;
    this.records.delete(id);
    return deleted;
  }

  /**
   * Replaces every exception of `source` (a file) with `exceptions` in one transaction; one whose id
   * and content are unchanged keeps its `createdAt` and `expiredAt`. Returns the environments touched.
   */
  replaceFileExceptions(source: string, exceptions: readonly FileException[]): string[] {
    const affected = new Set<string>();
    const next = new Map<string, ExceptionRecord>();
    for (const input of exceptions) {
      const existing = this.records.get(input.id);
      if (existing && existing.source === undefined) {
        throw new StoreError('STORE_FAILED', `exception id ${input.id} is already used by an API-created exception`);
      }
      const same =
        existing !== undefined &&
        existing.source === source &&
        JSON.stringify(exceptionContent(existing)) === JSON.stringify(exceptionContent(input));
      const record: ExceptionRecord = {
        ...input,
        environments: [...input.environments],
        createdAt: same ? existing.createdAt : input.createdAt,
        expiredAt: same ? existing.expiredAt : null,
        source,
      };
      if (!same) for (const name of [...record.environments, ...(existing?.environments ?? [])]) affected.add(name);
      next.set(record.id, record);
    }
    const removed = [...this.records.values()].filter((record) => record.source !== undefined && !next.has(record.id));
    for (const record of removed) for (const name of record.environments) affected.add(name);
    try {
      this.sql.transaction(() => {
        for (const record of removed) this.sql.run(SQL.delete, [record.id]);
        for (const record of next.values()) {
          this.sql.run(SQL.upsertFile, [...ruleColumns(record), record.expiredAt, source]);
        }
      });
    } catch (cause) {
      throw new StoreError('STORE_FAILED', `cannot store the file exceptions: ${(cause as Error).message}`, { cause });
    }
    for (const record of removed) this.records.delete(record.id);
    for (const record of next.values()) this.records.set(record.id, record);
    return [...affected].sort(compareStrings);
  }

  markExpired(id: string, at: number): void {
    this.stageExpired(id, at)();
  }

  stageExpired(id: string, at: number): () => void {
    this.sql.run(SQL.markExpired, [at, id]);
    return () => {
      const record = this.records.get(id);
      if (record && record.expiredAt === null) this.records.set(id, { ...record, expiredAt: at });
    };
  }
}
