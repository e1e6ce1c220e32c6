/**
 * The fleet as the aggregator holds it in memory, whatever the backend: hosts (host -> category ->
 * blob hash), the content-addressed blobs with their reference counts, the agent-token index and
 * the environments. An unchanged host then costs a last-seen update, and the drift engine and the
 * API read every fact without touching the disk.
 *
 * Changes are explicit: ingest builds a `FleetBatch` and `commit()` makes it the state after the
 * backend committed its writes; single-host writes `replaceHost()` with a changed copy. A host's
 * `factsVersion` goes up with every change of its facts, and the store's events (`StoreEvent`) say
 * what changed, so nobody needs to compare object identities to notice a change.
 */
import { type Classifier, compareStrings, EMPTY_FACTS, type FactMap } from '@envparity/shared';
import type { HostView } from '../store/fact-store.js';
import { BlobIndex } from './blob-index.js';
import { FleetBatch } from './fleet-batch.js';
import type { HostState } from './host-state.js';

export class FleetState {
  readonly blobs: BlobIndex;
  readonly #hosts = new Map<string, HostState>();
  readonly #hostByToken = new Map<string, string>();
  readonly #environments = new Set<string>();

  constructor(classify: Classifier) {
    this.blobs = new BlobIndex(classify);
  }

  /** Every host, retired ones too. */
  get hostCount(): number {
    return this.#hosts.size;
  }

  host(id: string): HostState | undefined {
    return this.#hosts.get(id);
  }

  /** Hosts that are not retired, by id. */
  listHosts(): HostView[] {
    return [...this.#hosts.values()]
      .filter((host) => host.retiredAt === null)
      .sort((a, b) => compareStrings(a.id, b.id));
  }

  hostIdByToken(tokenHash: string): string | undefined {
    return this.#hostByToken.get(tokenHash);
  }

  environments(): string[] {
    return [...this.#environments].sort(compareStrings);
  }

  addEnvironment(name: string): void {
    this.#environments.add(name);
  }

  /** A host's categories with their facts. */
  categoryFacts(hostId: string): Map<string, Readonly<FactMap>> | undefined {
    const host = this.#hosts.get(hostId);
    if (!host) return undefined;
    const categories = new Map<string, Readonly<FactMap>>();
    for (const [category, hash] of host.categories) categories.set(category, this.blobs.facts(hash) ?? EMPTY_FACTS);
    return categories;
  }

  /** All of a host's facts in one map (categories in name order). */
  hostFacts(hostId: string): FactMap | undefined {
    const host = this.#hosts.get(hostId);
    if (!host) return undefined;
    const merged: FactMap = {};
    for (const category of [...host.categories.keys()].sort(compareStrings)) {
      const facts = this.blobs.facts(host.categories.get(category) as string);
      if (facts) Object.assign(merged, facts);
    }
    return merged;
  }

  /** A host read back at open (its categories are filled in by `loadCategory`). */
  loadHost(host: HostState): void {
    this.#hosts.set(host.id, host);
    if (host.tokenHash) this.#hostByToken.set(host.tokenHash, host.id);
  }

  /** Replaces a host by a changed copy, after the backend wrote the change. */
  replaceHost(host: HostState): void {
    const previous = this.#hosts.get(host.id);
    if (previous?.tokenHash && previous.tokenHash !== host.tokenHash) {
      if (this.#hostByToken.get(previous.tokenHash) === host.id) this.#hostByToken.delete(previous.tokenHash);
    }
    if (host.tokenHash) this.#hostByToken.set(host.tokenHash, host.id);
    this.#hosts.set(host.id, host);
  }

  /** A batch over the current state; `touches` are the last-seen times it writes. */
  beginBatch(touches: ReadonlyMap<string, number>): FleetBatch {
    return new FleetBatch(this.#hosts, this.blobs, touches);
  }

  /** The backend committed the batch's writes: the batch becomes the state. */
  commit(batch: FleetBatch): void {
    this.blobs.commit(batch.newBlobs, batch.refDelta);
    for (const [hostId, host] of batch.hosts) this.#hosts.set(hostId, host);
    for (const { hostId, previous, next } of batch.tokens) {
      if (previous !== null && this.#hostByToken.get(previous) === hostId) this.#hostByToken.delete(previous);
      this.#hostByToken.set(next, hostId);
    }
    for (const environment of batch.environments) this.#environments.add(environment);
  }

  /** The backend rolled the batch back: nothing of it stays. */
  discard(batch: FleetBatch): void {
    this.blobs.discard(batch.newBlobs.keys());
  }
}
