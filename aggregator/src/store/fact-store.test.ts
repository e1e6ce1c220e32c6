/**
 * The fact store's behaviour on both backends: the SQLite file and a PostgreSQL database
 * (test/helpers/store-backends.ts).
 */
import { type FactMap, fingerprintMap, type ReportMessage } from '@envparity/shared';
import { describe, expect, it } from 'vitest';
import { useStoreBackends } from '../../../test/helpers/store-backends.js';
import { hashToken } from '../token-hash.js';
import type { StoreEvent } from './fact-store.js';
import type { RepositoryFactStore } from './repository-fact-store.js';
import type { SqliteFactStore } from './sqlite-fact-store.js';

const T0 = Date.UTC(2025, 0, 1);
const OS: FactMap = { 'os.distro.id': 'debian', 'os.release': '12', 'os.uptime': 100 };
const LIBRARY: FactMap = { 'library.dpkg.openssl': '3.0.11', 'library.dpkg.libc6': '2.36' };
const BACKENDS = useStoreBackends();

async function enroll(store: RepositoryFactStore, hostId: string, environment = 'staging', token = `token-${hostId}`) {
  return store.enrollHost({
    hostId,
    tokenHash: hashToken(token),
    environment,
    labels: { service: 'api' },
    agentVersion: '0.1.0',
    at: T0,
  });
}

function report(seq: number, observedAt: number, body: Partial<ReportMessage>): ReportMessage {
  return { type: 'report', seq, observedAt, ...body };
}

/** Blobs stored once unused ones are collected (at once on SQLite, at the collection on PostgreSQL). */
function blobCount(store: RepositoryFactStore): number {
  store.collectUnusedBlobs(0);
  return store.sql.get<{ n: number }>('SELECT count(*) AS n FROM blobs')?.n ?? 0;
}

