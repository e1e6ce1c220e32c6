/**
 * The change history on PostgreSQL (`changes`), as in SQLite (../change-history-repository.ts):
 * the same rows, windows and orders. A change recorded inside the ingest's transaction is sent with
 * the batch's next call (PgBridge.defer): a report's changes cost one round trip, not one each.
 */
import type { FactValue } from '@envparity/shared';
import { type ChangeHistoryRepository, type ChangeRow, changeOf } from '../change-history-repository.js';
import type { ChangeQuery, EnvironmentChangeQuery, FactChange } from '../fact-store.js';
import { valueColumn } from '../value-columns.js';
import type { PgBridge } from './pg-bridge.js';

const COLUMNS = 'host_id, seq, at, path, from_value, to_value, emergency';
const ORDER = { oldest: 'ORDER BY at, id', newest: 'ORDER BY at DESC, id DESC' } as const;

export class PgChangeHistoryRepository implements ChangeHistoryRepository {
  constructor(private readonly db: PgBridge) {}

  record(change: FactChange, environment: string | null): void {
    const sql =
      'INSERT INTO changes (host_id, seq, at, path, from_value, to_value, environment) VALUES ($1, $2, $3, $4, $5, $6, $7)';
    const params = [
      change.hostId,
      change.seq,
      change.at,
      change.path,
      valueColumn(change.from),
      valueColumn(change.to),
      environment,
    ];
    this.db.write(sql, params);
  }

  list(hostId: string, { since, until, order = 'oldest', offset = 0, limit }: ChangeQuery): FactChange[] {
    const rows = this.db.query<ChangeRow>(
      `SELECT ${COLUMNS} FROM changes WHERE host_id = $1 AND at >= $2 AND at <= $3 ${ORDER[order]} LIMIT $4 OFFSET $5`,
      [hostId, since ?? Number.MIN_SAFE_INTEGER, until ?? Number.MAX_SAFE_INTEGER, limit, offset],
    ).rows;
    return rows.map(changeOf);
  }

  listByEnvironment(
    environment: string,
    { since, until, order = 'oldest', offset = 0, limit, paths }: EnvironmentChangeQuery,
  ): FactChange[] {
    const from = since ?? Number.MIN_SAFE_INTEGER;
    const to = until ?? Number.MAX_SAFE_INTEGER;
    if (paths !== undefined && paths.length === 0) return [];
    // Of some paths: `= ANY` of a text array uses the (environment, path, to_value) index per path.
    const rows =
      paths === undefined
        ? this.db.query<ChangeRow>(
            `SELECT ${COLUMNS} FROM changes WHERE environment = $1 AND at >= $2 AND at <= $3 ${ORDER[order]} LIMIT $4 OFFSET $5`,
            [environment, from, to, limit, offset],
          ).rows
        : this.db.query<ChangeRow>(
            `SELECT ${COLUMNS} FROM changes WHERE environment = $1 AND path = ANY($2::text[]) AND at >= $3 AND at <= $4 ${ORDER[order]} LIMIT $5 OFFSET $6`,
            [environment, [...paths], from, to, limit, offset],
          ).rows;
    return rows.map(changeOf);
  }

  changedTo(environment: string, path: string, value: FactValue): boolean {
    return (
      this.db.get('SELECT 1 AS found FROM changes WHERE environment = $1 AND path = $2 AND to_value = $3 LIMIT 1', [
        environment,
        path,
        JSON.stringify(value),
      ]) !== undefined
    );
  }

  markEmergency(hostId: string, seq: number, path: string): void {
    this.db.run('UPDATE changes SET emergency = 1 WHERE host_id = $1 AND seq = $2 AND path = $3', [hostId, seq, path]);
  }
}
