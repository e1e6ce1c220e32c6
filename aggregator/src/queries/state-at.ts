/**
 * A host's facts at a past instant, from its stored history: either forwards (the initial state,
 * then every change observed at or before T, in recording order) or backwards (the current facts
 * with every change observed after T undone). Both give the same answer (property-tested in
 * history-replay.test.ts); backwards is the cheap one for recent instants because the current facts
 * are in memory and only the changes after T are read, forwards for instants near the history start.
 *
 * Undoing needs no order beyond "the earliest change after T of each path": its `from` is the
 * path's value at T (absent `from`: the path did not exist then).
 */
import {
  type Classifier,
  categoryOf,
  compareStrings,
  type FactMap,
  type FactValue,
  fingerprintMap,
} from '@envparity/shared';
import type { CategoryBlob } from '../drift/baseline.js';
import type { FactChange } from '../store/fact-store.js';

/** Path -> its value at T (undefined: absent at T), for the paths changed after T. */
export type UndoPatch = Map<string, FactValue | undefined>;

/** The undo patch of a host's changes after T, given oldest first. */
export function undoPatch(changesAfter: Iterable<FactChange>): UndoPatch {
  const patch: UndoPatch = new Map();
  for (const change of changesAfter) if (!patch.has(change.path)) patch.set(change.path, change.from);
  return patch;
}

/** `facts` with the patch applied (a copy). */
export function applyPatch(facts: Readonly<FactMap>, patch: UndoPatch): FactMap {
  const out: FactMap = { ...facts };
  for (const [path, value] of patch) {
    if (value === undefined) delete out[path];
    else out[path] = value;
  }
  return out;
}

/** The initial state with changes (oldest first) applied in order. */
export function replayChanges(initial: Readonly<FactMap>, changes: Iterable<FactChange>): FactMap {
  const out: FactMap = { ...initial };
  for (const change of changes) {
    if (change.to === undefined) delete out[change.path];
    else out[change.path] = change.to;
  }
  return out;
}

/**
 * Without volatile facts: they are not recorded as changes (store option `recordVolatileChanges`),
 * so a reconstructed past value of uptime or free memory would be a present value in disguise.
 */
export function withoutVolatile(facts: Readonly<FactMap>, classify: Classifier): FactMap {
  const out: FactMap = {};
  for (const [path, value] of Object.entries(facts)) if (classify(path) !== 'volatile') out[path] = value;
  return out;
}

/**
 * Past category blobs shared between hosts: hosts that hold the same current blob and undid the
 * same changes (a rollout across an environment) get one past blob, computed and hashed once, so a
 * past baseline still costs distinct blobs, not hosts.
 */
export class PastBlobs {
  readonly #cache = new Map<string, CategoryBlob | null>();

  /** The categories of a host at T: its current ones (category -> blob) with the patch applied. */
  categoriesAt(current: ReadonlyMap<string, CategoryBlob>, patch: UndoPatch): Map<string, CategoryBlob> {
    if (patch.size === 0) return new Map(current);
    const byCategory = new Map<string, [string, FactValue | undefined][]>();
    for (const [path, value] of patch) {
      const category = categoryOf(path);
      let entries = byCategory.get(category);
      if (!entries) {
        entries = [];
        byCategory.set(category, entries);
      }
      entries.push([path, value]);
    }
    const out = new Map(current);
    for (const [category, entries] of byCategory) {
      const blob = current.get(category);
      entries.sort((a, b) => compareStrings(a[0], b[0]));
      const key = `${category}\u0000${blob?.hash ?? ''}\u0000${JSON.stringify(entries.map(([p, v]) => (v === undefined ? [p] : [p, v])))}`;
      let past = this.#cache.get(key);
      if (past === undefined) {
        const facts = applyPatch(blob?.facts ?? {}, new Map(entries));
        past = Object.keys(facts).length === 0 ? null : { hash: fingerprintMap(facts), facts };
        this.#cache.set(key, past);
      }
      if (past === null) out.delete(category);
      else out.set(category, past);
    }
    return out;
  }
}
