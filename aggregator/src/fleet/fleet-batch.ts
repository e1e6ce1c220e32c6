/**
 * The uncommitted part of one ingest batch: hosts are copied on first use and blob reference counts
 * are kept as deltas, so a failed transaction leaves the fleet state exactly as it was, and a
 * committed one becomes it in one step (`FleetState.commit`).
 */
import type { FactMap } from '@envparity/shared';
import type { BlobIndex } from './blob-index.js';
import type { HostFingerprints } from './compose-fingerprints.js';
import { cloneHost, type HostState } from './host-state.js';

export function bump(counts: Map<string, number>, key: string, by: number): void {
  counts.set(key, (counts.get(key) ?? 0) + by);
}

export class FleetBatch {
  readonly hosts = new Map<string, HostState>();
  readonly newBlobs = new Map<string, Readonly<FactMap>>();
  readonly refDelta = new Map<string, number>();
  /** Hosts whose categories changed in this batch. */
  readonly changedHosts = new Set<string>();
  /** Token changes of enrollments, applied to the token index in order after the commit. */
  readonly tokens: { hostId: string; previous: string | null; next: string }[] = [];
  readonly environments = new Set<string>();

  constructor(
    private readonly heldHosts: ReadonlyMap<string, HostState>,
    private readonly blobs: BlobIndex,
    /** Last-seen times (heartbeats) this batch writes. */
    readonly touches: ReadonlyMap<string, number>,
  ) {}

  /** The batch's own copy of a host (made on first use), or undefined when it is not enrolled. */
  host(id: string): HostState | undefined {
    let host = this.hosts.get(id);
    if (!host) {
      const held = this.heldHosts.get(id);
      if (!held) return undefined;
      host = cloneHost(held);
      this.hosts.set(id, host);
    }
    return host;
  }

  /** A blob as this batch sees it: one it added, or one held. */
  blob(hash: string): Readonly<FactMap> | undefined {
    return this.newBlobs.get(hash) ?? this.blobs.facts(hash);
  }

  /** Fingerprints of categories as this batch sees their blobs. */
  fingerprints(categories: ReadonlyMap<string, string>): HostFingerprints {
    return this.blobs.fingerprints(categories, (hash) => this.blob(hash));
  }

  /** References a blob will hold after this batch (the store deletes a blob's row at 0). */
  refsAfter(hash: string): number {
    return this.blobs.refs(hash) + (this.refDelta.get(hash) ?? 0);
  }
}
