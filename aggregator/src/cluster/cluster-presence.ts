/**
 * Fleet-wide presence for several aggregators on one database: a host is online when its agent has
 * a live socket here or on another aggregator that is alive. Each aggregator writes its own
 * connections (`agent_connections`) and a heartbeat (`aggregator_nodes.seen_at`, on the server's
 * clock so the aggregators' clocks need not agree) every `intervalMs`, and reads the others'
 * connections whose aggregator was seen within `staleMs`. An aggregator that dies stops its
 * heartbeat, and its hosts go offline here (still in their baselines for the presence grace)
 * until their agents reconnect to a survivor.
 */
import type { PresenceSource } from '../drift/drift-engine.js';
import { PG_SERVER_NOW_MS } from '../store/postgres/pg-bridge.js';
import type { ClusterConnection } from './cluster-connection.js';

export const DEFAULT_PRESENCE_INTERVAL_MS = 1_000;
/** An aggregator not seen for this long is dead: its connections no longer count. */
export const DEFAULT_NODE_STALE_MS = 10_000;
/** Rows of aggregators gone this long are removed (by the leader). */
const FORGET_NODE_MS = 3_600_000;

/** What presence needs of the local agent gateway. */
export interface LocalPresence {
  isOnline(hostId: string): boolean;
  onPresenceChange(listener: (hostId: string, online: boolean) => void): () => void;
  onlineHosts(): Iterable<string>;
}

export interface ClusterPresenceOptions {
  nodeId: string;
  local: LocalPresence;
  connection: ClusterConnection;
  /** A host whose remote connection ended was seen until now (its presence grace starts here). */
  touch: (hostId: string, at: number) => void;
  now?: () => number;
  intervalMs?: number;
  staleMs?: number;
  onError: (error: unknown) => void;
}

export class ClusterPresence implements PresenceSource {
  readonly #options: ClusterPresenceOptions;
  readonly #listeners = new Set<(hostId: string, online: boolean) => void>();
  /** Hosts connected to other live aggregators. */
  #remote = new Set<string>();
  /** Local connections and disconnections not written yet (host -> online). */
  #queued = new Map<string, boolean>();
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #unsubscribe: (() => void) | undefined;
  #startedAt = 0;

  constructor(options: ClusterPresenceOptions) {
    this.#options = options;
  }

  isOnline(hostId: string): boolean {
    return this.#options.local.isOnline(hostId) || this.#remote.has(hostId);
  }

  /** Connected to another aggregator (not this one). */
  isOnlineElsewhere(hostId: string): boolean {
    return this.#remote.has(hostId) && !this.#options.local.isOnline(hostId);
  }

  onPresenceChange(listener: (hostId: string, online: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  start(): void {
    this.#startedAt = (this.#options.now ?? Date.now)();
    this.#unsubscribe = this.#options.local.onPresenceChange((hostId, online) => {
      this.#queued.set(hostId, online);
      this.#notify(hostId, online || this.#remote.has(hostId));
    });
    this.#timer = setInterval(() => void this.tick(), this.#options.intervalMs ?? DEFAULT_PRESENCE_INTERVAL_MS);
    this.#timer.unref();
  }

  /** After a (re)connect: every local connection is written again (rows may have been taken or cleaned). */
  reconnected(): void {
    for (const hostId of this.#options.local.onlineHosts()) this.#queued.set(hostId, true);
    void this.tick();
  }

  /** One heartbeat: write this node's row and queued connections, read the others'. */
  tick(): Promise<void> {
    this.#ticking ??= this.#tickOnce().finally(() => {
      this.#ticking = undefined;
    });
    return this.#ticking;
  }

  async #tickOnce(): Promise<void> {
    const { connection, nodeId } = this.#options;
    if (!connection.connected) return;
    const queued = this.#queued;
    this.#queued = new Map();
    try {
      await connection.query(
        `INSERT INTO aggregator_nodes (id, started_at, seen_at) VALUES ($1, $2, ${PG_SERVER_NOW_MS})
         ON CONFLICT (id) DO UPDATE SET seen_at = ${PG_SERVER_NOW_MS}`,
        [nodeId, this.#startedAt],
      );
      const online = [...queued].filter(([, up]) => up).map(([hostId]) => hostId);
      const offline = [...queued].filter(([, up]) => !up).map(([hostId]) => hostId);
      if (online.length > 0) {
        await connection.query(
          `INSERT INTO agent_connections (host_id, node_id, since) SELECT unnest($1::text[]), $2, ${PG_SERVER_NOW_MS}
           ON CONFLICT (host_id) DO UPDATE SET node_id = excluded.node_id, since = excluded.since`,
          [online, nodeId],
        );
      }
      if (offline.length > 0) {
        await connection.query('DELETE FROM agent_connections WHERE host_id = ANY($1) AND node_id = $2', [
          offline,
          nodeId,
        ]);
      }
      const rows = await connection.query<{ host_id: string }>(
        `SELECT c.host_id FROM agent_connections c JOIN aggregator_nodes n ON n.id = c.node_id
         WHERE c.node_id <> $1 AND n.seen_at > ${PG_SERVER_NOW_MS} - $2`,
        [nodeId, this.#options.staleMs ?? DEFAULT_NODE_STALE_MS],
      );
      this.#replaceRemote(new Set(rows.map((row) => row.host_id)));
    } catch (error) {
      // Written again with the next tick (a newer local change for the same host wins).
      for (const [hostId, up] of queued) if (!this.#queued.has(hostId)) this.#queued.set(hostId, up);
      this.#options.onError(error);
    }
  }

  /** The leader's housekeeping: aggregators gone for an hour and their connections. */
  async forgetDeadNodes(): Promise<void> {
    const { connection } = this.#options;
    if (!connection.connected) return;
    await connection.query(
      `DELETE FROM agent_connections WHERE node_id IN (SELECT id FROM aggregator_nodes WHERE seen_at < ${PG_SERVER_NOW_MS} - $1)`,
      [FORGET_NODE_MS],
    );
    await connection.query(`DELETE FROM aggregator_nodes WHERE seen_at < ${PG_SERVER_NOW_MS} - $1`, [FORGET_NODE_MS]);
  }

  /** A clean stop: this node's rows go, so the others see its hosts offline at once. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#unsubscribe?.();
    await this.#ticking;
    const { connection, nodeId } = this.#options;
    if (!connection.connected) return;
    try {
      await connection.query('DELETE FROM agent_connections WHERE node_id = $1', [nodeId]);
      await connection.query('DELETE FROM aggregator_nodes WHERE id = $1', [nodeId]);
    } catch (error) {
      this.#options.onError(error);
    }
  }

  #replaceRemote(next: Set<string>): void {
    const previous = this.#remote;
    this.#remote = next;
    const now = (this.#options.now ?? Date.now)();
    for (const hostId of previous) {
      if (next.has(hostId) || this.#options.local.isOnline(hostId)) continue;
      this.#options.touch(hostId, now);
      this.#notify(hostId, false);
    }
    for (const hostId of next) {
      if (!previous.has(hostId) && !this.#options.local.isOnline(hostId)) this.#notify(hostId, true);
    }
  }

  #notify(hostId: string, online: boolean): void {
    for (const listener of this.#listeners) listener(hostId, online);
  }
}
