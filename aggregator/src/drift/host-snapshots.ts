/**
 * Adapter from the store's hosts (category -> blob hash, blobs shared between hosts) to the drift
 * engine's HostSnapshot. The category map of a snapshot is built once per stored category map (the
 * store replaces that map whenever a host's facts change), so at 10,000 hosts a pass costs a map
 * lookup per host rather than a rebuild; facts are never copied, the blobs are shared as they are.
 */
import type { FactMap } from '@envparity/shared';
import type { FactStore, HostView } from '../store/fact-store.js';
import type { CategoryBlob, HostSnapshot } from './baseline.js';

/** Whether a host has a live agent connection (the agent gateway, or a stand-in in tests). */
export interface Presence {
  isOnline(hostId: string): boolean;
}

const EMPTY: Readonly<FactMap> = Object.freeze({});

export class HostSnapshots {
  readonly #categories = new WeakMap<ReadonlyMap<string, string>, ReadonlyMap<string, CategoryBlob>>();

  constructor(
    private readonly store: Pick<FactStore, 'getBlob'>,
    private readonly presence: Presence,
    /** Whether the host counts in its environment's baseline (online, or offline within the grace). */
    private readonly counts: (host: HostView) => boolean = (host) => presence.isOnline(host.id),
  ) {}

  /** The host as the drift engine sees it, with its current presence. */
  snapshot(host: HostView): HostSnapshot {
    let categories = this.#categories.get(host.categories);
    if (!categories) {
      const built = new Map<string, CategoryBlob>();
      for (const [category, hash] of host.categories) {
        built.set(category, { hash, facts: this.store.getBlob(hash) ?? EMPTY });
      }
      categories = built;
      this.#categories.set(host.categories, categories);
    }
    return {
      id: host.id,
      environment: host.environment ?? undefined,
      online: this.presence.isOnline(host.id),
      counted: this.counts(host),
      categories,
    };
  }
}
