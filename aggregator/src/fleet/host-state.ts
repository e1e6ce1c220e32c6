/**
 * One host as the fleet state holds it: the mutable form of the store's `HostView`. A change is
 * made on a copy (`cloneHost`) that replaces the held object once its writes committed, so a reader
 * holding the previous object never sees half of a change. The one exception is `lastSeen`, which
 * a heartbeat moves forward on the held object at once (it is written with the next batch).
 */
import type { HostView } from '../store/fact-store.js';

export interface HostState extends HostView {
  environment: string | null;
  labels: Record<string, string>;
  enrolledAt: number;
  lastSeq: number;
  lastSeen: number | null;
  agentVersion: string | null;
  fingerprint: string | null;
  fingerprints: Record<string, string>;
  categories: Map<string, string>;
  factsVersion: number;
  meta: unknown;
  retiredAt: number | null;
  retiredBy: string | null;
  /** The host has an initial state: later reports are changes, even after every category was emptied. */
  hasInitialState: boolean;
  /** Paths over all categories: a report that would take the host past the per-host cap is refused. */
  pathCount: number;
  /** sha256 of the current agent token (never the token). */
  tokenHash: string | null;
}

/** A host that was just enrolled and has not reported yet. */
export function newHostState(id: string, at: number): HostState {
  return {
    id,
    environment: null,
    labels: {},
    enrolledAt: at,
    lastSeq: 0,
    lastSeen: at,
    agentVersion: null,
    fingerprint: null,
    fingerprints: {},
    categories: new Map(),
    factsVersion: 0,
    hasInitialState: false,
    pathCount: 0,
    meta: undefined,
    tokenHash: null,
    retiredAt: null,
    retiredBy: null,
  };
}

export function cloneHost(host: HostState): HostState {
  return { ...host, categories: new Map(host.categories) };
}
