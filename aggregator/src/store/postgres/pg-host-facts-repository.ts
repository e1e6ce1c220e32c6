/**
 * Hosts and their current facts in PostgreSQL: the same tables and row mapping as the SQLite
 * repository (host-facts-repository.ts). Writes nobody checks the result of are deferred inside a
 * transaction, so a report's rows (blobs, categories, report state) cost one round trip at the
 * savepoint's release instead of one each; outside a transaction every write runs at once.
 */
import type { FactMap } from '@envparity/shared';
import type { HostInfo, InitialState } from '../fact-store.js';
import {
  type BlobRow,
  type CategoryRow,
  type HostEnrollment,
  type HostFactsRepository,
  type HostRow,
  type InitialCategory,
  type InitialStateRow,
  initialStateOf,
  type StoredFleet,
  storedFleetOf,
} from '../host-facts-repository.js';
import { PG_SERVER_NOW_MS, type PgBridge } from './pg-bridge.js';

export class PgHostFactsRepository implements HostFactsRepository {
  constructor(private readonly db: PgBridge) {}

  /**
   * Five statements whatever the fleet's size. Categories and environments come in SQLite's key
   * order (code units), blobs in insertion order as there; hosts by id (SQLite's come as inserted).
   */
  load(): StoredFleet {
    // One snapshot: another aggregator may commit between the five reads.
    return this.db.transaction(() => {
      this.db.exec('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      return this.readFleet();
    });
  }

  private readFleet(): StoredFleet {
    return storedFleetOf({
      hosts: this.db.query<HostRow>('SELECT * FROM hosts ORDER BY id COLLATE "C"').rows,
      hostsWithInitialState: this.db
        .query<{ host_id: string }>('SELECT DISTINCT host_id FROM initial_states')
        .rows.map((row) => row.host_id),
      categories: this.db.query<CategoryRow>(
        'SELECT host_id, category, blob_hash FROM host_categories ORDER BY host_id COLLATE "C", category COLLATE "C"',
      ).rows,
      environments: this.db
        .query<{ name: string }>('SELECT name FROM environments ORDER BY name COLLATE "C"')
        .rows.map((row) => row.name),
      blobs: this.db.query<BlobRow>('SELECT hash, data FROM blobs ORDER BY id').rows,
    });
  }

  insertHost(host: HostEnrollment): void {
    // Run at once even in a transaction: enrollment names the host when its row is refused.
    this.db.run(
      `INSERT INTO hosts (id, environment, labels, token_hash, enrolled_at, last_seq, last_seen, agent_version, fingerprint, fingerprints)
       VALUES ($1, $2, $3, $4, $5, 0, $5, $6, NULL, '{}')`,
      [host.id, host.environment, JSON.stringify(host.labels), host.tokenHash, host.at, host.agentVersion],
    );
  }

  reenrollHost(host: HostEnrollment): void {
    this.db.run(
      `UPDATE hosts SET environment = $2, labels = $3, token_hash = $4, enrolled_at = $5,
         last_seq = 0, last_seen = $5, agent_version = $6 WHERE id = $1`,
      [host.id, host.environment, JSON.stringify(host.labels), host.tokenHash, host.at, host.agentVersion],
    );
  }

  updateHostInfo(hostId: string, info: HostInfo): void {
    this.db.run('UPDATE hosts SET environment = $2, labels = $3, agent_version = $4 WHERE id = $1', [
      hostId,
      info.environment,
      JSON.stringify(info.labels),
      info.agentVersion,
    ]);
  }

  updateReportState(hostId: string, seq: number, lastSeen: number, meta: unknown): void {
    this.db.write('UPDATE hosts SET last_seq = $2, last_seen = $3, meta = $4 WHERE id = $1', [
      hostId,
      seq,
      lastSeen,
      meta === undefined ? null : JSON.stringify(meta),
    ]);
  }

  updateFingerprints(hostId: string, fingerprint: string | null, fingerprints: Record<string, string>): void {
    this.db.write('UPDATE hosts SET fingerprint = $2, fingerprints = $3 WHERE id = $1', [
      hostId,
      fingerprint,
      JSON.stringify(fingerprints),
    ]);
  }

  replaceToken(hostId: string, tokenHash: string): void {
    this.db.run('UPDATE hosts SET token_hash = $2 WHERE id = $1', [hostId, tokenHash]);
  }

  touch(hostId: string, at: number): void {
    this.db.write('UPDATE hosts SET last_seen = GREATEST(COALESCE(last_seen, 0), $2) WHERE id = $1', [hostId, at]);
  }

  retire(hostId: string, at: number, by: string | null): boolean {
    return (
      this.db.run('UPDATE hosts SET retired_at = $2, retired_by = $3 WHERE id = $1 AND retired_at IS NULL', [
        hostId,
        at,
        by,
      ]) > 0
    );
  }

  unretire(hostId: string, by: string): boolean {
    return (
      this.db.run('UPDATE hosts SET retired_at = NULL, retired_by = NULL WHERE id = $1 AND retired_by = $2', [
        hostId,
        by,
      ]) > 0
    );
  }

  insertBlob(hash: string, facts: Readonly<FactMap>): void {
    this.db.write('INSERT INTO blobs (hash, data) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING', [
      hash,
      JSON.stringify(facts),
    ]);
  }

  /**
   * Marked only: another aggregator may hold the blob, or be committing a category that points at
   * it (its memory says the blob is stored, so it does not write it again). Deleting it here could
   * fail that aggregator's report on the foreign key; the collection waits out such races.
   */
  deleteUnusedBlob(hash: string): void {
    this.db.write(
      `INSERT INTO blob_orphans (hash, since) VALUES ($1, ${PG_SERVER_NOW_MS}) ON CONFLICT (hash) DO NOTHING`,
      [hash],
    );
  }

  /** The leader's collection: one transaction; a blob referenced meanwhile fails it, and it runs again later. */
  collectUnusedBlobs(graceMs: number): number {
    return this.db.transaction(() => {
      const deleted = this.db.run(
        `DELETE FROM blobs b USING blob_orphans o
          WHERE b.hash = o.hash AND o.since <= ${PG_SERVER_NOW_MS} - $1
            AND NOT EXISTS (SELECT 1 FROM host_categories c WHERE c.blob_hash = b.hash)
            AND NOT EXISTS (SELECT 1 FROM initial_states s WHERE s.blob_hash = b.hash)`,
        [graceMs],
      );
      this.db.run(`DELETE FROM blob_orphans WHERE since <= ${PG_SERVER_NOW_MS} - $1`, [graceMs]);
      return deleted;
    });
  }

  blobFacts(hash: string): FactMap | undefined {
    const row = this.db.get<{ data: string }>('SELECT data FROM blobs WHERE hash = $1', [hash]);
    return row ? (JSON.parse(row.data) as FactMap) : undefined;
  }

  setCategory(hostId: string, category: string, hash: string): void {
    this.db.write(
      `INSERT INTO host_categories (host_id, category, blob_hash) VALUES ($1, $2, $3)
       ON CONFLICT (host_id, category) DO UPDATE SET blob_hash = excluded.blob_hash`,
      [hostId, category, hash],
    );
  }

  deleteCategory(hostId: string, category: string): void {
    this.db.write('DELETE FROM host_categories WHERE host_id = $1 AND category = $2', [hostId, category]);
  }

  insertInitialCategory({ hostId, seq, at, environment, category, hash }: InitialCategory): void {
    this.db.write(
      'INSERT INTO initial_states (host_id, seq, at, environment, category, blob_hash) VALUES ($1, $2, $3, $4, $5, $6)',
      [hostId, seq, at, environment, category, hash],
    );
  }

  initialBlobHashes(environment: string, category: string): string[] {
    return this.db
      .query<{ blob_hash: string }>(
        `SELECT blob_hash FROM initial_states WHERE environment = $1 AND category = $2
         GROUP BY blob_hash ORDER BY min(id)`,
        [environment, category],
      )
      .rows.map((row) => row.blob_hash);
  }

  initialState(hostId: string): InitialState | undefined {
    return initialStateOf(
      this.db.query<InitialStateRow>(
        'SELECT s.seq, s.at, b.data FROM initial_states s JOIN blobs b ON b.hash = s.blob_hash WHERE s.host_id = $1 ORDER BY s.id',
        [hostId],
      ).rows,
    );
  }

  addEnvironment(name: string, at: number): void {
    this.db.write('INSERT INTO environments (name, first_seen) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [
      name,
      at,
    ]);
  }
}
