/**
 * The `welcome.need` list: categories whose stored content differs from what the agent believes is
 * acknowledged. A category absent on one side counts as empty, so an agent that lists the empty
 * fingerprint for a category the aggregator does not hold is not asked for it.
 */
import { compareStrings, EMPTY_CATEGORY_HASH } from '@envparity/shared';

export function categoriesNeeded(
  stored: ReadonlyMap<string, string>,
  agent: Readonly<Record<string, string>>,
): string[] {
  const names = new Set([...stored.keys(), ...Object.keys(agent)]);
  const need: string[] = [];
  for (const name of names) {
    if (
      (stored.get(name) ?? EMPTY_CATEGORY_HASH) !==
      ((Object.hasOwn(agent, name) ? agent[name] : undefined) ?? EMPTY_CATEGORY_HASH)
    )
      need.push(name);
  }
  return need.sort(compareStrings);
}
