/**
 * The two sides of a comparison: an environment (its baseline; tied paths are absent from it, as
 * `verify --against` sees it) or one host (all its current facts).
 */
import type { Comparison as FactComparison, FactMap } from '@envparity/shared';
import type { BaselineTie } from '../drift/baseline.js';
import type { EnvironmentState } from '../drift/environment-states.js';
import { NotFoundError } from '../errors.js';
import type { HostView } from '../store/fact-store.js';

/** `host:` in `from`/`to` names a host instead of an environment (environment names cannot hold `:`). */
export const HOST_SIDE_PREFIX = 'host:';

/** A side as asked: `environment` (or `host:ID` in it), or `host`. */
export interface SideRef {
  environment?: string;
  host?: string;
}

export interface CompareSide {
  /** The side as the answer names it: the environment, or `host:ID`. */
  label: string;
  kind: 'environment' | 'host';
  name: string;
  environment: string | null;
  fingerprint: string | null;
  facts: FactMap;
  ties: BaselineTie[];
}

export interface Comparison extends FactComparison {
  from: CompareSide;
  to: CompareSide;
}

export interface SideSources {
  hostOf(id: string): HostView | undefined;
  hostFacts(id: string): FactMap;
  /** A known environment's state (NotFoundError otherwise). */
  environment(name: string): EnvironmentState;
}

export function resolveCompareSide({ environment, host }: SideRef, sources: SideSources): CompareSide {
  const hostId =
    host ?? (environment?.startsWith(HOST_SIDE_PREFIX) ? environment.slice(HOST_SIDE_PREFIX.length) : undefined);
  if (hostId !== undefined) {
    const view = sources.hostOf(hostId);
    if (!view) throw new NotFoundError(`unknown host ${JSON.stringify(hostId)}`);
    return {
      label: `${HOST_SIDE_PREFIX}${hostId}`,
      kind: 'host',
      name: hostId,
      environment: view.environment,
      fingerprint: view.fingerprint,
      facts: sources.hostFacts(hostId),
      ties: [],
    };
  }
  const state = sources.environment(environment as string);
  return {
    label: state.environment,
    kind: 'environment',
    name: state.environment,
    environment: state.environment,
    fingerprint: state.hosts.length > 0 ? state.baseline.fingerprint : null,
    facts: state.baseline.facts,
    ties: state.baseline.ties,
  };
}
