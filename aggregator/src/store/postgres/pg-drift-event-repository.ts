/**
 * Drift events on PostgreSQL (`drift_events`), as in SQLite (../drift-event-repository.ts): one
 * transaction per write (resolves and updates sent together, each opened event returned as stored),
 * newest-first queries; an outlier group's hosts are matched in its JSON `hosts` list.
 */
import { StoreError } from '../../errors.js';
import { type DriftEventRepository, type DriftEventRow, toDriftEvent } from '../drift-event-repository.js';
import type { DriftEventQuery, DriftWrite, NewDriftEvent, StoredDriftEvent } from '../fact-store.js';
import { valueColumn } from '../value-columns.js';
import type { PgBridge } from './pg-bridge.js';

const INSERT = `INSERT INTO drift_events (key, kind, environment, other_environment, host_id, path, expected, actual, status,
    opened_at, upstream, seq, hosts, host_count, emergency)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $10, $11, $12, $13, $14) RETURNING *`;
const RESOLVE =
  "UPDATE drift_events SET status = 'resolved', resolved_at = $1, resolution = $2, exception = $3 WHERE id = $4 AND status = 'open'";
const UPDATE = `UPDATE drift_events SET expected = $1, actual = $2, hosts = $3, host_count = $4, emergency = $5, upstream = $6
  WHERE id = $7 AND status = 'open'`;

/**
 * Event keys join their parts with NUL (drift/event-records.ts), which PostgreSQL text cannot hold:
 * stored with NUL as `\0` and a backslash doubled, read back exactly.
 */
export function encodeEventKey(key: string): string {
  return key.replace(/\\/g, '\\\\').replace(/\0/g, '\\0');
}

export function decodeEventKey(stored: string): string {
  return stored.replace(/\\([\\0])/g, (_, escaped: string) => (escaped === '0' ? '\0' : '\\'));
}

const fromRow = (row: DriftEventRow): StoredDriftEvent => toDriftEvent({ ...row, key: decodeEventKey(row.key) });

export class PgDriftEventRepository implements DriftEventRepository {
  constructor(private readonly db: PgBridge) {}

  list(query: DriftEventQuery = {}): StoredDriftEvent[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    const param = (value: string | number) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (query.status !== undefined) where.push(`status = ${param(query.status)}`);
    if (query.environment !== undefined) {
      const environment = param(query.environment);
      where.push(`(environment = ${environment} OR other_environment = ${environment})`);
    }
    if (query.kind !== undefined) where.push(`kind = ${param(query.kind)}`);
    if (query.hostId !== undefined) {
      // Outlier groups name their hosts in `hosts` (host_id is the first of them when opened).
      const hostId = param(query.hostId);
      where.push(`(host_id = ${hostId} OR (kind = 'outlier' AND hosts::jsonb ? ${hostId}))`);
    }
    const limit = query.limit === undefined ? '' : ` LIMIT ${param(query.limit)}`;
    const sql = `SELECT * FROM drift_events${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY opened_at DESC, id DESC${limit}`;
    return this.db.query<DriftEventRow>(sql, params).rows.map(fromRow);
  }

  write(write: DriftWrite): StoredDriftEvent[] {
    try {
      return this.db.transaction(() => {
        for (const { id, at, resolution, exception } of write.resolve) {
          const why = exception === undefined ? null : JSON.stringify(exception);
          this.db.defer(RESOLVE, [at, resolution ?? null, why, Number(id)]);
        }
        for (const update of write.update ?? []) {
          this.db.defer(UPDATE, [
            valueColumn(update.expected),
            valueColumn(update.actual),
            update.hosts === undefined ? null : JSON.stringify(update.hosts),
            update.hostCount ?? null,
            update.emergency ? 1 : 0,
            update.upstream ?? null,
            Number(update.id),
          ]);
        }
        return write.open.map((event: NewDriftEvent) => {
          const row = this.db.get<DriftEventRow>(INSERT, [
            encodeEventKey(event.key),
            event.kind,
            event.environment,
            event.otherEnvironment ?? null,
            event.hostId ?? null,
            event.path,
            valueColumn(event.expected),
            valueColumn(event.actual),
            event.openedAt,
            event.upstream ?? null,
            event.seq ?? null,
            event.hosts === undefined ? null : JSON.stringify(event.hosts),
            event.hostCount ?? null,
            event.emergency ? 1 : 0,
          ]);
          return fromRow(row as DriftEventRow);
        });
      });
    } catch (cause) {
      throw new StoreError('STORE_FAILED', `cannot write drift events: ${(cause as Error).message}`, { cause });
    }
  }
}
