/**
 * Several aggregators on one PostgreSQL database, in one process (issue 15 req 3): two real
 * aggregators (own bridges, own cluster sessions, LISTEN/NOTIFY) on a throwaway cluster. A write
 * through one is in the other's memory within the signal's round trip; exceptions and pending
 * enrollments follow; exactly one leads, and the other takes over when it stops.
 */
import type { ReportMessage } from '@envparity/shared';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { usePostgresCluster } from '../../../test/helpers/store-backends.js';
import { type Aggregator, createAggregator } from '../aggregator.js';
import type { RepositoryFactStore } from '../store/repository-fact-store.js';
import { hashToken } from '../token-hash.js';

const postgres = usePostgresCluster();
const FLEET_KEY = 'cluster-test-fleet-key-0123456789abcdef';
const ADMIN = 'cluster-test-admin-token';
const running: Aggregator[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((aggregator) => aggregator.stop()));
});

async function startTwo(url: string): Promise<[Aggregator, Aggregator]> {
  const open = async () => {
    const aggregator = createAggregator({
      postgres: { connectionString: url, cluster: { electionIntervalMs: 200, presenceIntervalMs: 100 } },
      fleetKey: FLEET_KEY,
      adminToken: ADMIN,
      host: '127.0.0.1',
      port: 0,
      promotion: ['staging', 'production'],
      driftDebounceMs: 20,
      driftGroupWindowMs: 0,
      logger: pino({ level: 'warn' }),
    });
    running.push(aggregator);
    await aggregator.start();
    return aggregator;
  };
  const first = await open();
  await until(() => first.cluster?.leading === true, 'the first aggregator to lead');
  return [first, await open()];
}

async function until<T>(probe: () => T | undefined | false, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function report(seq: number, facts: Record<string, string>): ReportMessage {
  const category = Object.keys(facts)[0]?.split('.')[0] ?? 'library';
  return { type: 'report', seq, observedAt: Date.now(), full: { [category]: facts } };
}

async function enroll(aggregator: Aggregator, hostId: string, environment: string): Promise<void> {
  await aggregator.store.enrollHost({
    hostId,
    tokenHash: hashToken(`token-${hostId}`),
    environment,
    labels: {},
    agentVersion: '0.1.0',
    at: Date.now(),
  });
}

describe.skipIf(!postgres.available)('several aggregators on one PostgreSQL database', () => {
  it('shows a host enrolled and reported through one on the other, facts, seq and token alike', async () => {
    const [a, b] = await startTwo(postgres.createDatabase('envparity_cluster'));
    await enroll(a, 'web-1', 'staging');
    await a.store.ingestReport({
      hostId: 'web-1',
      report: report(1, { 'library.npm.left-pad': '1.3.0' }),
      receivedAt: Date.now(),
    });
    const seen = await until(() => b.store.getHostFacts('web-1')?.['library.npm.left-pad'], 'web-1 on the second');
    expect(seen).toBe('1.3.0');
    expect(b.store.getHost('web-1')).toMatchObject({
      lastSeq: 1,
      environment: 'staging',
      fingerprint: a.store.getHost('web-1')?.fingerprint,
    });
    expect(b.store.findHostByTokenHash(hashToken('token-web-1'))).toBe('web-1');

    // A change through the second aggregator reaches the first, and is a recorded change once.
    await b.store.ingestReport({
      hostId: 'web-1',
      report: report(2, { 'library.npm.left-pad': '1.3.1' }),
      receivedAt: Date.now(),
    });
    await until(() => a.store.getHostFacts('web-1')?.['library.npm.left-pad'] === '1.3.1', 'the change on the first');
    expect(a.store.getHost('web-1')?.lastSeq).toBe(2);
    const changes = await a.store.listChanges('web-1', { limit: 100 });
    expect(changes.map(({ seq, path, from, to }) => ({ seq, path, from, to }))).toEqual([
      { seq: 2, path: 'library.npm.left-pad', from: '1.3.0', to: '1.3.1' },
    ]);
    // The same report replayed to the first (an agent that failed over) is a duplicate, not a change.
    const replay = await a.store.ingestReport({
      hostId: 'web-1',
      report: report(2, { 'library.npm.left-pad': '1.3.1' }),
      receivedAt: Date.now(),
    });
    expect(replay).toMatchObject({ applied: false, lastSeq: 2 });
    // The first report's blob stays for the initial state, the second's is the current one: both on both.
    const blobs = (a.store as RepositoryFactStore).sql.get<{ n: number }>('SELECT count(*)::int AS n FROM blobs');
    expect(blobs?.n).toBe(2);
    const hash = b.store.getHost('web-1')?.categories.get('library') as string;
    expect(b.store.getBlob(hash)).toEqual(a.store.getBlob(hash));
  });

  it('carries exceptions and drift to the other aggregator; only the leader writes drift events', async () => {
    const [a, b] = await startTwo(postgres.createDatabase('envparity_cluster'));
    await enroll(a, 'stg-1', 'staging');
    await enroll(b, 'prod-1', 'production');
    await a.store.ingestReport({
      hostId: 'stg-1',
      report: report(1, { 'config.env.LOG_LEVEL': 'debug' }),
      receivedAt: Date.now(),
    });
    await b.store.ingestReport({
      hostId: 'prod-1',
      report: report(1, { 'config.env.LOG_LEVEL': 'info' }),
      receivedAt: Date.now(),
    });
    // The leader (the first) opens the pair event; the follower reads it from the database.
    await until(() => b.store.getHost('stg-1') && a.store.getHost('prod-1'), 'both hosts on both');
    await a.drift.settle();
    const events = await a.store.listDriftEvents({ status: 'open' });
    expect(events.map((event) => event.kind)).toContain('environment');
    await until(
      () =>
        b.drift.openEventCount('staging') ===
          events.filter((e) => e.environment === 'staging' || e.otherEnvironment === 'staging').length || undefined,
      'the follower to read the open events',
    );
    expect(b.drift.leading).toBe(false);

    // An exception made through the follower justifies the difference: the leader resolves the event.
    const response = await b.app.request('/api/v1/exceptions', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        path: 'config.env.LOG_LEVEL',
        environments: ['staging', 'production'],
        reason: 'canary',
        expiresAt: null,
      }),
    });
    expect(response.status).toBe(201);
    await until(() => a.store.listExceptions().length === 1 || undefined, 'the exception on the leader');
    await a.drift.settle();
    expect(
      (await a.store.listDriftEvents({ status: 'open' })).filter((event) => event.path === 'config.env.LOG_LEVEL'),
    ).toEqual([]);
  });

  it('moves leadership to the survivor when the leader stops', async () => {
    const [a, b] = await startTwo(postgres.createDatabase('envparity_cluster'));
    expect([a.cluster?.leading, b.cluster?.leading]).toEqual([true, false]);
    await a.stop();
    running.splice(running.indexOf(a), 1);
    await until(() => b.cluster?.leading === true, 'the survivor to lead');
    expect(b.drift.leading).toBe(true);
  });
});
