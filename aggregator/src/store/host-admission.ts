/**
 * Enrollment control that outlives a restart (issue 10): hosts waiting for approval and agent token
 * rotations. Both are small tables held in memory and written through, so the agent channel can
 * check a token without a query.
 *
 * - A **pending enrollment** (`enrollment.mode: approve`) is an enrollment the enroll secret alone
 *   does not complete: the agent got a token, but the host is not in the fleet (no host row, no
 *   facts, no environment) until an admin approves it. Only the token hash is kept; approving moves
 *   it to the host row. One per host id: a second request replaces the first (its token dies).
 * - A **token rotation** waits for the host's next hello. The hello with the current token gets a
 *   new one in `welcome`; the previous hash keeps authenticating until the agent has used the new
 *   one (an agent that could not save it comes back with the old one and gets another).
 */

import { StoreError } from '../errors.js';
import type { SqlPort } from './sql-port.js';

/** A host waiting for an admin's approval, as the API shows it (no token hash). */
export interface PendingEnrollment {
  hostId: string;
  environment: string | null;
  labels: Record<string, string>;
  agentVersion: string | null;
  requestedAt: number;
  /** Remote address of the agent's WebSocket upgrade, null when unknown. */
  source: string | null;
}

export interface PendingEnrollmentRecord extends PendingEnrollment {
  /** sha256 of the token the agent was handed; it authenticates only once approved. */
  tokenHash: string;
}

export interface TokenRotation {
  hostId: string;
  requestedAt: number;
  /** API token name of the admin who asked. */
  requestedBy: string | null;
  /** Set once a new token was handed out: the old hash, still accepted until the new one is used. */
  previousTokenHash: string | null;
}

/** The store-side half of enrollment control; the SQLite implementation below, PostgreSQL later. */
export interface HostAdmission {
  /** Hosts waiting for approval, oldest request first. */
  listPending(): PendingEnrollment[];
  getPending(hostId: string): PendingEnrollmentRecord | undefined;
  pendingCount(): number;
  /** The pending enrollment a token (by sha256) belongs to. */
  findPendingByTokenHash(tokenHash: string): PendingEnrollmentRecord | undefined;
  /** Records (or replaces) the host's pending enrollment. */
  putPending(record: PendingEnrollmentRecord): Promise<void>;
  /** Removes it (approved or rejected); the record, or undefined when there was none. */
  removePending(hostId: string): Promise<PendingEnrollmentRecord | undefined>;

  rotationOf(hostId: string): TokenRotation | undefined;
  /** The host whose previous token (by sha256) is still accepted during a rotation. */
  hostOfPreviousToken(tokenHash: string): string | undefined;
  /** Asks for a rotation at the host's next hello (a second request restarts it). */
  requestRotation(hostId: string, at: number, by: string | null): Promise<TokenRotation>;
  /** A new token went out; `previousTokenHash` stays accepted until the new one is used. */
  markRotationIssued(hostId: string, previousTokenHash: string): Promise<void>;
  /** The agent used its new token (or the host re-enrolled or was retired): the rotation is over. */
  finishRotation(hostId: string): Promise<void>;
}

interface PendingRow {
  host_id: string;
  token_hash: string;
  environment: string | null;
  labels: string;
  agent_version: string | null;
  requested_at: number;
  source: string | null;
}

interface RotationRow {
  host_id: string;
  requested_at: number;
  requested_by: string | null;
  previous_token_hash: string | null;
}

function toPending(row: PendingRow): PendingEnrollmentRecord {
  return {
    hostId: row.host_id,
    tokenHash: row.token_hash,
    environment: row.environment,
    labels: JSON.parse(row.labels) as Record<string, string>,
    agentVersion: row.agent_version,
    requestedAt: row.requested_at,
    source: row.source,
  };
}

function publicView({ tokenHash: _hidden, ...view }: PendingEnrollmentRecord): PendingEnrollment {
  return { ...view, labels: { ...view.labels } };
}

/** Pending enrollments and token rotations: in memory for the hot path, written through in portable SQL. */
export class SqlHostAdmission implements HostAdmission {
  private readonly pending = new Map<string, PendingEnrollmentRecord>();
  private readonly pendingByToken = new Map<string, string>();
  private readonly rotations = new Map<string, TokenRotation>();
  private readonly hostByPreviousToken = new Map<string, string>();
  private closed = false;

  constructor(
    private readonly sql: SqlPort,
    /** After each committed write (other aggregators on the same database re-read). */
    private readonly onWritten: () => void = () => {},
  ) {
    this.read();
  }

  /** Reads pending enrollments and token rotations again (another aggregator wrote them). */
  reload(): void {
    this.pending.clear();
    this.pendingByToken.clear();
    this.rotations.clear();
    this.hostByPreviousToken.clear();
    this.read();
  }

  private read(): void {
    for (const row of this.sql.all<PendingRow>('SELECT * FROM pending_enrollments')) {
      this.remember(toPending(row));
    }
    for (const row of this.sql.all<RotationRow>('SELECT * FROM token_rotations')) {
      const rotation: TokenRotation = {
        hostId: row.host_id,
        requestedAt: row.requested_at,
        requestedBy: row.requested_by,
        previousTokenHash: row.previous_token_hash,
      };
      this.rotations.set(rotation.hostId, rotation);
      if (rotation.previousTokenHash) this.hostByPreviousToken.set(rotation.previousTokenHash, rotation.hostId);
    }
  }

