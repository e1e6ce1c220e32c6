/**
 * The fleet key `verify` and `baseline` hash secrets with, so that a secret compares exactly as
 * the running agents report it. Two sources, never enrollment (which would register this machine
 * as a host): the state dir of an enrolled agent on this machine, else the aggregator's read-only
 * `GET /api/v1/fleet-key` with an API token of scope `verify` (or admin). The key is never printed
 * or logged, and a fetched key is not written anywhere.
 */
import { z } from 'zod';
import { readFleetKey } from '../state-dir.js';
import { type AggregatorTransport, apiBaseUrl, getJson } from './aggregator-client.js';
import { VerifyError } from './verify-error.js';

/** The aggregator route that hands out the fleet key; it registers nothing. */
export const FLEET_KEY_ROUTE = '/api/v1/fleet-key';

const fleetKeyResponseSchema = z.object({ fleetKey: z.string().min(1) });

/** Neither a state dir with a fleet key nor an API token: says what to pass. */
export class NoFleetKeyError extends VerifyError {
  constructor(stateDir: string, why?: string) {
    super(
      `no fleet key${why ? ` (${why})` : ''}: run beside an enrolled agent (--state-dir DIR, now ${stateDir}) or pass --token T or ENVPARITY_TOKEN with a token of scope verify, and --aggregator URL`,
    );
    this.name = 'NoFleetKeyError';
  }
}

/** The fleet key of an enrolled agent's state dir, or undefined when it has none. */
export async function readStateDirFleetKey(stateDir: string): Promise<string | undefined> {
  try {
    return (await readFleetKey(stateDir)) || undefined;
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') return undefined;
    throw new VerifyError(
      `cannot read the fleet key in ${stateDir}: ${code === 'EACCES' ? "permission denied (run as the agent's user)" : (cause as Error).message}`,
      { cause },
    );
  }
}

/** `GET /api/v1/fleet-key` with the token; a 401/403/404 says what is wrong. */
export async function fetchFleetKey(
  aggregator: string,
  token: string,
  transport: AggregatorTransport = {},
): Promise<string> {
  const base = apiBaseUrl(aggregator);
  const { fleetKey } = await getJson(base, FLEET_KEY_ROUTE, token, fleetKeyResponseSchema, {
    transport,
    explain: {
      401: 'the API token is unknown or revoked; pass a valid --token or ENVPARITY_TOKEN',
      403: 'the API token may not read the fleet key: use a token of scope verify (or admin)',
      404: 'this aggregator has no fleet-key route: upgrade it, or check the --aggregator URL',
    },
  });
  return fleetKey;
}

export interface FleetKeySources {
  stateDir: string;
  aggregator?: string | undefined;
  token?: string | undefined;
  /** CA / fingerprint pins and `allowInsecure` for the aggregator call. */
  transport?: AggregatorTransport;
}

export interface ResolvedFleetKey {
  key: string;
  source: 'state-dir' | 'aggregator';
}

/** The state dir's fleet key, else the aggregator's with the token; undefined when neither is possible. */
export async function resolveFleetKey({
  stateDir,
  aggregator,
  token,
  transport = {},
}: FleetKeySources): Promise<ResolvedFleetKey | undefined> {
  const local = await readStateDirFleetKey(stateDir);
  if (local) return { key: local, source: 'state-dir' };
  if (token && aggregator) return { key: await fetchFleetKey(aggregator, token, transport), source: 'aggregator' };
  return undefined;
}
