/**
 * The change history in SQLite: per-path `changes` after each host's initial state, stamped with
 * the agent's observation time and the host's environment at that time (so "had this environment
 * ever had this value" needs no replay). Folding old changes into the initial state is
 * history-compaction.ts's job.
 */
import type { FactValue } from '@envparity/shared';
import type Database from 'better-sqlite3';
import type { ChangeQuery, EnvironmentChangeQuery, FactChange } from './fact-store.js';
import { valueColumn } from './value-columns.js';

/** The change history of one backend; the conformance suite holds any implementation to it. */
export interface ChangeHistoryRepository {
  /** Records a change of a host that is in `environment` now. */
  record(change: FactChange, environment: string | null): void;
  /** A host's changes observed at or after `since`, oldest first, at most `limit`. */
  list(hostId: string, query: ChangeQuery): FactChange[];
  /** Changes recorded while their host was in `environment`, in the query's window and order. */
  listByEnvironment(environment: string, query: EnvironmentChangeQuery): FactChange[];
  /** Whether some host of `environment` ever changed `path` to this value (initial states not included). */
  changedTo(environment: string, path: string, value: FactValue): boolean;
  /** Flags a recorded change as an emergency change (the drift engine's finding). */
  markEmergency(hostId: string, seq: number, path: string): void;
}

export interface ChangeRow {
  host_id: string;
  seq: number;
  at: number;
  path: string;
  from_value: string | null;
  to_value: string | null;
  emergency: number;
}

export function changeOf(row: ChangeRow): FactChange {
  const change: FactChange = { hostId: row.host_id, seq: row.seq, at: row.at, path: row.path };
  if (row.from_value !== null) change.from = JSON.parse(row.from_value) as FactValue;
  if (row.to_value !== null) change.to = JSON.parse(row.to_value) as FactValue;
  if (row.emergency) change.emergency = true;
  return change;
}

function prepare(db: Database.Database) {
  return {
    insert: db.prepare(
      'INSERT INTO changes (host_id, seq, at, path, from_value, to_value, environment) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    list: db.prepare(
      'SELECT host_id, seq, at, path, from_value, to_value, emergency FROM changes WHERE host_id = ? AND at >= ? AND at <= ? ORDER BY at, id LIMIT ? OFFSET ?',
    ),
    listNewest: db.prepare(
      'SELECT host_id, seq, at, path, from_value, to_value, emergency FROM changes WHERE host_id = ? AND at >= ? AND at <= ? ORDER BY at DESC, id DESC LIMIT ? OFFSET ?',
    ),
    listEnvironment: db.prepare(
      'SELECT host_id, seq, at, path, from_value, to_value, emergency FROM changes WHERE environment = ? AND at >= ? AND at <= ? ORDER BY at, id LIMIT ? OFFSET ?',
    ),
    listEnvironmentNewest: db.prepare(
      'SELECT host_id, seq, at, path, from_value, to_value, emergency FROM changes WHERE environment = ? AND at >= ? AND at <= ? ORDER BY at DESC, id DESC LIMIT ? OFFSET ?',
    ),
    // Of some paths: the (environment, path, to_value) index finds each path's rows, then they are sorted.
    listEnvironmentPaths: db.prepare(
      'SELECT host_id, seq, at, path, from_value, to_value, emergency FROM changes INDEXED BY changes_environment_path_value WHERE environment = ? AND path IN (SELECT value FROM json_each(?)) AND at >= ? AND at <= ? ORDER BY at, id LIMIT ? OFFSET ?',
    ),
    listEnvironmentPathsNewest: db.prepare(
      'SELECT host_id, seq, at, path, from_value, to_value, emergency FROM changes INDEXED BY changes_environment_path_value WHERE environment = ? AND path IN (SELECT value FROM json_each(?)) AND at >= ? AND at <= ? ORDER BY at DESC, id DESC LIMIT ? OFFSET ?',
    ),
    changedTo: db.prepare('SELECT 1 FROM changes WHERE environment = ? AND path = ? AND to_value = ? LIMIT 1'),
    markEmergency: db.prepare('UPDATE changes SET emergency = 1 WHERE host_id = ? AND seq = ? AND path = ?'),
  };
}

export class SqliteChangeHistoryRepository implements ChangeHistoryRepository {
  private readonly stmt: ReturnType<typeof prepare>;

  constructor(db: Database.Database) {
    this.stmt = prepare(db);
  }

  record(change: FactChange, environment: string | null): void {
    this.stmt.insert.run(
      change.hostId,
      change.seq,
      change.at,
      change.path,
      valueColumn(change.from),
      valueColumn(change.to),
      environment,
    );
  }

  list(hostId: string, { since, until, order = 'oldest', offset = 0, limit }: ChangeQuery): FactChange[] {
    const statement = order === 'newest' ? this.stmt.listNewest : this.stmt.list;
    const from = since ?? Number.MIN_SAFE_INTEGER;
    const to = until ?? Number.MAX_SAFE_INTEGER;
    return (statement.all(hostId, from, to, limit, offset) as ChangeRow[]).map(changeOf);
  }

  listByEnvironment(
    environment: string,
    { since, until, order = 'oldest', offset = 0, limit, paths }: EnvironmentChangeQuery,
  ): FactChange[] {
    const from = since ?? Number.MIN_SAFE_INTEGER;
    const to = until ?? Number.MAX_SAFE_INTEGER;
    if (paths !== undefined) {
      if (paths.length === 0) return [];
      const statement = order === 'newest' ? this.stmt.listEnvironmentPathsNewest : this.stmt.listEnvironmentPaths;
      return (statement.all(environment, JSON.stringify(paths), from, to, limit, offset) as ChangeRow[]).map(changeOf);
    }
    const statement = order === 'newest' ? this.stmt.listEnvironmentNewest : this.stmt.listEnvironment;
    return (statement.all(environment, from, to, limit, offset) as ChangeRow[]).map(changeOf);
  }

  changedTo(environment: string, path: string, value: FactValue): boolean {
    return this.stmt.changedTo.get(environment, path, JSON.stringify(value)) !== undefined;
  }

  markEmergency(hostId: string, seq: number, path: string): void {
    this.stmt.markEmergency.run(hostId, seq, path);
  }
}
