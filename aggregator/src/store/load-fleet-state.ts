/** A store's open: the fleet state filled from the database (repository-fact-store.ts). */
import type { FleetState } from '../fleet/fleet-state.js';
import type { HostState } from '../fleet/host-state.js';
import type { HostFactsRepository } from './host-facts-repository.js';
import type { SqlPort } from './sql-port.js';

/** Fills the fleet state from the database, drops unreferenced blobs and refreshes fingerprints for the current classes. */
export function loadFleetState(hostFacts: HostFactsRepository, fleet: FleetState, sql: SqlPort): void {
  const stored = hostFacts.load();
  for (const { hash, facts, refs } of stored.blobs) fleet.blobs.load(hash, facts, refs);
  for (const environment of stored.environments) fleet.addEnvironment(environment);
  const refreshed: HostState[] = [];
  for (const host of stored.hosts) {
    for (const hash of host.categories.values()) host.pathCount += Object.keys(fleet.blobs.facts(hash) ?? {}).length;
    const { fingerprint, fingerprints } = fleet.blobs.fingerprints(host.categories, (hash) => fleet.blobs.facts(hash));
    if (fingerprint !== host.fingerprint || JSON.stringify(fingerprints) !== JSON.stringify(host.fingerprints)) {
      host.fingerprint = fingerprint;
      host.fingerprints = fingerprints;
      refreshed.push(host);
    }
    fleet.loadHost(host);
  }
  sql.transaction(() => {
    // Unheld blobs are deleted (unless an initial state points at them) and were not loaded.
    for (const hash of stored.unheldBlobs) hostFacts.deleteUnusedBlob(hash);
    for (const host of refreshed) hostFacts.updateFingerprints(host.id, host.fingerprint, host.fingerprints);
  });
}
