/**
 * Declared names (`watch.resolve`) resolved like applications resolve them (getaddrinfo via
 * dns.promises.lookup, so /etc/hosts and nsswitch apply) -> `network.resolve.<name>` = sorted
 * unique addresses, or the error code string (`ENOTFOUND`, `EAI_AGAIN`, `ETIMEOUT`...) on failure.
 */
import { promises as dnsPromises, type LookupAddress } from 'node:dns';
import { type FactMap, factPath } from '@envparity/shared';
import { sortAddresses } from './network-ip.js';

export type LookupAll = (name: string) => Promise<LookupAddress[]>;

export const DEFAULT_RESOLVE_TIMEOUT_MS = 5_000;

const defaultLookup: LookupAll = (name) => dnsPromises.lookup(name, { all: true, verbatim: true });

export interface ResolveOptions {
  lookup?: LookupAll;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Resolves one name; never throws. getaddrinfo cannot be cancelled, so a timeout just stops waiting. */
export async function resolveName(
  name: string,
  { lookup = defaultLookup, timeoutMs = DEFAULT_RESOLVE_TIMEOUT_MS, signal }: ResolveOptions = {},
): Promise<string[] | string> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('ETIMEOUT'), timeoutMs);
    onAbort = () => resolve('ECANCELLED');
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  const attempt = lookup(name).then(
    (addresses) => sortAddresses(addresses.map((a) => a.address)),
    (error: unknown) => {
      const code = (error as NodeJS.ErrnoException | undefined)?.code;
      return typeof code === 'string' ? code : 'ERROR';
    },
  );
  try {
    return await Promise.race([attempt, deadline]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

export async function collectResolveFacts(names: readonly string[], options: ResolveOptions = {}): Promise<FactMap> {
  const unique = [...new Set(names)];
  const results = await Promise.all(unique.map((name) => resolveName(name, options)));
  const facts: FactMap = {};
  unique.forEach((name, index) => {
    facts[factPath('network', 'resolve', name)] = results[index] as string[] | string;
  });
  return facts;
}
