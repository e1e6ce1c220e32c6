/**
 * One aggregator among several on one PostgreSQL database. It owns:
 * - the signals its store sends (pg-signal-sender.ts) and the ones it receives from the others,
 *   applied in arrival order: hosts re-read (coalesced, one read per turn of the event loop),
 *   exceptions and pending enrollments re-read, the open drift events re-read, agent commands run;
 * - fleet-wide presence (cluster-presence.ts) and agent commands for sockets elsewhere
 *   (cluster-agents.ts);
 * - leadership (cluster-leadership.ts): the leader runs drift passes, webhooks and retention.
 * Every (re)connect of its cluster session resynchronises from the database, since NOTIFYs sent
 * while it was away are lost.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { DriftEngine } from '../drift/drift-engine.js';
import type { AgentGateway } from '../ingest/agent-gateway.js';
import type { PgBridge } from '../store/postgres/pg-bridge.js';
import type { PostgresFactStore } from '../store/postgres/postgres-fact-store.js';
import { ClusterAgents } from './cluster-agents.js';
import { ClusterConnection } from './cluster-connection.js';
import { ClusterLeadership } from './cluster-leadership.js';
import { ClusterPresence } from './cluster-presence.js';
import type { ClusterEnvelope } from './cluster-signals.js';
import { PgSignalSender } from './pg-signal-sender.js';

/** How often the leader removes rows of aggregators gone for an hour. */
const HOUSEKEEPING_MS = 60_000;
/** A blob let go of this long ago that nothing holds is deleted: longer than any report takes to commit. */
const UNUSED_BLOB_GRACE_MS = 60_000;

export interface ClusterNodeOptions {
  bridge: PgBridge;
  connectionString: string;
  password?: string;
  logger: Logger;
  now?: () => number;
  /** Election and presence intervals (tests shorten them). */
  electionIntervalMs?: number;
  presenceIntervalMs?: number;
  nodeStaleMs?: number;
}

interface Attached {
  store: PostgresFactStore;
  drift: DriftEngine;
  gateway: AgentGateway;
  presence: ClusterPresence;
  agents: ClusterAgents;
}

export class ClusterNode {
  /** This process's id among the aggregators (a new one per start). */
  readonly nodeId = randomUUID();
  readonly signals: PgSignalSender;
  readonly #options: ClusterNodeOptions;
  readonly #connection: ClusterConnection;
  readonly #leadership: ClusterLeadership;
  #attached: Attached | undefined;
  #pendingHosts = new Set<string>();
  #refreshScheduled = false;
  #housekeeping: NodeJS.Timeout | undefined;

