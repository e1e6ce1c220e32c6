/**
 * The fact store on PostgreSQL: the PostgreSQL repositories on one bridge (pg-bridge.ts) under the
 * common composition (../repository-fact-store.ts). The schema is migrated at open under an
 * advisory lock (pg-migrations.ts), so several aggregators may open one database at once.
 *
 * What the SQLite store keeps beside its file (the host-count sidecar, the clean-shutdown record,
 * `quick_check`) has no meaning here: the database outlives any one aggregator, and PostgreSQL
 * checks its own pages.
 */

import type { FactMap } from '@envparity/shared';
import { canonicalCopy } from '../../fleet/blob-index.js';
import { bump } from '../../fleet/fleet-batch.js';
import { mergeStoredHost, type StoredHostMerge } from '../../fleet/stored-host-merge.js';
import { RepositoryFactStore } from '../repository-fact-store.js';
import { PgSqlPort } from '../sql-port.js';
import type { StoreBackend } from '../store-backend.js';
import type { FactStoreOptions } from '../store-options.js';
import { PgBridge, type PgConnectionOptions } from './pg-bridge.js';
import { migratePostgres, PG_MIGRATIONS, pgSchemaVersion } from './pg-migrations.js';
import { openPgRepositories } from './pg-repositories.js';
import { readStoredHosts } from './pg-stored-hosts.js';

export interface PostgresFactStoreOptions extends FactStoreOptions {
  /** An open bridge (the aggregator reads the declared classes through it before the store loads). */
  bridge: PgBridge;
}

/** Opens a bridge and migrates the schema: the first step of opening a PostgreSQL store. */
export function openPostgresBridge(options: PgConnectionOptions): PgBridge {
  const bridge = new PgBridge(options);
  try {
    migratePostgres(bridge);
    return bridge;
  } catch (error) {
    bridge.close();
    throw error;
  }
}

export function postgresBackend(bridge: PgBridge): StoreBackend {
  return {
    kind: 'postgres',
    location: bridge.description,
    sql: new PgSqlPort(bridge),
    repositories: openPgRepositories(bridge),
    sizeBytes: () =>
      bridge.get<{ bytes: number }>('SELECT pg_database_size(current_database())::bigint AS bytes')?.bytes ?? 0,
    integrityCheck: () => {
      const version = pgSchemaVersion(bridge);
      return version === PG_MIGRATIONS.length ? 'ok' : `schema version ${version}, expected ${PG_MIGRATIONS.length}`;
    },
    close: () => bridge.close(),
  };
}

export class PostgresFactStore extends RepositoryFactStore {
  readonly bridge: PgBridge;

  constructor({ bridge, ...options }: PostgresFactStoreOptions) {
    super(postgresBackend(bridge), options);
    this.bridge = bridge;
  }

  /**
   * Several aggregators on one database: re-reads hosts another one wrote and makes them this
   * fleet state, emitting the events a local write would have (the drift engine, caches and the
   * API react alike). Returns how many hosts changed.
   */
  refreshHosts(hostIds: readonly string[]): number {
    if (hostIds.length === 0) return 0;
    const stored = readStoredHosts(this.bridge, hostIds, (hash) => this.fleet.blobs.facts(hash) !== undefined);
    const blobOf = (hash: string) => stored.blobs.get(hash) ?? this.fleet.blobs.facts(hash);
    const now = Date.now();
    const newBlobs = new Map<string, Readonly<FactMap>>();
    const refDelta = new Map<string, number>();
    const merged: StoredHostMerge[] = [];
    for (const host of stored.hosts) {
      const before = this.fleet.host(host.id);
      const merge = mergeStoredHost(before, host, blobOf, this.classify, now);
      if (!merge) continue;
      for (const hash of before?.categories.values() ?? []) bump(refDelta, hash, -1);
      for (const hash of merge.host.categories.values()) {
        bump(refDelta, hash, 1);
        const facts = stored.blobs.get(hash);
        if (facts) newBlobs.set(hash, canonicalCopy(facts));
      }
      merged.push(merge);
    }
    this.fleet.blobs.commit(newBlobs, refDelta);
    for (const { host } of merged) {
      this.fleet.replaceHost(host);
      // Environments are named by hosts: one brought by a host written elsewhere is known from now on.
      if (host.environment !== null) this.fleet.addEnvironment(host.environment);
    }
    let changed = 0;
    for (const { events } of merged) {
      if (events.length > 0) changed++;
      for (const event of events) this.emit(event);
    }
    return changed;
  }

  /** One host, read again before its agent's hello here is answered (it may come from another aggregator). */
  syncHost(hostId: string): void {
    this.refreshHosts([hostId]);
  }

  /** Everything another aggregator may have written while this one missed its signals (after a reconnect). */
  resync(): number {
    const ids = this.bridge.query<{ id: string }>('SELECT id FROM hosts').rows.map((row) => row.id);
    const changed = this.refreshHosts(ids);
    this.reloadExceptions();
    this.admission.reload();
    return changed;
  }

  reloadExceptions(): void {
    this.exceptions.reload();
  }
}
