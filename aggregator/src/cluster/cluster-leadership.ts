/**
 * Which aggregator runs the drift engine's passes, the webhook dispatch and history retention: the
 * one holding a session-level advisory lock on its cluster connection. The others try every
 * `intervalMs`; the lock is released by PostgreSQL the moment the leader's session ends (a killed
 * process closes its socket), so a follower takes over within one interval.
 */
import type { Logger } from 'pino';
import type { ClusterConnection } from './cluster-connection.js';

/** The leader's advisory lock key ("envl" in ASCII; the migrations hold "envp"). */
export const LEADER_LOCK_KEY = 0x656e766c;
/** How often a follower tries to become the leader. */
export const DEFAULT_ELECTION_INTERVAL_MS = 2_000;

export interface ClusterLeadershipOptions {
  connection: ClusterConnection;
  onChange: (leading: boolean) => void;
  logger: Pick<Logger, 'info' | 'warn'>;
  intervalMs?: number;
}

export class ClusterLeadership {
  readonly #options: ClusterLeadershipOptions;
  #leading = false;
  #timer: NodeJS.Timeout | undefined;
  #trying = false;

  constructor(options: ClusterLeadershipOptions) {
    this.#options = options;
  }

  get leading(): boolean {
    return this.#leading;
  }

  start(): void {
    this.#timer = setInterval(() => void this.tryLead(), this.#options.intervalMs ?? DEFAULT_ELECTION_INTERVAL_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Tries to take the lock (at connect and on every interval while following). */
  async tryLead(): Promise<void> {
    if (this.#leading || this.#trying || !this.#options.connection.connected) return;
    this.#trying = true;
    try {
      const [row] = await this.#options.connection.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1) AS locked',
        [LEADER_LOCK_KEY],
      );
      if (row?.locked && this.#options.connection.connected) {
        this.#leading = true;
        this.#options.logger.info('cluster: this aggregator leads (drift passes, webhooks, retention)');
        this.#options.onChange(true);
      }
    } catch {
      // The connection failed: `lost()` follows from the connection's own handler.
    } finally {
      this.#trying = false;
    }
  }

  /** The cluster session ended: its lock went with it. */
  lost(): void {
    if (!this.#leading) return;
    this.#leading = false;
    this.#options.logger.warn('cluster: leadership lost with the cluster connection');
    this.#options.onChange(false);
  }
}
