/**
 * Whether the agent shares one of the host's namespaces, in host mode: the host's PID 1 namespace
 * link (`<root>/proc/1/ns/<kind>`, readable when the host's /proc is mounted under the root) against
 * the agent's own (`/proc/self/ns/<kind>`, the one place that reads the agent's own /proc: it is
 * the agent, not the host, being described). Sharing the network namespace (`hostNetwork`) makes
 * node:os's interfaces and /proc/net the host's; sharing UTS makes os.hostname() the host's name.
 */
import { readlink } from 'node:fs/promises';
import type { HostFs } from './host-fs.js';

export type NamespaceKind = 'net' | 'uts' | 'pid';

/** The agent's own namespace link, e.g. `net:[4026531840]`. */
function ownNamespace(kind: NamespaceKind): Promise<string | undefined> {
  return readlink(`/proc/self/ns/${kind}`).catch(() => undefined);
}

/** True when the agent and the host's PID 1 are in the same namespace; false when unknown or different. */
export async function sharesHostNamespace(host: HostFs, kind: NamespaceKind): Promise<boolean> {
  if (!host.hostMode) return true;
  const [theirs, ours] = await Promise.all([readNamespaceLink(host, kind), ownNamespace(kind)]);
  return theirs !== undefined && theirs === ours;
}

/** The host PID 1's namespace link target, read without following it. */
function readNamespaceLink(host: HostFs, kind: NamespaceKind): Promise<string | undefined> {
  return host.readLink(`/proc/1/ns/${kind}`);
}
