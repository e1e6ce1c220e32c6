/**
 * Emergency changes waiting for the drift event they cause. An emergency change (a value its
 * upstream environment never had) is not an event of its own: it marks the event it causes — the
 * environment-pair difference, or the outlier group of the hosts that took it — with
 * `emergency: true`, its upstream and the hosts that made the change. The ledger remembers, per
 * (environment, path, value), which hosts made such a change, until no counted host of the
 * environment holds the value any more or the upstream got it.
 */
import { canonicalValue, type FactValue } from '@envparity/shared';
import type { EmergencyCandidate } from './emergency.js';

export interface EmergencyEntry {
  environment: string;
  upstream: string;
  path: string;
  value: FactValue;
  /** Hosts that made the change, in the order they made it. */
  hosts: string[];
  /** When the first of them was observed (ms). */
  at: number;
}

function entryKey(environment: string, path: string, value: FactValue): string {
  return `${environment}\u0000${path}\u0000${canonicalValue(value)}`;
}

export class EmergencyLedger {
  readonly #entries = new Map<string, EmergencyEntry>();

  get size(): number {
    return this.#entries.size;
  }

  record(candidate: EmergencyCandidate): void {
    const key = entryKey(candidate.environment, candidate.path, candidate.value);
    const entry = this.#entries.get(key);
    if (!entry) {
      this.#entries.set(key, {
        environment: candidate.environment,
        upstream: candidate.upstream,
        path: candidate.path,
        value: candidate.value,
        hosts: [candidate.hostId],
        at: candidate.at,
      });
    } else if (!entry.hosts.includes(candidate.hostId)) entry.hosts.push(candidate.hostId);
  }

  /** The emergency change that brought `path` = `value` into `environment`, if one did. */
  find(environment: string, path: string, value: FactValue | undefined): EmergencyEntry | undefined {
    return value === undefined ? undefined : this.#entries.get(entryKey(environment, path, value));
  }

  /** Entries of `environment` (or whose upstream it is) that `keep` does not want any more are dropped. */
  prune(environments: ReadonlySet<string>, keep: (entry: EmergencyEntry) => boolean): void {
    for (const [key, entry] of this.#entries) {
      if (!environments.has(entry.environment) && !environments.has(entry.upstream)) continue;
      if (!keep(entry)) this.#entries.delete(key);
    }
  }
}
