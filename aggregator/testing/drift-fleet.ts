/**
 * A small realistic fleet for route and engine tests: agents' reports (full categories with their
 * fingerprints, then deltas) go through `store.ingestReport`, exactly as the agent channel does.
 */
import {
  categoryOf,
  type FactMap,
  type FactValue,
  fingerprintMap,
  groupByCategory,
  type ReportMessage,
} from '@envparity/shared';
import type { PresenceSource } from '../src/drift/drift-engine.js';
import type { FactStore } from '../src/store/fact-store.js';
import { hashToken } from '../src/token-hash.js';

export const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

/** What a Debian app server's agent reports (a subset of every category). */
export function serverFacts(hostname: string, overrides: Record<string, FactValue | undefined> = {}): FactMap {
  const facts: FactMap = {
    'os.platform': 'linux',
    'os.distro.id': 'debian',
    'os.release': '12',
    'os.kernel': '6.1.0-18-amd64',
    'os.arch': 'x64',
    'os.timezone': 'UTC',
    'os.uptime': 86_400 + hostname.length,
    'hardware.cpu.cores': 8,
    'hardware.memory.total': 16_777_216_000,
    'hardware.memory.free': 4_000_000_000 + hostname.length,
    'runtime.node': '20.11.1',
    'runtime.python': '3.11.2',
    'library.openssl': '3.0.13',
    'library.glibc': '2.36',
    'library.dpkg.curl': '7.88.1-10+deb12u5',
    'library.dpkg.libssl3': '3.0.13-1~deb12u1',
    'app./srv/app.npm.express': '4.18.2',
    'config.env.LOG_LEVEL': 'info',
    'config.env.DB_PASSWORD': 'hmac:5b2c1f0a9e',
    'config.sysctl["net.core.somaxconn"]': 4096,
    'network.dns.servers': ['10.0.0.2', '10.0.0.3'],
    'network.interface.eth0.addresses': [`10.1.0.${hostname.length}`],
    'host.hostname': hostname,
    'host.machineId': `machine-${hostname}`,
  };
  for (const [path, value] of Object.entries(overrides)) {
    if (value === undefined) delete facts[path];
    else facts[path] = value;
  }
  return facts;
}

/** A full report of `facts`, with the per-category fingerprints an agent sends. */
export function fullReport(seq: number, observedAt: number, facts: FactMap): ReportMessage {
  const full: Record<string, FactMap> = {};
  const fingerprints: Record<string, string> = {};
  for (const [category, map] of groupByCategory(facts, categoryOf)) {
    full[category] = map;
    fingerprints[category] = fingerprintMap(map);
  }
  return {
    type: 'report',
    seq,
    observedAt,
    full,
    fingerprints,
    meta: { durationMs: 412, collectors: [{ name: 'os', durationMs: 12, facts: 7 }] },
  } as ReportMessage;
}

/** A delta report setting and unsetting paths. */
export function deltaReport(
  seq: number,
  observedAt: number,
  set: Record<string, FactValue>,
  unset: string[] = [],
): ReportMessage {
  const delta: Record<string, { set: FactMap; unset: string[] }> = {};
  const entry = (path: string) => {
    const category = categoryOf(path);
    delta[category] ??= { set: {}, unset: [] };
    return delta[category];
  };
  for (const [path, value] of Object.entries(set)) entry(path).set[path] = value;
  for (const path of unset) entry(path).unset.push(path);
  return { type: 'report', seq, observedAt, delta } as ReportMessage;
}

/** Enrolls a host and stores its first full report. */
export async function addHost(
  store: FactStore,
  hostId: string,
  environment: string,
  facts: FactMap,
  at = T0,
): Promise<void> {
  await store.enrollHost({
    hostId,
    tokenHash: hashToken(`agent-${hostId}`),
    environment,
    labels: { service: 'api' },
    agentVersion: '0.1.0',
    at,
  });
  await store.ingestReport({ hostId, report: fullReport(1, at, facts), receivedAt: at + 5 });
}

/** Applies a delta to a host (seq = its last seq + 1). */
export async function changeHost(
  store: FactStore,
  hostId: string,
  at: number,
  set: Record<string, FactValue>,
  unset: string[] = [],
): Promise<void> {
  const seq = (store.getHost(hostId)?.lastSeq ?? 0) + 1;
  await store.ingestReport({ hostId, report: deltaReport(seq, at, set, unset), receivedAt: at + 5 });
}

/** A presence stand-in: hosts are online when set so, and listeners hear about it. */
export class FakePresence implements PresenceSource {
  readonly #online = new Set<string>();
  readonly #listeners = new Set<(hostId: string, online: boolean) => void>();

  isOnline(hostId: string): boolean {
    return this.#online.has(hostId);
  }

  onPresenceChange(listener: (hostId: string, online: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  set(hostId: string, online: boolean): void {
    if (online === this.#online.has(hostId)) return;
    if (online) this.#online.add(hostId);
    else this.#online.delete(hostId);
    for (const listener of this.#listeners) listener(hostId, online);
  }
}

/**
 * The standard fleet: promotion dev -> staging -> production.
 * - dev-1: openssl 3.0.14 (ahead), LOG_LEVEL debug
 * - stg-1, stg-2: openssl 3.0.13, LOG_LEVEL info
 * - prod-1..3: openssl 3.0.11, 16 cores; prod-3 has LOG_LEVEL warn (an outlier)
 */
export async function seedFleet(store: FactStore): Promise<void> {
  await addHost(
    store,
    'dev-1',
    'dev',
    serverFacts('dev-1', {
      'library.openssl': '3.0.14',
      'config.env.LOG_LEVEL': 'debug',
      'hardware.cpu.cores': 2,
    }),
  );
  for (const id of ['stg-1', 'stg-2']) await addHost(store, id, 'staging', serverFacts(id));
  for (const id of ['prod-1', 'prod-2', 'prod-3']) {
    await addHost(
      store,
      id,
      'production',
      serverFacts(id, {
        'library.openssl': '3.0.11',
        'hardware.cpu.cores': 16,
        ...(id === 'prod-3' ? { 'config.env.LOG_LEVEL': 'warn' } : {}),
      }),
    );
  }
}

export const PROMOTION = ['dev', 'staging', 'production'] as const;
