/** Recorded parity audits on PostgreSQL (`audits`): each report stored whole, as in SQLite. */
import {
  type AuditRecord,
  type AuditRecordSummary,
  type AuditRepository,
  type AuditRow,
  type NewAuditRecord,
  recordedAudit,
  summaryOf,
} from '../audit-repository.js';
import type { PgBridge } from './pg-bridge.js';

export class PgAuditRepository implements AuditRepository {
  constructor(private readonly db: PgBridge) {}

  async record(audit: NewAuditRecord): Promise<AuditRecord> {
    const environments = [...audit.environments];
    const row = this.db.get<{ id: number }>(
      'INSERT INTO audits (at, author, environments, summary, report) VALUES ($1, $2, $3, $4, $5) RETURNING id',
      [
        audit.at,
        audit.author,
        JSON.stringify(environments),
        JSON.stringify(audit.summary),
        JSON.stringify(audit.report),
      ],
    );
    return recordedAudit(Number(row?.id), audit, environments);
  }

  async list({ limit, before }: { limit: number; before?: number }): Promise<AuditRecordSummary[]> {
    const rows = this.db.query<AuditRow>(
      'SELECT id, at, author, environments, summary FROM audits WHERE id < $1 ORDER BY id DESC LIMIT $2',
      [before ?? Number.MAX_SAFE_INTEGER, limit],
    ).rows;
    return rows.map(summaryOf);
  }

  async get(id: number): Promise<AuditRecord | undefined> {
    const row = this.db.get<AuditRow>(
      'SELECT id, at, author, environments, summary, report FROM audits WHERE id = $1',
      [id],
    );
    return row ? { ...summaryOf(row), report: JSON.parse(row.report as string) as unknown } : undefined;
  }
}