  constructor(options: ClusterNodeOptions) {
    this.#options = options;
    this.signals = new PgSignalSender(options.bridge, this.nodeId);
    this.#connection = new ClusterConnection({
      connectionString: options.connectionString,
      ...(options.password !== undefined ? { password: options.password } : {}),
      applicationName: 'envparity-aggregator-cluster',
      logger: options.logger,
      onSignal: (envelope) => this.#receive(envelope),
      onConnected: () => this.#connected(),
      onDisconnected: () => this.#leadership.lost(),
    });
    this.#leadership = new ClusterLeadership({
      connection: this.#connection,
      logger: options.logger,
      onChange: (leading) => this.#leadershipChanged(leading),
      ...(options.electionIntervalMs !== undefined ? { intervalMs: options.electionIntervalMs } : {}),
    });
  }

  get leading(): boolean {
    return this.#leadership.leading;
  }

  /** Fleet-wide presence over the local gateway (made before the drift engine, which reads it). */
  presenceOver(gateway: AgentGateway, store: PostgresFactStore): ClusterPresence {
    return new ClusterPresence({
      nodeId: this.nodeId,
      local: gateway,
      connection: this.#connection,
      touch: (hostId, at) => store.touchHost(hostId, at),
      onError: (error) =>
        this.#options.logger.warn({ err: { message: (error as Error)?.message } }, 'cluster presence write failed'),
      ...(this.#options.now ? { now: this.#options.now } : {}),
      ...(this.#options.presenceIntervalMs !== undefined ? { intervalMs: this.#options.presenceIntervalMs } : {}),
      ...(this.#options.nodeStaleMs !== undefined ? { staleMs: this.#options.nodeStaleMs } : {}),
    });
  }

  /** Agent commands that reach sockets on other aggregators. */
  agentsOver(gateway: AgentGateway, presence: ClusterPresence): ClusterAgents {
    return new ClusterAgents(
      gateway,
      (hostId) => presence.isOnlineElsewhere(hostId),
      (signal) => this.signals.send(signal),
    );
  }

  /** The parts it keeps in step; the store follows (no retention) until this aggregator is elected. */
  attach(parts: Attached): void {
    this.#attached = parts;
    parts.store.setLeader(false);
  }

  /** Connects the cluster session (LISTEN, presence, election); a first failure fails the start. */
  async start(): Promise<void> {
    this.#attached?.presence.start();
    await this.#connection.connect();
    this.#leadership.start();
    this.#housekeeping = setInterval(() => this.#houseKeep(), HOUSEKEEPING_MS);
    this.#housekeeping.unref();
  }

  /** Leaves the cluster: presence rows removed, the session (and the leader's lock) closed. */
  async stop(): Promise<void> {
    clearInterval(this.#housekeeping);
    this.#leadership.stop();
    await this.#attached?.presence.stop();
    await this.#connection.close();
  }

  /** The leader's: rows of aggregators gone for an hour, blobs nothing has held for a minute. */
  #houseKeep(): void {
    const attached = this.#attached;
    if (!this.leading || !attached) return;
    void attached.presence.forgetDeadNodes().catch(() => {});
    try {
      const deleted = attached.store.collectUnusedBlobs(UNUSED_BLOB_GRACE_MS);
      if (deleted > 0) this.#options.logger.debug({ deleted }, 'cluster: unused blobs deleted');
    } catch (error) {
      // A blob pointed at again while the collection ran: it runs again next time.
      this.#options.logger.debug({ err: { message: (error as Error)?.message } }, 'cluster: blob collection deferred');
    }
  }

  #connected(): void {
    const attached = this.#attached;
    if (attached) {
      const changed = attached.store.resync();
      if (changed > 0) this.#options.logger.info({ hosts: changed }, 'cluster: resynchronised hosts from the database');
      void attached.drift.reloadOpenEvents();
      attached.presence.reconnected();
    }
    void this.#leadership.tryLead();
  }

  #leadershipChanged(leading: boolean): void {
    const attached = this.#attached;
    if (!attached) return;
    attached.store.setLeader(leading);
    attached.drift
      .setLeading(leading)
      .catch((error: unknown) =>
        this.#options.logger.error(
          { err: { message: (error as Error)?.message } },
          'cannot take over the drift engine',
        ),
      );
  }

  #receive({ from, signal }: ClusterEnvelope): void {
    const attached = this.#attached;
    if (from === this.nodeId || !attached) return;
    if (signal.kind === 'hosts') {
      for (const hostId of signal.hosts) this.#pendingHosts.add(hostId);
      if (!this.#refreshScheduled) {
        this.#refreshScheduled = true;
        setImmediate(() => this.#refreshPending());
      }
      return;
    }
    // Anything after a hosts signal acts on the hosts as they are now (a retirement before its socket is closed).
    this.#refreshPending();
    switch (signal.kind) {
      case 'exceptions':
        attached.store.reloadExceptions();
        attached.drift.exceptionsChanged(signal.environments);
        return;
      case 'drift':
        void attached.drift.reloadOpenEvents();
        return;
      case 'admission':
        attached.store.admission.reload();
        return;
      case 'agent':
        attached.agents.run(signal.command, signal.hostId, signal.categories);
        return;
    }
  }

  #refreshPending(): void {
    this.#refreshScheduled = false;
    const attached = this.#attached;
    if (!attached || this.#pendingHosts.size === 0) return;
    const hosts = [...this.#pendingHosts];
    this.#pendingHosts.clear();
    try {
      attached.store.refreshHosts(hosts);
    } catch (error) {
      this.#options.logger.error(
        { err: { message: (error as Error)?.message }, hosts: hosts.length },
        'cluster: cannot re-read hosts another aggregator wrote',
      );
    }
  }
}
