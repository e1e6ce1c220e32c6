/**
 * Hosts and their current facts in SQLite: `hosts`, `host_categories` (host -> category -> blob
 * hash), the content-addressed `blobs`, the first facts of each host (`initial_states`) and the
 * `environments` ever seen. The fleet state (fleet/fleet-state.ts) is loaded from here at open and
 * every change is written here before it becomes that state.
 */
import type { FactMap } from '@envparity/shared';
import type Database from 'better-sqlite3';
import type { HostState } from '../fleet/host-state.js';
import { newHostState } from '../fleet/host-state.js';
import type { HostInfo, InitialState } from './fact-store.js';

/** What enrollment writes of a host. */
export interface HostEnrollment {
  id: string;
  environment: string | null;
  labels: Record<string, string>;
  tokenHash: string;
  at: number;
  agentVersion: string | null;
}

/** Everything the fleet state is rebuilt from at open. */
export interface StoredFleet {
  /** Hosts with their categories filled in (facts version 0, path counts 0: the caller counts). */
  hosts: HostState[];
  /** Blobs some host holds, with how many (host, category) pairs hold each. */
  blobs: { hash: string; facts: FactMap; refs: number }[];
  /** Blobs no host holds (candidates for `deleteUnusedBlob`). */
  unheldBlobs: string[];
  environments: string[];
}

export interface InitialCategory {
  hostId: string;
  seq: number;
  at: number;
  environment: string | null;
  category: string;
  hash: string;
}

/** Hosts and current facts of one backend; the conformance suite holds any implementation to it. */
export interface HostFactsRepository {
  load(): StoredFleet;
  insertHost(host: HostEnrollment): void;
  /** A known host enrolled again: new token, seq numbering restarts, facts kept. */
  reenrollHost(host: HostEnrollment): void;
  updateHostInfo(hostId: string, info: HostInfo): void;
  updateReportState(hostId: string, seq: number, lastSeen: number, meta: unknown): void;
  updateFingerprints(hostId: string, fingerprint: string | null, fingerprints: Record<string, string>): void;
  replaceToken(hostId: string, tokenHash: string): void;
  /** Last seen, never moved backwards. */
  touch(hostId: string, at: number): void;
  /** False when unknown or already retired. */
  retire(hostId: string, at: number, by: string | null): boolean;
  /** False unless the host was retired by `by`. */
  unretire(hostId: string, by: string): boolean;
  /** Stores a blob unless it is stored already. */
  insertBlob(hash: string, facts: Readonly<FactMap>): void;
  /**
   * Deletes a blob unless an initial state still points at it (the history needs it): at once on
   * SQLite; on PostgreSQL it is marked, and `collectUnusedBlobs` deletes it once nothing points at
   * it for a while (another aggregator may be about to point at a blob this one stopped holding).
   */
  deleteUnusedBlob(hash: string): void;
  /** Deletes blobs marked unused longer than `graceMs` ago that nothing holds; how many (0 where deletion is immediate). */
  collectUnusedBlobs(graceMs: number): number;
  /** A stored blob's facts, held by a host or not. */
  blobFacts(hash: string): FactMap | undefined;
  setCategory(hostId: string, category: string, hash: string): void;
  deleteCategory(hostId: string, category: string): void;
  insertInitialCategory(initial: InitialCategory): void;
  /** Blobs the hosts of `environment` started `category` with. */
  initialBlobHashes(environment: string, category: string): string[];
  /** A host's initial state (every category merged in the order recorded), undefined when it has none. */
  initialState(hostId: string): InitialState | undefined;
  addEnvironment(name: string, at: number): void;
}

/** A `hosts` row as both backends return it (JSON columns as text, times as numbers). */
export interface HostRow {
  id: string;
  environment: string | null;
  labels: string;
  token_hash: string | null;
  enrolled_at: number;
  last_seq: number;
  last_seen: number | null;
  agent_version: string | null;
  fingerprint: string | null;
  fingerprints: string;
  meta: string | null;
  retired_at: number | null;
  retired_by: string | null;
}

export function hostOf(row: HostRow): HostState {
  return {
    ...newHostState(row.id, row.enrolled_at),
    environment: row.environment,
    labels: JSON.parse(row.labels) as Record<string, string>,
    lastSeq: row.last_seq,
    lastSeen: row.last_seen,
    agentVersion: row.agent_version,
    fingerprint: row.fingerprint,
    fingerprints: JSON.parse(row.fingerprints) as Record<string, string>,
    meta: row.meta === null ? undefined : JSON.parse(row.meta),
    tokenHash: row.token_hash,
    retiredAt: row.retired_at,
    retiredBy: row.retired_by,
  };
}

