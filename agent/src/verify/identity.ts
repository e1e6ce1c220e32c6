/**
 * Who `verify` and `baseline` report as. A report run beside `run --host-id staging-1` must name
 * `staging-1`, not the machine id, and judge exceptions with the daemon's environment. Order:
 * the command's flags, then the config file, then what the daemon recorded in the same state dir
 * (`identity.json`), then the default host id (hostname + machine id hash).
 */
import { type AgentConfig, validateAgentConfig } from '@envparity/shared';
import { loadAgentIdentity, StateFileError } from '../daemon/state-store.js';
import { defaultHostId } from '../host-id.js';
import { hostFsFor } from '../host-root.js';
import { VerifyError } from './verify-error.js';

export interface IdentityFlags {
  hostId?: string;
  environment?: string;
}

export interface ResolvedIdentity {
  /** The config with hostId and environment filled in (validated, so a bad flag names its key). */
  config: AgentConfig & { hostId: string };
  hostId: string;
  environment?: string;
  /** Where the host id came from, for messages and tests. */
  source: 'flag' | 'config' | 'state-dir' | 'default';
}

/** Merges the identity flags into the config, filling gaps from the daemon's record in `stateDir`. */
export async function resolveIdentity(
  config: AgentConfig,
  flags: IdentityFlags,
  stateDir: string,
): Promise<ResolvedIdentity> {
  let recorded: Awaited<ReturnType<typeof loadAgentIdentity>>;
  try {
    recorded = await loadAgentIdentity(stateDir);
  } catch (cause) {
    if (cause instanceof StateFileError) throw new VerifyError(`bad agent identity file: ${cause.message}`, { cause });
    const code = (cause as NodeJS.ErrnoException).code;
    if (code !== 'EACCES') throw cause;
    recorded = undefined;
  }
  const source: ResolvedIdentity['source'] =
    flags.hostId !== undefined ? 'flag' : config.hostId ? 'config' : recorded ? 'state-dir' : 'default';
  const hostId = flags.hostId ?? config.hostId ?? recorded?.hostId ?? (await defaultHostId(hostFsFor(config)));
  const environment = flags.environment ?? config.environment ?? recorded?.environment;
  const merged = validateAgentConfig(
    { ...config, hostId, ...(environment !== undefined ? { environment } : {}) },
    'flags',
  ) as AgentConfig & { hostId: string };
  return {
    config: merged,
    hostId: merged.hostId,
    ...(merged.environment ? { environment: merged.environment } : {}),
    source,
  };
}