describe.each(BACKENDS)('fact store (%s)', (backendName, backend) => {
  const open = (location?: string) => backend.open(location);
  const tempDb = () => backend.newLocation();

  it('a report whose history write fails leaves the host as it was; the next one records the change from there', async () => {
    const store = open();
    await enroll(store, 'web-1');
    await store.ingestReport({
      hostId: 'web-1',
      report: report(1, T0, { full: { library: LIBRARY } }),
      receivedAt: T0,
    });
    // The database refuses one change row, as a deadlock or a full disk would fail it mid-batch.
    if (backendName === 'postgres') {
      store.sql.run(`CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.path = 'library.dpkg.openssl' AND NEW.seq = 2 THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$`);
      store.sql.run(
        'CREATE TRIGGER refuse_change BEFORE INSERT ON changes FOR EACH ROW EXECUTE FUNCTION refuse_change()',
      );
    } else {
      store.sql.run(`CREATE TRIGGER refuse_change BEFORE INSERT ON changes
        WHEN NEW.path = 'library.dpkg.openssl' AND NEW.seq = 2 BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    }
    const upgrade = (seq: number, version: string) =>
      store.ingestReport({
        hostId: 'web-1',
        report: report(seq, T0 + seq, { delta: { library: { set: { 'library.dpkg.openssl': version }, unset: [] } } }),
        receivedAt: T0 + seq,
      });
    await expect(upgrade(2, '3.0.13')).rejects.toThrow(/refused/);
    expect(store.getHost('web-1')?.lastSeq).toBe(1);
    expect(store.getHostFacts('web-1')?.['library.dpkg.openssl']).toBe('3.0.11');
    expect(await upgrade(3, '3.0.13')).toMatchObject({ applied: true, lastSeq: 3 });
    const changes = await store.listChanges('web-1', { limit: 10 });
    expect(changes.map(({ seq, from, to }) => ({ seq, from, to }))).toEqual([{ seq: 3, from: '3.0.11', to: '3.0.13' }]);
  });

  it('enrolls hosts and finds them by token hash', async () => {
    const store = open();
    expect(await enroll(store, 'web-1')).toEqual({ reenrolled: false });
    expect(store.findHostByTokenHash(hashToken('token-web-1'))).toBe('web-1');
    expect(store.findHostByTokenHash(hashToken('nope'))).toBeUndefined();
    const host = store.getHost('web-1');
    expect(host).toMatchObject({ id: 'web-1', environment: 'staging', labels: { service: 'api' }, lastSeq: 0 });
    expect(host?.fingerprint).toBeNull();
    // Only the hash is stored.
    const row = store.sql.get<{ token_hash: string }>('SELECT token_hash FROM hosts') as { token_hash: string };
    expect(row.token_hash).toBe(hashToken('token-web-1'));
  });

  it('applies full and delta reports and records per-path changes at the observed time', async () => {
    const store = open();
    await enroll(store, 'web-1');
    const first = await store.ingestReport({
      hostId: 'web-1',
      report: report(1, T0 + 1000, { full: { os: OS, library: LIBRARY } }),
      receivedAt: T0 + 5000,
    });
    expect(first).toMatchObject({ seq: 1, applied: true, lastSeq: 1, resync: [] });
    expect(store.getHostFacts('web-1')).toEqual({ ...OS, ...LIBRARY });
    const host = store.getHost('web-1');
    expect(host?.categories.get('library')).toBe(fingerprintMap(LIBRARY));
    expect(host?.fingerprint).toMatch(/^ep1:/);
    expect(Object.keys(host?.fingerprints ?? {}).sort()).toEqual(['library', 'os']);
    expect(host?.lastSeen).toBe(T0 + 5000);

    const second = await store.ingestReport({
      hostId: 'web-1',
      report: report(2, T0 + 2000, {
        delta: {
          library: {
            set: { 'library.dpkg.openssl': '3.0.13', 'library.dpkg.curl': '7.88' },
            unset: ['library.dpkg.libc6'],
          },
        },
      }),
      receivedAt: T0 + 6000,
    });
    expect(second.applied).toBe(true);
    expect(second.changes).toBe(3);
    expect(store.getHostFacts('web-1')).toMatchObject({
      'library.dpkg.openssl': '3.0.13',
      'library.dpkg.curl': '7.88',
    });
    expect(store.getHostFacts('web-1')).not.toHaveProperty(['library.dpkg.libc6']);

    const changes = await store.listChanges('web-1', { since: T0 + 1500, limit: 100 });
    expect(changes).toEqual([
      { hostId: 'web-1', seq: 2, at: T0 + 2000, path: 'library.dpkg.curl', to: '7.88' },
      { hostId: 'web-1', seq: 2, at: T0 + 2000, path: 'library.dpkg.libc6', from: '2.36' },
      { hostId: 'web-1', seq: 2, at: T0 + 2000, path: 'library.dpkg.openssl', from: '3.0.11', to: '3.0.13' },
    ]);
    // The first report is the host's initial state, not a list of additions: history starts after it,
    // and the initial state is one row per category pointing at the category's blob.
    const all = await store.listChanges('web-1', { limit: 100 });
    expect(all.map((c) => c.seq)).toEqual([2, 2, 2]);
    const initial = store.sql.all(
      'SELECT seq, at, environment, category, blob_hash AS hash FROM initial_states ORDER BY category',
    );
    expect(initial).toEqual([
      { seq: 1, at: T0 + 1000, environment: 'staging', category: 'library', hash: fingerprintMap(LIBRARY) },
      { seq: 1, at: T0 + 1000, environment: 'staging', category: 'os', hash: fingerprintMap(OS) },
    ]);
  });

  it('records a full report that replaces a category of a known host as per-path changes', async () => {
    const store = open();
    await enroll(store, 'web-1');
    const first = await store.ingestReport({
      hostId: 'web-1',
      report: report(1, T0, { full: { library: LIBRARY } }),
      receivedAt: T0,
    });
    expect(first.changes).toBe(0);
    // A category the host did not have yet, and a replaced one: both are changes now.
    const second = await store.ingestReport({
      hostId: 'web-1',
      report: report(2, T0 + 1, {
        full: { os: OS, library: { 'library.dpkg.openssl': '3.0.13', 'library.dpkg.libc6': '2.36' } },
      }),
      receivedAt: T0 + 1,
    });
    expect(second.changes).toBe(3);
    const changes = await store.listChanges('web-1', { limit: 100 });
    expect(changes.map((c) => [c.path, c.from, c.to])).toEqual([
      ['library.dpkg.openssl', '3.0.11', '3.0.13'],
      ['os.distro.id', undefined, 'debian'],
      ['os.release', undefined, '12'],
    ]);
  });

  it('is idempotent by (host, seq): a replay is acknowledged and not applied again', async () => {
    const store = open();
    await enroll(store, 'web-1');
    const body = { full: { library: LIBRARY } };
    await store.ingestReport({ hostId: 'web-1', report: report(3, T0, body), receivedAt: T0 });
    const replay = await store.ingestReport({
      hostId: 'web-1',
      report: report(3, T0 + 10, { full: { library: { 'library.dpkg.x': '1' } } }),
      receivedAt: T0 + 10,
    });
    expect(replay).toEqual({ seq: 3, applied: false, lastSeq: 3, resync: [], changes: 0 });
    const older = await store.ingestReport({ hostId: 'web-1', report: report(2, T0, body), receivedAt: T0 });
    expect(older.applied).toBe(false);
    expect(store.getHostFacts('web-1')).toEqual(LIBRARY);
    // The first report is the initial state: no change rows, one initial-state row.
    expect(await store.listChanges('web-1', { limit: 100 })).toHaveLength(0);
    expect(store.sql.get('SELECT count(*) AS n FROM initial_states')).toEqual({ n: 1 });
  });

  it('stores identical categories of different hosts once, and drops blobs neither a host nor an initial state references', async () => {
    const store = open();
    await enroll(store, 'web-1');
    await enroll(store, 'web-2', 'production');
    await Promise.all([
      store.ingestReport({ hostId: 'web-1', report: report(1, T0, { full: { library: LIBRARY } }), receivedAt: T0 }),
      store.ingestReport({ hostId: 'web-2', report: report(1, T0, { full: { library: LIBRARY } }), receivedAt: T0 }),
    ]);
    expect(blobCount(store)).toBe(1);
    const hash = store.getHost('web-1')?.categories.get('library') as string;
    expect(store.getHost('web-2')?.categories.get('library')).toBe(hash);
    expect(store.getBlob(hash)).toEqual(LIBRARY);
    expect(Object.isFrozen(store.getBlob(hash))).toBe(true);

    const upgraded = { ...LIBRARY, 'library.dpkg.openssl': '3.0.13' };
    await store.ingestReport({
      hostId: 'web-1',
      report: report(2, T0, { full: { library: upgraded } }),
      receivedAt: T0,
    });
    expect(blobCount(store)).toBe(2);
    await store.ingestReport({
      hostId: 'web-2',
      report: report(2, T0, { full: { library: upgraded } }),
      receivedAt: T0,
    });
    // No host holds the first blob any more: it leaves the cache but stays stored, as the initial state.
    expect(blobCount(store)).toBe(2);
    expect(store.getBlob(hash)).toBeUndefined();
    const again = { ...upgraded, 'library.dpkg.openssl': '3.0.14' };
    for (const hostId of ['web-1', 'web-2']) {
      await store.ingestReport({ hostId, report: report(3, T0, { full: { library: again } }), receivedAt: T0 });
    }
    // The intermediate blob was nobody's initial state: dropped.
    expect(blobCount(store)).toBe(2);
    expect(store.getBlob(fingerprintMap(upgraded))).toBeUndefined();
    expect(await store.integrityCheck()).toBe('ok');
  });

  it('takes a stored blob for a full category only when its facts are the ones sent, whatever fingerprint the agent claims', async () => {
    const store = open();
    await enroll(store, 'web-1');
    await enroll(store, 'web-2');
    await enroll(store, 'web-3');
    const claimed = fingerprintMap(LIBRARY);
    await store.ingestReport({
      hostId: 'web-1',
      report: report(1, T0, { full: { library: LIBRARY }, fingerprints: { library: claimed } }),
      receivedAt: T0,
    });
    // Same facts, other key order: the stored blob, shared.
    const reordered = Object.fromEntries(Object.entries(LIBRARY).reverse());
    await store.ingestReport({
      hostId: 'web-2',
      report: report(1, T0, { full: { library: reordered }, fingerprints: { library: claimed } }),
      receivedAt: T0,
    });
    expect(store.getHost('web-2')?.categories.get('library')).toBe(claimed);
    expect(blobCount(store)).toBe(1);
    // Other facts under the same claim: hashed and stored as sent, and the claim is answered with a resync.
    const other = { ...LIBRARY, 'library.dpkg.openssl': '9.9.9' };
    const result = await store.ingestReport({
      hostId: 'web-3',
      report: report(1, T0, { full: { library: other }, fingerprints: { library: claimed } }),
      receivedAt: T0,
    });
    expect(store.getHost('web-3')?.categories.get('library')).toBe(fingerprintMap(other));
    expect(store.getHostFacts('web-3')?.['library.dpkg.openssl']).toBe('9.9.9');
    expect(result.resync).toEqual(['library']);
    expect(blobCount(store)).toBe(2);
    expect(await store.integrityCheck()).toBe('ok');
  });

  it('asks for a resync of categories whose fingerprint does not match after applying', async () => {
    const store = open();
    await enroll(store, 'web-1');
    await store.ingestReport({
      hostId: 'web-1',
      report: report(1, T0, { full: { library: LIBRARY } }),
      receivedAt: T0,
    });
    const result = await store.ingestReport({
      hostId: 'web-1',
      report: report(2, T0, {
        delta: { library: { set: { 'library.dpkg.curl': '7.88' }, unset: [] } },
        // The agent's category also holds a package this aggregator never heard of.
        fingerprints: {
          library: fingerprintMap({ ...LIBRARY, 'library.dpkg.curl': '7.88', 'library.dpkg.zlib': '1.2' }),
          os: fingerprintMap({}),
        },
      }),
      receivedAt: T0,
    });
    expect(result.applied).toBe(true);
    expect(result.resync).toEqual(['library']);
  });

  it('removes a category sent full and empty', async () => {
    const store = open();
    await enroll(store, 'web-1');
    await store.ingestReport({
      hostId: 'web-1',
      report: report(1, T0, { full: { os: OS, library: LIBRARY } }),
      receivedAt: T0,
    });
    await store.ingestReport({ hostId: 'web-1', report: report(2, T0 + 1, { full: { library: {} } }), receivedAt: T0 });
    expect([...(store.getHost('web-1')?.categories.keys() ?? [])]).toEqual(['os']);
    // The library blob is kept as part of the host's initial state.
    expect(blobCount(store)).toBe(2);
    expect(store.getBlob(fingerprintMap(LIBRARY))).toBeUndefined();
    const removed = await store.listChanges('web-1', { since: T0 + 1, limit: 10 });
    expect(removed.map((c) => [c.path, c.from, c.to])).toEqual([
      ['library.dpkg.libc6', '2.36', undefined],
      ['library.dpkg.openssl', '3.0.11', undefined],
    ]);
  });

  it('an enrollment whose audit entry cannot be written fails whole, naming the host', async () => {
    const store = open();
    // A trigger stands for a full disk: the audit insert fails inside the enrollment's savepoint.
    const restore = backend.failAuditInserts(store);
    await expect(enroll(store, 'web-9')).rejects.toMatchObject({
      code: 'STORE_FAILED',
      message: expect.stringMatching(/^cannot enroll host web-9: .*disk full/),
    });
    expect(store.getHost('web-9')).toBeUndefined();
    expect(store.sql.get('SELECT COUNT(*) AS n FROM hosts')).toEqual({ n: 0 });
    restore();
    await enroll(store, 'web-9');
    expect(store.getHost('web-9')?.id).toBe('web-9');
  });

  it('commits a batch together and rejects only the report that fails', async () => {
    const store = open();
    await enroll(store, 'web-1');
    const results = await Promise.allSettled([
      store.ingestReport({ hostId: 'web-1', report: report(1, T0, { full: { os: OS } }), receivedAt: T0 }),
      store.ingestReport({ hostId: 'ghost', report: report(1, T0, { full: { os: OS } }), receivedAt: T0 }),
      store.ingestReport({
        hostId: 'web-1',
        report: report(2, T0, { full: { os: { 'library.dpkg.x': '1' } } }),
        receivedAt: T0,
      }),
      store.ingestReport({ hostId: 'web-1', report: report(3, T0, { full: { library: LIBRARY } }), receivedAt: T0 }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(store.getHost('web-1')?.lastSeq).toBe(3);
    expect(store.getHostFacts('web-1')).toEqual({ ...OS, ...LIBRARY });
  });

  it('refuses a report that would take a host past its path cap across deltas, keeping what it had (also after reopen)', async () => {
    const path = tempDb();
    const capped = () => {
      return backend.open(path, { maxHostPaths: 6 });
    };
    const store = capped();
    await enroll(store, 'web-1');
    await store.ingestReport({ hostId: 'web-1', report: report(1, T0, { full: { os: OS } }), receivedAt: T0 });
    // Each delta is small; together they would make 3 + 2 + 2 = 7 paths.
    await store.ingestReport({
      hostId: 'web-1',
      report: report(2, T0, { delta: { library: { set: LIBRARY, unset: [] } } }),
      receivedAt: T0,
    });
    const over = store.ingestReport({
      hostId: 'web-1',
      report: report(3, T0, {
        delta: { runtime: { set: { 'runtime.node': '20', 'runtime.python': '3' }, unset: [] } },
      }),
      receivedAt: T0,
    });
    await expect(over).rejects.toMatchObject({
      code: 'REPORT_REJECTED',
      message: 'report 3 rejected: the host would hold 7 paths, over the 6-path limit per host',
    });
    expect(store.getHostFacts('web-1')).toEqual({ ...OS, ...LIBRARY });
    expect(store.getHost('web-1')?.lastSeq).toBe(2);
    // Shrinking and replacing within the cap still works; the count survives a reopen.
    await store.ingestReport({
      hostId: 'web-1',
      report: report(4, T0, {
        delta: { os: { set: {}, unset: ['os.uptime'] }, runtime: { set: { 'runtime.node': '20' }, unset: [] } },
      }),
      receivedAt: T0,
    });
    await store.close();
    const reopened = capped();
    await expect(
      reopened.ingestReport({
        hostId: 'web-1',
        report: report(5, T0, {
          delta: { runtime: { set: { 'runtime.python': '3', 'runtime.ruby': '3.3' }, unset: [] } },
        }),
        receivedAt: T0,
      }),
    ).rejects.toMatchObject({ code: 'REPORT_REJECTED' });
    expect(Object.keys(reopened.getHostFacts('web-1') ?? {})).toHaveLength(5);
  });

  it('splits a burst over several transactions when the time budget is spent, keeping order', async () => {
    const store = backend.open(undefined, { flushBudgetMs: 0 });
    await enroll(store, 'web-1');
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map((seq) =>
        store.ingestReport({
          hostId: 'web-1',
          report: report(seq, T0 + seq, { delta: { library: { set: { 'library.dpkg.n': String(seq) }, unset: [] } } }),
          receivedAt: T0,
        }),
      ),
    );
    expect(results.map((r) => [r.seq, r.applied])).toEqual([1, 2, 3, 4, 5].map((seq) => [seq, true]));
    expect(store.getHostFacts('web-1')).toEqual({ 'library.dpkg.n': '5' });
    // Report 1 is the initial state; 2 to 5 are changes.
    expect((await store.listChanges('web-1', { limit: 10 })).map((c) => c.seq)).toEqual([2, 3, 4, 5]);
  });

  it('re-enrollment revokes the old token and restarts seq numbering, keeping the facts', async () => {
    const store = open();
    await enroll(store, 'web-1', 'staging', 'old-token');
    await store.ingestReport({
      hostId: 'web-1',
      report: report(7, T0, { full: { library: LIBRARY } }),
      receivedAt: T0,
    });
    expect(await enroll(store, 'web-1', 'staging', 'new-token')).toEqual({ reenrolled: true });
    expect(store.findHostByTokenHash(hashToken('old-token'))).toBeUndefined();
    expect(store.findHostByTokenHash(hashToken('new-token'))).toBe('web-1');
    expect(store.getHost('web-1')?.lastSeq).toBe(0);
    expect(store.getHostFacts('web-1')).toEqual(LIBRARY);
    const fresh = await store.ingestReport({
      hostId: 'web-1',
      report: report(1, T0, { full: { os: OS } }),
      receivedAt: T0,
    });
    expect(fresh.applied).toBe(true);
  });

  it('emits events after commit', async () => {
    const store = open();
    const events: StoreEvent[] = [];
    store.subscribe((event) => events.push(event));
    await enroll(store, 'web-1');
    await store.ingestReport({
      hostId: 'web-1',
      report: report(1, T0, { full: { library: LIBRARY } }),
      receivedAt: T0,
    });
    await store.ingestReport({
      hostId: 'web-1',
      report: report(2, T0, { full: { library: LIBRARY } }),
      receivedAt: T0,
    });
    expect(events.map((e) => e.type)).toEqual(['host-enrolled', 'facts-changed']);
    expect(events[1]).toMatchObject({ hostId: 'web-1', seq: 1, categories: ['library'] });
  });

  it('coalesces last-seen updates and writes them with the next batch', async () => {
    const store = open();
    await enroll(store, 'web-1');
    store.touchHost('web-1', T0 + 10);
    store.touchHost('web-1', T0 + 20);
    expect(store.getHost('web-1')?.lastSeen).toBe(T0 + 20);
    await store.flush();
    const row = store.sql.get<{ last_seen: number }>('SELECT last_seen FROM hosts') as { last_seen: number };
    expect(row.last_seen).toBe(T0 + 20);
  });

  it('persists (a SQLite file in WAL mode) and reloads its cache on reopen', async () => {
    const path = tempDb();
    const first = open(path);
    if (backendName === 'sqlite')
      expect((first as SqliteFactStore).db.pragma('journal_mode', { simple: true })).toBe('wal');
    await enroll(first, 'web-1');
    await enroll(first, 'web-2');
    for (const hostId of ['web-1', 'web-2']) {
      await first.ingestReport({
        hostId,
        report: report(4, T0, { full: { os: OS, library: LIBRARY } }),
        receivedAt: T0,
      });
    }
    const before = first.getHost('web-1');
    expect(first.sizeBytes()).toBeGreaterThan(0);
    await first.close();

    const second = open(path);
    expect(second.getHost('web-1')).toMatchObject({
      lastSeq: 4,
      fingerprint: before?.fingerprint,
      fingerprints: before?.fingerprints,
    });
    expect(second.getHostFacts('web-2')).toEqual({ ...OS, ...LIBRARY });
    expect(second.findHostByTokenHash(hashToken('token-web-2'))).toBe('web-2');
    // Shared blobs are shared objects in memory too.
    const hash = second.getHost('web-1')?.categories.get('library') as string;
    expect(second.getHost('web-2')?.categories.get('library')).toBe(hash);
    expect(blobCount(second)).toBe(2);
    expect(await second.integrityCheck()).toBe('ok');
  });

  it('keeps API tokens as hashes and honours revocation', async () => {
    const store = open();
    const created = await store.createApiToken({ name: 'ci', scope: 'read', tokenHash: hashToken('t1'), at: T0 });
    expect(await store.findApiToken(hashToken('t1'))).toMatchObject({ id: created.id, scope: 'read' });
    expect(await store.revokeApiToken(created.id, T0 + 1)).toBe(true);
    expect(await store.findApiToken(hashToken('t1'))).toBeUndefined();
    expect((await store.listApiTokens())[0]).toMatchObject({ name: 'ci', revokedAt: T0 + 1 });
  });

  it('fails writes after close', async () => {
    const store = open();
    await store.close();
    await expect(
      store.ingestReport({ hostId: 'x', report: report(1, T0, { full: { os: OS } }), receivedAt: T0 }),
    ).rejects.toMatchObject({ code: 'STORE_CLOSED' });
  });
});