/** A `host_categories` row: which blob a host holds for a category. */
export interface CategoryRow {
  host_id: string;
  category: string;
  blob_hash: string;
}

/** A `blobs` row, its facts as JSON text. */
export interface BlobRow {
  hash: string;
  data: string;
}

/** What a load reads, in the shape both backends return it. */
export interface StoredFleetRows {
  hosts: readonly HostRow[];
  hostsWithInitialState: readonly string[];
  categories: readonly CategoryRow[];
  environments: string[];
  blobs: Iterable<BlobRow>;
}

/** The fleet from a load's rows: categories on their hosts, each blob with its reference count. */
export function storedFleetOf(rows: StoredFleetRows): StoredFleet {
  const hosts = new Map<string, HostState>();
  for (const row of rows.hosts) hosts.set(row.id, hostOf(row));
  for (const hostId of rows.hostsWithInitialState) {
    const host = hosts.get(hostId);
    if (host) host.hasInitialState = true;
  }
  const refs = new Map<string, number>();
  for (const row of rows.categories) {
    hosts.get(row.host_id)?.categories.set(row.category, row.blob_hash);
    refs.set(row.blob_hash, (refs.get(row.blob_hash) ?? 0) + 1);
  }
  const blobs: StoredFleet['blobs'] = [];
  const unheldBlobs: string[] = [];
  for (const row of rows.blobs) {
    const count = refs.get(row.hash);
    if (count === undefined) unheldBlobs.push(row.hash);
    else blobs.push({ hash: row.hash, facts: JSON.parse(row.data) as FactMap, refs: count });
  }
  return { hosts: [...hosts.values()], blobs, unheldBlobs, environments: rows.environments };
}

/** An `initial_states` row joined with its blob's data. */
export interface InitialStateRow {
  seq: number;
  at: number;
  data: string;
}

/** A host's initial state from its rows in the order recorded; undefined without rows. */
export function initialStateOf(rows: readonly InitialStateRow[]): InitialState | undefined {
  const first = rows[0];
  if (!first) return undefined;
  const facts: FactMap = {};
  for (const row of rows) Object.assign(facts, JSON.parse(row.data) as FactMap);
  return { at: first.at, seq: first.seq, facts };
}

function prepare(db: Database.Database) {
  return {
    insertHost: db.prepare(
      `INSERT INTO hosts (id, environment, labels, token_hash, enrolled_at, last_seq, last_seen, agent_version, fingerprint, fingerprints)
       VALUES (@id, @environment, @labels, @tokenHash, @at, 0, @at, @agentVersion, NULL, '{}')`,
    ),
    reenrollHost: db.prepare(
      `UPDATE hosts SET environment = @environment, labels = @labels, token_hash = @tokenHash, enrolled_at = @at,
         last_seq = 0, last_seen = @at, agent_version = @agentVersion WHERE id = @id`,
    ),
    updateHostInfo: db.prepare(
      'UPDATE hosts SET environment = @environment, labels = @labels, agent_version = @agentVersion WHERE id = @id',
    ),
    updateReportState: db.prepare('UPDATE hosts SET last_seq = ?, last_seen = ?, meta = ? WHERE id = ?'),
    updateFingerprints: db.prepare('UPDATE hosts SET fingerprint = ?, fingerprints = ? WHERE id = ?'),
    replaceToken: db.prepare('UPDATE hosts SET token_hash = ? WHERE id = ?'),
    touch: db.prepare('UPDATE hosts SET last_seen = MAX(COALESCE(last_seen, 0), ?) WHERE id = ?'),
    retire: db.prepare('UPDATE hosts SET retired_at = ?, retired_by = ? WHERE id = ? AND retired_at IS NULL'),
    unretire: db.prepare('UPDATE hosts SET retired_at = NULL, retired_by = NULL WHERE id = ? AND retired_by = ?'),
    insertBlob: db.prepare('INSERT OR IGNORE INTO blobs (hash, data) VALUES (?, ?)'),
    deleteUnusedBlob: db.prepare(
      'DELETE FROM blobs WHERE hash = @hash AND NOT EXISTS (SELECT 1 FROM initial_states WHERE blob_hash = @hash)',
    ),
    blobData: db.prepare('SELECT data FROM blobs WHERE hash = ?'),
    setCategory: db.prepare(
      `INSERT INTO host_categories (host_id, category, blob_hash) VALUES (?, ?, ?)
       ON CONFLICT (host_id, category) DO UPDATE SET blob_hash = excluded.blob_hash`,
    ),
    deleteCategory: db.prepare('DELETE FROM host_categories WHERE host_id = ? AND category = ?'),
    insertInitialCategory: db.prepare(
      'INSERT INTO initial_states (host_id, seq, at, environment, category, blob_hash) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    initialState: db.prepare(
      'SELECT s.seq, s.at, b.data FROM initial_states s JOIN blobs b ON b.hash = s.blob_hash WHERE s.host_id = ? ORDER BY s.id',
    ),
    initialBlobHashes: db.prepare(
      'SELECT DISTINCT blob_hash FROM initial_states WHERE environment = ? AND category = ?',
    ),
    addEnvironment: db.prepare('INSERT OR IGNORE INTO environments (name, first_seen) VALUES (?, ?)'),
  };
}