  listPending(): PendingEnrollment[] {
    return [...this.pending.values()]
      .sort((a, b) => a.requestedAt - b.requestedAt || (a.hostId < b.hostId ? -1 : 1))
      .map(publicView);
  }

  getPending(hostId: string): PendingEnrollmentRecord | undefined {
    return this.pending.get(hostId);
  }

  pendingCount(): number {
    return this.pending.size;
  }

  findPendingByTokenHash(tokenHash: string): PendingEnrollmentRecord | undefined {
    const hostId = this.pendingByToken.get(tokenHash);
    return hostId === undefined ? undefined : this.pending.get(hostId);
  }

  async putPending(record: PendingEnrollmentRecord): Promise<void> {
    this.write(`cannot record the pending enrollment of ${record.hostId}`, () =>
      this.sql.run(
        `INSERT INTO pending_enrollments (host_id, token_hash, environment, labels, agent_version, requested_at, source)
           VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (host_id) DO UPDATE SET token_hash = excluded.token_hash, environment = excluded.environment,
           labels = excluded.labels, agent_version = excluded.agent_version, requested_at = excluded.requested_at,
           source = excluded.source`,
        [
          record.hostId,
          record.tokenHash,
          record.environment,
          JSON.stringify(record.labels),
          record.agentVersion,
          record.requestedAt,
          record.source,
        ],
      ),
    );
    this.forget(record.hostId);
    this.remember({ ...record, labels: { ...record.labels } });
  }

  async removePending(hostId: string): Promise<PendingEnrollmentRecord | undefined> {
    const record = this.pending.get(hostId);
    if (!record) return undefined;
    this.write(`cannot remove the pending enrollment of ${hostId}`, () =>
      this.sql.run('DELETE FROM pending_enrollments WHERE host_id = ?', [hostId]),
    );
    this.forget(hostId);
    return record;
  }

  rotationOf(hostId: string): TokenRotation | undefined {
    const rotation = this.rotations.get(hostId);
    return rotation && { ...rotation };
  }

  hostOfPreviousToken(tokenHash: string): string | undefined {
    return this.hostByPreviousToken.get(tokenHash);
  }

  async requestRotation(hostId: string, at: number, by: string | null): Promise<TokenRotation> {
    this.write(`cannot record the token rotation of ${hostId}`, () =>
      this.sql.run(
        `INSERT INTO token_rotations (host_id, requested_at, requested_by, previous_token_hash) VALUES (?, ?, ?, NULL)
         ON CONFLICT (host_id) DO UPDATE SET requested_at = excluded.requested_at, requested_by = excluded.requested_by`,
        [hostId, at, by],
      ),
    );
    const previous = this.rotations.get(hostId);
    // A rotation already half done keeps its previous token accepted: the agent may still hold it.
    const rotation: TokenRotation = {
      hostId,
      requestedAt: at,
      requestedBy: by,
      previousTokenHash: previous?.previousTokenHash ?? null,
    };
    this.rotations.set(hostId, rotation);
    return { ...rotation };
  }

  async markRotationIssued(hostId: string, previousTokenHash: string): Promise<void> {
    const rotation = this.rotations.get(hostId);
    if (!rotation) return;
    this.write(`cannot record the token rotation of ${hostId}`, () =>
      this.sql.run('UPDATE token_rotations SET previous_token_hash = ? WHERE host_id = ?', [previousTokenHash, hostId]),
    );
    if (rotation.previousTokenHash) this.hostByPreviousToken.delete(rotation.previousTokenHash);
    rotation.previousTokenHash = previousTokenHash;
    this.hostByPreviousToken.set(previousTokenHash, hostId);
  }

  async finishRotation(hostId: string): Promise<void> {
    const rotation = this.rotations.get(hostId);
    if (!rotation) return;
    this.write(`cannot finish the token rotation of ${hostId}`, () =>
      this.sql.run('DELETE FROM token_rotations WHERE host_id = ?', [hostId]),
    );
    if (rotation.previousTokenHash) this.hostByPreviousToken.delete(rotation.previousTokenHash);
    this.rotations.delete(hostId);
  }

  private remember(record: PendingEnrollmentRecord): void {
    this.pending.set(record.hostId, record);
    this.pendingByToken.set(record.tokenHash, record.hostId);
  }

  private forget(hostId: string): void {
    const old = this.pending.get(hostId);
    if (old) this.pendingByToken.delete(old.tokenHash);
    this.pending.delete(hostId);
  }

  /** The store closed: later writes fail as STORE_CLOSED. */
  close(): void {
    this.closed = true;
  }

  private write(what: string, run: () => void): void {
    if (this.closed) throw new StoreError('STORE_CLOSED', 'the fact store is closed');
    try {
      run();
    } catch (cause) {
      throw new StoreError('STORE_FAILED', `${what}: ${(cause as Error).message}`, { cause });
    }
    this.onWritten();
  }
}
