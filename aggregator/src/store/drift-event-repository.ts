/**
 * Drift events in SQLite (`drift_events`): the rows the drift engine opens, updates and resolves in
 * one transaction per write, and the newest-first queries of `GET /api/v1/drift`. Values are JSON
 * in nullable columns (value-columns.ts); rows become StoredDriftEvent here and nowhere else.
 */
import type { FactValue } from '@envparity/shared';
import type Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import type { DriftEventQuery, DriftResolution, DriftWrite, NewDriftEvent, StoredDriftEvent } from './fact-store.js';
import { valueColumn } from './value-columns.js';

export interface DriftEventRow {
  id: number;
  key: string;
  kind: StoredDriftEvent['kind'];
  environment: string;
  other_environment: string | null;
  host_id: string | null;
  path: string;
  expected: string | null;
  actual: string | null;
  status: StoredDriftEvent['status'];
  opened_at: number;
  resolved_at: number | null;
  upstream: string | null;
  seq: number | null;
  hosts: string | null;
  host_count: number | null;
  emergency: number;
  resolution: string | null;
  exception: string | null;
}

export function toDriftEvent(row: DriftEventRow): StoredDriftEvent {
  const event: StoredDriftEvent = {
    id: String(row.id),
    key: row.key,
    kind: row.kind,
    environment: row.environment,
    path: row.path,
    status: row.status,
    openedAt: row.opened_at,
    resolvedAt: row.resolved_at,
  };
  if (row.other_environment !== null) event.otherEnvironment = row.other_environment;
  if (row.host_id !== null) event.hostId = row.host_id;
  if (row.expected !== null) event.expected = JSON.parse(row.expected) as FactValue;
  if (row.actual !== null) event.actual = JSON.parse(row.actual) as FactValue;
  if (row.upstream !== null) event.upstream = row.upstream;
  if (row.seq !== null) event.seq = row.seq;
  if (row.hosts !== null) event.hosts = JSON.parse(row.hosts) as string[];
  if (row.host_count !== null) event.hostCount = row.host_count;
  if (row.emergency) event.emergency = true;
  // The column holds only what DriftWrite.resolve wrote: a DriftResolution.
  if (row.resolution !== null) event.resolution = row.resolution as DriftResolution;
  if (row.exception !== null) event.exception = JSON.parse(row.exception) as { id: string; reason: string };
  return event;
}

function prepare(db: Database.Database) {
  return {
    insertDriftEvent: db.prepare(
      `INSERT INTO drift_events (key, kind, environment, other_environment, host_id, path, expected, actual, status,
         opened_at, upstream, seq, hosts, host_count, emergency)
       VALUES (@key, @kind, @environment, @otherEnvironment, @hostId, @path, @expected, @actual, 'open',
         @openedAt, @upstream, @seq, @hosts, @hostCount, @emergency)`,
    ),
    resolveDriftEvent: db.prepare(
      "UPDATE drift_events SET status = 'resolved', resolved_at = ?, resolution = ?, exception = ? WHERE id = ? AND status = 'open'",
    ),
    updateDriftEvent: db.prepare(
      `UPDATE drift_events SET expected = @expected, actual = @actual, hosts = @hosts, host_count = @hostCount,
         emergency = @emergency, upstream = @upstream WHERE id = @id AND status = 'open'`,
    ),
    getDriftEvent: db.prepare('SELECT * FROM drift_events WHERE id = ?'),
  };
}

/** Drift events of one backend; held to repositories.conformance.test.ts. */
export interface DriftEventRepository {
  /** Newest first (openedAt, then id). */
  list(query?: DriftEventQuery): StoredDriftEvent[];
  /** Resolves, updates and opens in one transaction; returns the opened events as stored. */
  write(write: DriftWrite): StoredDriftEvent[];
}

export class SqliteDriftEventRepository implements DriftEventRepository {
  private readonly stmt: ReturnType<typeof prepare>;

  constructor(private readonly db: Database.Database) {
    this.stmt = prepare(db);
  }

  list(query: DriftEventQuery = {}): StoredDriftEvent[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.status !== undefined) {
      where.push('status = ?');
      params.push(query.status);
    }
    if (query.environment !== undefined) {
      where.push('(environment = ? OR other_environment = ?)');
      params.push(query.environment, query.environment);
    }
    if (query.kind !== undefined) {
      where.push('kind = ?');
      params.push(query.kind);
    }
    if (query.hostId !== undefined) {
      // Outlier groups name their hosts in `hosts` (host_id is the first of them when opened).
      where.push(
        "(host_id = ? OR (kind = 'outlier' AND EXISTS (SELECT 1 FROM json_each(drift_events.hosts) WHERE value = ?)))",
      );
      params.push(query.hostId, query.hostId);
    }
    const sql =
      `SELECT * FROM drift_events${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY opened_at DESC, id DESC` +
      (query.limit === undefined ? '' : ' LIMIT ?');
    if (query.limit !== undefined) params.push(query.limit);
    return (this.db.prepare(sql).all(...params) as DriftEventRow[]).map(toDriftEvent);
  }

  write(write: DriftWrite): StoredDriftEvent[] {
    try {
      return this.db.transaction(() => {
        for (const { id, at, resolution, exception } of write.resolve) {
          const why = exception === undefined ? null : JSON.stringify(exception);
          this.stmt.resolveDriftEvent.run(at, resolution ?? null, why, Number(id));
        }
        for (const update of write.update ?? []) {
          this.stmt.updateDriftEvent.run({
            id: Number(update.id),
            expected: valueColumn(update.expected),
            actual: valueColumn(update.actual),
            hosts: update.hosts === undefined ? null : JSON.stringify(update.hosts),
            hostCount: update.hostCount ?? null,
            emergency: update.emergency ? 1 : 0,
            upstream: update.upstream ?? null,
          });
        }
        return write.open.map((event: NewDriftEvent) => {
          const { lastInsertRowid } = this.stmt.insertDriftEvent.run({
            key: event.key,
            kind: event.kind,
            environment: event.environment,
            otherEnvironment: event.otherEnvironment ?? null,
            hostId: event.hostId ?? null,
            path: event.path,
            expected: valueColumn(event.expected),
            actual: valueColumn(event.actual),
            openedAt: event.openedAt,
            upstream: event.upstream ?? null,
            seq: event.seq ?? null,
            hosts: event.hosts === undefined ? null : JSON.stringify(event.hosts),
            hostCount: event.hostCount ?? null,
            emergency: event.emergency ? 1 : 0,
          });
          return toDriftEvent(this.stmt.getDriftEvent.get(lastInsertRowid) as DriftEventRow);
        });
      })();
    } catch (cause) {
      throw new StoreError('STORE_FAILED', `cannot write drift events: ${(cause as Error).message}`, { cause });
    }
  }
}