export class SqliteHostFactsRepository implements HostFactsRepository {
  private readonly stmt: ReturnType<typeof prepare>;

  constructor(private readonly db: Database.Database) {
    this.stmt = prepare(db);
  }

  load(): StoredFleet {
    return storedFleetOf({
      hosts: this.db.prepare('SELECT * FROM hosts').all() as HostRow[],
      hostsWithInitialState: (
        this.db.prepare('SELECT DISTINCT host_id FROM initial_states').all() as { host_id: string }[]
      ).map((row) => row.host_id),
      categories: this.db.prepare('SELECT host_id, category, blob_hash FROM host_categories').all() as CategoryRow[],
      environments: (this.db.prepare('SELECT name FROM environments').all() as { name: string }[]).map(
        (row) => row.name,
      ),
      // Iterated, not held: the blobs are the bulk of a load.
      blobs: this.db.prepare('SELECT hash, data FROM blobs').iterate() as Iterable<BlobRow>,
    });
  }

  insertHost(host: HostEnrollment): void {
    this.stmt.insertHost.run({ ...host, labels: JSON.stringify(host.labels) });
  }

  reenrollHost(host: HostEnrollment): void {
    this.stmt.reenrollHost.run({ ...host, labels: JSON.stringify(host.labels) });
  }

  updateHostInfo(hostId: string, info: HostInfo): void {
    this.stmt.updateHostInfo.run({
      id: hostId,
      environment: info.environment,
      labels: JSON.stringify(info.labels),
      agentVersion: info.agentVersion,
    });
  }

  updateReportState(hostId: string, seq: number, lastSeen: number, meta: unknown): void {
    this.stmt.updateReportState.run(seq, lastSeen, meta === undefined ? null : JSON.stringify(meta), hostId);
  }

  updateFingerprints(hostId: string, fingerprint: string | null, fingerprints: Record<string, string>): void {
    this.stmt.updateFingerprints.run(fingerprint, JSON.stringify(fingerprints), hostId);
  }

  replaceToken(hostId: string, tokenHash: string): void {
    this.stmt.replaceToken.run(tokenHash, hostId);
  }

  touch(hostId: string, at: number): void {
    this.stmt.touch.run(at, hostId);
  }

  retire(hostId: string, at: number, by: string | null): boolean {
    return this.stmt.retire.run(at, by, hostId).changes > 0;
  }

  unretire(hostId: string, by: string): boolean {
    return this.stmt.unretire.run(hostId, by).changes > 0;
  }

  insertBlob(hash: string, facts: Readonly<FactMap>): void {
    this.stmt.insertBlob.run(hash, JSON.stringify(facts));
  }

  deleteUnusedBlob(hash: string): void {
    this.stmt.deleteUnusedBlob.run({ hash });
  }

  collectUnusedBlobs(): number {
    return 0;
  }

  blobFacts(hash: string): FactMap | undefined {
    const row = this.stmt.blobData.get(hash) as { data: string } | undefined;
    return row ? (JSON.parse(row.data) as FactMap) : undefined;
  }

  setCategory(hostId: string, category: string, hash: string): void {
    this.stmt.setCategory.run(hostId, category, hash);
  }

  deleteCategory(hostId: string, category: string): void {
    this.stmt.deleteCategory.run(hostId, category);
  }

  insertInitialCategory({ hostId, seq, at, environment, category, hash }: InitialCategory): void {
    this.stmt.insertInitialCategory.run(hostId, seq, at, environment, category, hash);
  }

  initialBlobHashes(environment: string, category: string): string[] {
    return (this.stmt.initialBlobHashes.all(environment, category) as { blob_hash: string }[]).map(
      (row) => row.blob_hash,
    );
  }

  initialState(hostId: string): InitialState | undefined {
    return initialStateOf(this.stmt.initialState.all(hostId) as InitialStateRow[]);
  }

  addEnvironment(name: string, at: number): void {
    this.stmt.addEnvironment.run(name, at);
  }
}
