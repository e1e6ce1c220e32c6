/**
 * Hosts as another aggregator committed them: the rows of a few hosts, read back from PostgreSQL
 * when a signal names them or an agent says hello here. Three statements (four with new blobs)
 * whatever the number of hosts; only blobs this aggregator does not hold yet are fetched.
 */
import type { FactMap } from '@envparity/shared';
import type { HostState } from '../../fleet/host-state.js';
import { type CategoryRow, type HostRow, hostOf } from '../host-facts-repository.js';
import type { PgBridge } from './pg-bridge.js';

export interface StoredHosts {
  /** Hosts found, their categories and `hasInitialState` filled in (`pathCount` is the store's to fill). */
  hosts: HostState[];
  /** Blobs the hosts hold that the caller said it does not have. */
  blobs: Map<string, Readonly<FactMap>>;
}

export function readStoredHosts(
  db: PgBridge,
  hostIds: readonly string[],
  haveBlob: (hash: string) => boolean,
): StoredHosts {
  const ids = [...new Set(hostIds)];
  if (ids.length === 0) return { hosts: [], blobs: new Map() };
  const hosts = new Map<string, HostState>();
  for (const row of db.query<HostRow>('SELECT * FROM hosts WHERE id = ANY($1)', [ids]).rows) {
    hosts.set(row.id, hostOf(row));
  }
  const withInitial = db.query<{ host_id: string }>(
    'SELECT DISTINCT host_id FROM initial_states WHERE host_id = ANY($1)',
    [ids],
  ).rows;
  for (const { host_id } of withInitial) {
    const host = hosts.get(host_id);
    if (host) host.hasInitialState = true;
  }
  const missing = new Set<string>();
  const categories = db.query<CategoryRow>(
    'SELECT host_id, category, blob_hash FROM host_categories WHERE host_id = ANY($1) ORDER BY category COLLATE "C"',
    [ids],
  ).rows;
  for (const row of categories) {
    hosts.get(row.host_id)?.categories.set(row.category, row.blob_hash);
    if (!haveBlob(row.blob_hash)) missing.add(row.blob_hash);
  }
  const blobs = new Map<string, Readonly<FactMap>>();
  if (missing.size > 0) {
    const rows = db.query<{ hash: string; data: string }>('SELECT hash, data FROM blobs WHERE hash = ANY($1)', [
      [...missing],
    ]).rows;
    for (const row of rows) blobs.set(row.hash, JSON.parse(row.data) as FactMap);
  }
  return { hosts: [...hosts.values()], blobs };
}
