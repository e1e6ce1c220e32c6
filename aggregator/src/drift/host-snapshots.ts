/**
 * Adapter from the store's hosts (category -> blob hash, blobs shared between hosts) to the drift
 * engine's HostSnapshot. A host's category map is built once per version of its facts
 * (`HostView.factsVersion`, which the store raises on every change), so at 10,000 hosts a pass
 * costs a map lookup per host rather than a rebuild; facts are never copied, the blobs are shared
 * as they are.
 */
import { EMPTY_FACTS } from '@envparity/shared';
import type { FactStore, HostView } from '../store/fact-store.js';
import type { CategoryBlob, HostSnapshot } from './baseline.js';

/** Whether a host has a live agent connection (the agent gateway, or a stand-in in tests). */
export interface Presence {
  isOnline(hostId: string): boolean;
}

export class HostSnapshots {
  readonly #built = new Map<string, { factsVersion: number; categories: ReadonlyMap<string, CategoryBlob> }>();

  constructor(
    private readonly store: Pick<FactStore, 'getBlob'>,
    private readonly presence: Presence,
    /** Whether the host counts in its environment's baseline (online, or offline within the grace). */
    private readonly counts: (host: HostView) => boolean = (host) => presence.isOnline(host.id),
  ) {}

  /** The host as the drift engine sees it, with its current presence. */
  snapshot(host: HostView): HostSnapshot {
    let built = this.#built.get(host.id);
    if (built?.factsVersion !== host.factsVersion) {
      const categories = new Map<string, CategoryBlob>();
      for (const [category, hash] of host.categories) {
        categories.set(category, { hash, facts: this.store.getBlob(hash) ?? EMPTY_FACTS });
      }
      built = { factsVersion: host.factsVersion, categories };
      this.#built.set(host.id, built);
    }
    return {
      id: host.id,
      environment: host.environment ?? undefined,
      online: this.presence.isOnline(host.id),
      counted: this.counts(host),
      categories: built.categories,
      factsVersion: host.factsVersion,
    };
  }
}
