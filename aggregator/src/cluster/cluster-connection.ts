/**
 * The aggregator's own long-lived PostgreSQL session for the cluster (asynchronous, on the main
 * thread, beside the store's synchronous bridge): it LISTENs on the aggregators' channel, holds the
 * leader's advisory lock (a session lock lives exactly as long as this connection, so a dead
 * aggregator's leadership ends with its socket) and writes presence. A lost connection is retried
 * with backoff; NOTIFYs sent meanwhile are lost, so every (re)connect is followed by a resync.
 */
import pg from 'pg';
import { parse } from 'pg-connection-string';
import type { Logger } from 'pino';
import { CLUSTER_CHANNEL, type ClusterEnvelope, decodeSignal } from './cluster-signals.js';

const MIN_RECONNECT_MS = 500;
const MAX_RECONNECT_MS = 5_000;

export interface ClusterConnectionOptions {
  connectionString: string;
  password?: string;
  applicationName: string;
  logger: Pick<Logger, 'warn' | 'info'>;
  onSignal: (envelope: ClusterEnvelope) => void;
  /** After each successful connect (LISTEN in place): resynchronise, take part in the election. */
  onConnected: () => void;
  /** The session is gone: its advisory locks with it. */
  onDisconnected: () => void;
}

export class ClusterConnection {
  readonly #options: ClusterConnectionOptions;
  #client: pg.Client | undefined;
  #closed = false;
  #retryMs = MIN_RECONNECT_MS;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(options: ClusterConnectionOptions) {
    this.#options = options;
  }

  get connected(): boolean {
    return this.#client !== undefined;
  }

  /** Connects once; throws what failed (the caller decides whether a first failure stops the start). */
  async connect(): Promise<void> {
    const { connectionString, password, applicationName } = this.#options;
    // The URL's fields first, then the explicit ones (node-postgres would let the URL's missing password win).
    const client = new pg.Client({
      ...(parse(connectionString) as pg.ClientConfig),
      ...(password !== undefined ? { password } : {}),
      application_name: applicationName,
      keepAlive: true,
      connectionTimeoutMillis: 10_000,
    });
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    client.on('notification', (message) => {
      if (message.channel !== CLUSTER_CHANNEL) return;
      const envelope = decodeSignal(message.payload);
      if (envelope) this.#options.onSignal(envelope);
    });
    await client.connect();
    try {
      await client.query(`LISTEN ${CLUSTER_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    if (this.#closed) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#retryMs = MIN_RECONNECT_MS;
    try {
      this.#options.onConnected();
    } catch (error) {
      // The session stands; what failed (a resync read) is logged, and the next signal or reconnect retries it.
      this.#options.logger.warn(
        { err: { message: (error as Error)?.message } },
        'cluster: resync after connect failed',
      );
    }
  }

  /** Rows of a statement on the cluster session; throws when it is not connected. */
  async query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    const client = this.#client;
    if (!client) throw new Error('the cluster connection is down');
    const result = await client.query(sql, params as unknown[]);
    return result.rows as Row[];
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    const client = this.#client;
    this.#client = undefined;
    if (client) await client.end().catch(() => {});
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    client.end().catch(() => {});
    this.#options.onDisconnected();
    if (!this.#closed) {
      this.#options.logger.warn({ retryMs: this.#retryMs }, 'cluster connection lost: reconnecting');
      this.#scheduleReconnect();
    }
  }

  #scheduleReconnect(): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      this.connect().catch(() => {
        this.#retryMs = Math.min(MAX_RECONNECT_MS, this.#retryMs * 2);
        if (!this.#closed) this.#scheduleReconnect();
      });
    }, this.#retryMs);
    this.#retryTimer.unref();
  }
}
