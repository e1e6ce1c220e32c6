/**
 * One environment's change history as promotion tracking asks it: when a value of a path first
 * arrived (and what it replaced), and each host's latest change of a path. Built once per request
 * and environment from one indexed read (`listEnvironmentChanges`), shared by every pair the
 * environment is in. Removals are left out: a path an environment stopped having is not a value to
 * promote (the drift engine's emergency detection judges them the same way).
 */
import { canonicalValue, type FactValue } from '@envparity/shared';
import type { FactChange } from '../store/fact-store.js';

/** A value a path was changed to in the environment, and when that first happened. */
export interface ArrivedValue {
  path: string;
  value: FactValue;
  /** The first recorded change to it (ms). */
  first: number;
  /** What that first change replaced; absent when it added the path. */
  previous?: FactValue;
}

export function valueKey(path: string, value: FactValue): string {
  return `${path}\u0000${canonicalValue(value)}`;
}

export class PromotionHistory {
  readonly #arrived = new Map<string, ArrivedValue>();
  /** host \0 path -> its latest change of the path. */
  readonly #latest = new Map<string, FactChange>();

  /** `changes` in any order (the store's newest-first read, typically). */
  constructor(changes: readonly FactChange[]) {
    for (const change of changes) {
      const hostPath = `${change.hostId}\u0000${change.path}`;
      const latest = this.#latest.get(hostPath);
      if (!latest || later(change, latest)) this.#latest.set(hostPath, change);
      if (change.to === undefined) continue;
      const key = valueKey(change.path, change.to);
      const arrived = this.#arrived.get(key);
      if (arrived && arrived.first <= change.at) continue;
      const entry: ArrivedValue = { path: change.path, value: change.to, first: change.at };
      if (change.from !== undefined) entry.previous = change.from;
      this.#arrived.set(key, entry);
    }
  }

  /** Every distinct (path, value) some host of the environment changed to. */
  arrivedValues(): IterableIterator<ArrivedValue> {
    return this.#arrived.values();
  }

  /** When `path` first changed to `value` here, if it ever did in the history read. */
  arrival(path: string, value: FactValue): ArrivedValue | undefined {
    return this.#arrived.get(valueKey(path, value));
  }

  /** A host's latest recorded change of `path`. */
  latestChange(hostId: string, path: string): FactChange | undefined {
    return this.#latest.get(`${hostId}\u0000${path}`);
  }
}

/** Later by time, then by the host's report seq (one host's changes at one millisecond). */
function later(a: FactChange, b: FactChange): boolean {
  return a.at > b.at || (a.at === b.at && a.seq > b.seq);
}
