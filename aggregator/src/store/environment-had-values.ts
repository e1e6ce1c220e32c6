/**
 * "Did a host of this environment ever hold `path` = `value`" for many values at once, from the
 * change history (indexed by environment, path and value) and then the category blobs the
 * environment's hosts started with, each blob read once for every value still unanswered.
 * Emergency detection and promotion ask it (FactStore.environmentHadValue(s)).
 */
import { categoryOf, type FactMap, type FactValue, ownValue } from '@envparity/shared';
import type { ChangeHistoryRepository } from './change-history-repository.js';
import type { HostFactsRepository } from './host-facts-repository.js';

export interface EnvironmentHadValuesDeps {
  changes: Pick<ChangeHistoryRepository, 'changedTo'>;
  hostFacts: Pick<HostFactsRepository, 'initialBlobHashes' | 'blobFacts'>;
  /** A blob held in memory (the fleet state), before reading it from the database. */
  blobInMemory: (hash: string) => Readonly<FactMap> | undefined;
}

export function environmentHadValues(
  { changes, hostFacts, blobInMemory }: EnvironmentHadValuesDeps,
  environment: string,
  values: readonly { path: string; value: FactValue }[],
): boolean[] {
  const answers = values.map(({ path, value }) => changes.changedTo(environment, path, value));
  // The values left, by category: only that category's initial blobs can hold them.
  const open = new Map<string, number[]>();
  values.forEach(({ path }, index) => {
    if (answers[index]) return;
    let category: string;
    try {
      category = categoryOf(path);
    } catch {
      return;
    }
    const indexes = open.get(category);
    if (indexes) indexes.push(index);
    else open.set(category, [index]);
  });
  const json = values.map(({ value }) => JSON.stringify(value));
  for (const [category, indexes] of open) {
    let left = indexes;
    for (const hash of hostFacts.initialBlobHashes(environment, category)) {
      const facts = blobInMemory(hash) ?? hostFacts.blobFacts(hash);
      left = left.filter((index) => {
        const held = ownValue(facts, (values[index] as { path: string }).path);
        const had = held !== undefined && JSON.stringify(held) === json[index];
        if (had) answers[index] = true;
        return !had;
      });
      if (left.length === 0) break;
    }
  }
  return answers;
}
