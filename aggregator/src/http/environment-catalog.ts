/**
 * Which environments the API knows: every one a host has declared, plus those the config declares
 * ahead of any host (`promotion` and `environments:`). Declared environments are listed with 0 hosts
 * and can be named by exceptions and audits before a host reports them. They are not handed to the
 * drift engine's history questions (an upstream no host ever declared is still "never had it").
 */
import { compareStrings } from '@envparity/shared';

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
