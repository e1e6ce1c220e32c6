/**
 * The host's current facts, kept per collector so a pass can rerun only some collectors (a
 * watched file changed: only `config`) and a collector that fails or times out keeps its last
 * good facts instead of making them look removed (which would show as drift and back again).
 */
import { categoryOf, type FactMap } from '@envparity/shared';
import { detachFactStrings } from '../detached-strings.js';

export interface PassResult {
  /** Each collector that ran: its facts, or undefined when it failed (threw or timed out: its previous facts are kept). */
  results: readonly { readonly name: string; readonly facts: FactMap | undefined }[];
  /** True when the pass ran every collector: collectors that did not run at all are forgotten. */
  complete: boolean;
}

export class CollectedFacts {
  private readonly byCollector = new Map<string, FactMap>();
  private passes = 0;

  /**
   * `seed`: the facts known from before this process started (the state last sent). A collector
   * that fails before it ever succeeded keeps the seed's facts of the category named like it (the
   * built-in collectors are named after their categories).
   */
  constructor(private readonly seed: FactMap = {}) {}

  /** True once at least one pass was recorded. */
  get ready(): boolean {
    return this.passes > 0;
  }

  record({ results, complete }: PassResult): void {
    if (complete) {
      const ran = new Set(results.map((result) => result.name));
      for (const name of [...this.byCollector.keys()]) if (!ran.has(name)) this.byCollector.delete(name);
    }
    // Kept until the collector's next pass: strings sliced from the texts the pass read would keep those alive.
    for (const { name, facts } of results) if (facts) this.byCollector.set(name, detachFactStrings(facts));
    for (const { name, facts } of results) {
      if (facts || this.byCollector.has(name)) continue;
      const carried: FactMap = {};
      for (const [path, value] of Object.entries(this.seed)) if (categoryOf(path) === name) carried[path] = value;
      if (Object.keys(carried).length > 0) this.byCollector.set(name, carried);
    }
    this.passes++;
  }

  /** Forgets everything collected (e.g. the fleet key changed, so every secret hash did). */
  clear(): void {
    this.byCollector.clear();
    this.passes = 0;
  }

  /** Every collector's facts in one map. */
  facts(): FactMap {
    const facts: FactMap = {};
    for (const part of this.byCollector.values()) Object.assign(facts, part);
    return facts;
  }
}
