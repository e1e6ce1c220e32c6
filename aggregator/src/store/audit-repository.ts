/**
 * Recorded parity audits: `POST /api/v1/audits` stores the audit report as it was, with its time
 * and author, so a later audit can say what is new, remediated or newly justified since this one.
 * The report is kept whole (JSON): an audit is evidence, and re-deriving it from today's
 * exceptions would rewrite history. Listing reads only the small summary column.
 */
import type Database from 'better-sqlite3';

/** What a recorded audit is made of; `report` and `summary` are the audit module's JSON values. */
export interface NewAuditRecord {
  at: number;
  /** The principal that recorded it (a token name, `admin`, ...), never a secret. */
  author: string;
  environments: readonly string[];
  summary: unknown;
  report: unknown;
}

/** A recorded audit without its report (the list). */
export interface AuditRecordSummary {
  id: number;
  at: number;
  author: string;
  environments: string[];
  summary: unknown;
}

export interface AuditRecord extends AuditRecordSummary {
  report: unknown;
}

/** Recorded audits of one backend; the conformance suite holds any implementation to it. */
export interface AuditRepository {
  record(audit: NewAuditRecord): Promise<AuditRecord>;
  /** Newest first, at most `limit`, only those with an id below `before` when given (paging). */
  list(query: { limit: number; before?: number }): Promise<AuditRecordSummary[]>;
  get(id: number): Promise<AuditRecord | undefined>;
}

export interface AuditRow {
  id: number;
  at: number;
  author: string;
  environments: string;
  summary: string;
  report?: string;
}

export function summaryOf(row: AuditRow): AuditRecordSummary {
  return {
    id: row.id,
    at: row.at,
    author: row.author,
    environments: JSON.parse(row.environments) as string[],
    summary: JSON.parse(row.summary) as unknown,
  };
}

/** The record as a read would give it back (a JSON round trip), not the caller's objects. */
export function recordedAudit(id: number, audit: NewAuditRecord, environments: string[]): AuditRecord {
  return {
    id,
    at: audit.at,
    author: audit.author,
    environments,
    summary: JSON.parse(JSON.stringify(audit.summary)) as unknown,
    report: JSON.parse(JSON.stringify(audit.report)) as unknown,
  };
}

export class SqliteAuditRepository implements AuditRepository {
  private readonly stmt;

  constructor(db: Database.Database) {
    this.stmt = {
      insert: db.prepare(
        'INSERT INTO audits (at, author, environments, summary, report) VALUES (@at, @author, @environments, @summary, @report)',
      ),
      list: db.prepare(
        'SELECT id, at, author, environments, summary FROM audits WHERE id < ? ORDER BY id DESC LIMIT ?',
      ),
      get: db.prepare('SELECT id, at, author, environments, summary, report FROM audits WHERE id = ?'),
    };
  }

  async record(audit: NewAuditRecord): Promise<AuditRecord> {
    const environments = [...audit.environments];
    const { lastInsertRowid } = this.stmt.insert.run({
      at: audit.at,
      author: audit.author,
      environments: JSON.stringify(environments),
      summary: JSON.stringify(audit.summary),
      report: JSON.stringify(audit.report),
    });
    return recordedAudit(Number(lastInsertRowid), audit, environments);
  }

  async list({ limit, before }: { limit: number; before?: number }): Promise<AuditRecordSummary[]> {
    const rows = this.stmt.list.all(before ?? Number.MAX_SAFE_INTEGER, limit) as AuditRow[];
    return rows.map(summaryOf);
  }

  async get(id: number): Promise<AuditRecord | undefined> {
    const row = this.stmt.get.get(id) as AuditRow | undefined;
    return row ? { ...summaryOf(row), report: JSON.parse(row.report as string) as unknown } : undefined;
  }
}
