/**
 * What the drift engine remembers between passes: the open events (mirrored from the store), the
 * new events held for the grouping window, and per environment what the last pass saw of its
 * hosts. A pass reads it as it was when the pass started and changes it only once its outcome is
 * written (`commit`), so a pass that fails leaves it as it was and its retry starts from the same
 * memory.
 */
import type { NewDriftEvent, StoredDriftEvent } from '../store/fact-store.js';
import type { HostDrift } from './host-outliers.js';
import type { Resolution } from './pass-findings.js';

/** What the last pass saw of a host of an environment (only hosts the baseline was computed from). */
export interface HostEntry {
  factsVersion: number;
  drift: HostDrift | undefined;
}

/** What the last pass of an environment saw: re-evaluated incrementally while baseline and exceptions hold. */
export interface EnvironmentMemo {
  /** `EnvironmentState.version` of the baseline the hosts were judged against. */
  version: string;
  /** `DriftJudge.key` of the exceptions they were judged with. */
  judgeKey: string;
  hosts: Map<string, HostEntry>;
}

/** The part of a written pass the ledger keeps. */
export interface WrittenPass {
  /** The held events after the pass (the ones it opened are gone from it). */
  held: ReadonlyMap<string, NewDriftEvent>;
  /** Per environment, the memo the next pass starts from (undefined: the environment has no facts any more). */
  memos: ReadonlyMap<string, EnvironmentMemo | undefined>;
  updates: readonly StoredDriftEvent[];
  resolved: readonly Resolution[];
  /** The events the pass's write opened (with their ids). */
  opened: readonly StoredDriftEvent[];
}

export class DriftLedger {
  /** Open events by key, mirrored from the store. */
  readonly #open = new Map<string, StoredDriftEvent>();
  /** New events held for the grouping window, by key (`openedAt`: when first seen). */
  #held: ReadonlyMap<string, NewDriftEvent> = new Map();
  /** Per environment, the hosts and their drift the last pass saw. */
  readonly #memos = new Map<string, EnvironmentMemo>();

  get open(): ReadonlyMap<string, StoredDriftEvent> {
    return this.#open;
  }

  get held(): ReadonlyMap<string, NewDriftEvent> {
    return this.#held;
  }

  get memos(): ReadonlyMap<string, EnvironmentMemo> {
    return this.#memos;
  }

  /** A host's drift as the last pass saw it (what outlier events show as `count` and `paths`). */
  driftOf(environment: string, hostId: string): HostDrift | undefined {
    return this.#memos.get(environment)?.hosts.get(hostId)?.drift;
  }

  /** Forgets everything (an aggregator that starts leading reads the open events again). */
  reset(): void {
    this.#open.clear();
    this.#memos.clear();
    this.#held = new Map();
  }

  /** The open events found in the store at start. */
  load(events: readonly StoredDriftEvent[]): void {
    for (const event of events) this.#open.set(event.key, event);
  }

  /** Takes in a pass whose outcome the store committed. */
  commit(pass: WrittenPass): void {
    this.#held = pass.held;
    for (const [environment, memo] of pass.memos) {
      if (memo) this.#memos.set(environment, memo);
      else this.#memos.delete(environment);
    }
    for (const event of pass.updates) this.#open.set(event.key, event);
    for (const { event } of pass.resolved) this.#open.delete(event.key);
    for (const event of pass.opened) this.#open.set(event.key, event);
  }
}
