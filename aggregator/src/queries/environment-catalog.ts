/**
 * Which environments the API knows: every one a host has declared, plus those the config declares
 * ahead of any host (`promotion` and `environments:`). Declared environments are listed with 0 hosts
 * and can be named by exceptions and audits before a host reports them. They are not handed to the
 * drift engine's history questions (an upstream no host ever declared is still "never had it").
 */
import { compareStrings } from '@envparity/shared';
import { NotFoundError } from '../errors.js';

export interface EnvironmentCatalog {
  /** Known environments, sorted by name. */
  environments(): string[];
}

export function createEnvironmentCatalog(
  reported: { environments(): string[] },
  declared: readonly string[] = [],
): EnvironmentCatalog {
  if (declared.length === 0) return { environments: () => reported.environments() };
  return {
    environments: () => [...new Set([...reported.environments(), ...declared])].sort(compareStrings),
  };
}

/** "unknown environment ...": what is known, and how to declare one ahead of its hosts. */
export function unknownEnvironmentMessage(known: EnvironmentCatalog, name: string): string {
  const names = known.environments();
  return (
    `unknown environment ${JSON.stringify(name)}: no host has reported it and the aggregator config does not ` +
    `declare it (\`environments:\`)${names.length > 0 ? `; known: ${names.join(', ')}` : ''}`
  );
}

/** The name, when some host has ever declared the environment or the config declares it; else NotFoundError. */
export function knownEnvironmentOr404(known: EnvironmentCatalog, name: string): string {
  if (!known.environments().includes(name)) throw new NotFoundError(unknownEnvironmentMessage(known, name));
  return name;
}

/** Promotion order first (upstream to downstream), then the others by name. */
export function sortEnvironments(names: readonly string[], promotion: readonly string[]): string[] {
  const rank = (name: string) => {
    const index = promotion.indexOf(name);
    return index === -1 ? promotion.length : index;
  };
  return [...names].sort((a, b) => rank(a) - rank(b) || compareStrings(a, b));
}
