/**
 * The audit log repository: who did what, when and from where. Every admin action (API token
 * created or revoked, exception created or deleted, host retired or approved, audit recorded) and
 * every enrollment is appended to `audit_log`, which is append-only (triggers refuse UPDATE and
 * DELETE, migration 5). Entries never hold a secret: callers pass ids, names and scopes, never a
 * token value, the enroll secret or the fleet key, and `details` keys that name a secret are
 * replaced by `[redacted]` as a second line of defense.
 */

import { StoreError } from '../errors.js';
import type { SqlPort } from './sql-port.js';

/** Actions the aggregator records (`action` is free text for forward compatibility; these are the ones in use). */
export const AUDIT_ACTIONS = [
  'token.created',
  'token.revoked',
  'token.rotated',
  'exception.created',
  'exception.deleted',
  'host.enrolled',
  'host.reenrolled',
  'host.retired',
  'host.approval-requested',
  'host.approved',
  'host.rejected',
  'host.token-rotated',
  'host.collect-requested',
  'audit.recorded',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Actor of an enrollment: whoever held the enroll secret (the secret itself is never recorded). */
export const ENROLL_SECRET_ACTOR = 'enroll-secret';

/** Actor of an action an agent took with its own token. */
export function agentActor(hostId: string): string {
  return `agent:${hostId}`;
}

/** The address part of an `address:port` remote (IPv6 included), null when unknown (`?`). */
export function addressOfRemote(remote: string): string | null {
  const colon = remote.lastIndexOf(':');
  const address = colon < 0 ? remote : remote.slice(0, colon);
  return address === '' || address === '?' ? null : address;
}

/** One audit entry as stored (time in ms since the epoch). */
export interface AuditEntry {
  /** Increasing with every append: the newest entry has the highest id (paging: `before`). */
  id: number;
  at: number;
  /** API token id (`bootstrap` for the bootstrap admin token), `enroll-secret`, or `agent:<hostId>`. */
  actor: string;
  action: AuditAction | (string & {});
  /** Remote address of the request (HTTP or the agent's WebSocket upgrade), null when unknown. */
  source: string | null;
  details: Record<string, unknown>;
}

export type NewAuditEntry = Omit<AuditEntry, 'id'>;

export interface AuditQuery {
  /** Newest first; at most this many. */
  limit: number;
  /** Only entries older than this id (the last id of the previous page). */
  before?: number;
}

/** The audit log of a store (SQLite here; another backend implements the same interface). */
export interface AuditLog {
  append(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Newest first. */
  list(query: AuditQuery): Promise<AuditEntry[]>;
}

/** Keys whose values are never recorded, whatever a caller passes (case-insensitive, nested too). */
export const REDACTED_AUDIT_KEYS: readonly RegExp[] = [
  /^token$/i,
  /secret/i,
  /^fleet_?key$/i,
  /password/i,
  /^authorization$/i,
];

/** A JSON-safe copy of `details` with secret-named keys replaced by `[redacted]`. */
export function redactAuditDetails(details: Record<string, unknown>): Record<string, unknown> {
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
        out[key] = REDACTED_AUDIT_KEYS.some((pattern) => pattern.test(key)) ? '[redacted]' : walk(inner);
      }
      return out;
    }
    return value;
  };
  return walk(JSON.parse(JSON.stringify(details ?? {}))) as Record<string, unknown>;
}

interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  source: string | null;
  details: string;
}

function toEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    source: row.source,
    details: JSON.parse(row.details) as Record<string, unknown>,
  };
}

/** `audit_log` in portable SQL (sql-port.ts). `appendSync` also works inside a caller's transaction (enrollments). */
export class SqlAuditLog implements AuditLog {
  constructor(private readonly sql: SqlPort) {}

  appendSync(entry: NewAuditEntry): AuditEntry {
    const details = redactAuditDetails(entry.details);
    try {
      const row = this.sql.get<{ id: number }>(
        'INSERT INTO audit_log (at, actor, action, source, details) VALUES (?, ?, ?, ?, ?) RETURNING id',
        [entry.at, entry.actor, entry.action, entry.source, JSON.stringify(details)],
      );
      return { ...entry, details, id: Number(row?.id) };
    } catch (cause) {
      throw new StoreError('STORE_FAILED', `cannot append to the audit log: ${(cause as Error).message}`, { cause });
    }
  }

  async append(entry: NewAuditEntry): Promise<AuditEntry> {
    return this.appendSync(entry);
  }

  async list({ limit, before }: AuditQuery): Promise<AuditEntry[]> {
    const rows =
      before === undefined
        ? this.sql.all<AuditRow>('SELECT * FROM audit_log ORDER BY id DESC LIMIT ?', [limit])
        : this.sql.all<AuditRow>('SELECT * FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?', [before, limit]);
    return rows.map(toEntry);
  }
}
