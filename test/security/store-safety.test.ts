/**
 * Issue 10, requirement 8 (store safety), against the BUILT aggregator bin as a real process on
 * 127.0.0.1 with a real SQLite file: SIGKILL after acknowledged writes, then garbage in the
 * write-ahead log, then a restart. The review found "garbage in the WAL after a kill -9 started the
 * aggregator with 0 hosts and no warning": now it either recovers everything or says loudly (an
 * error line and `envparity_store_hosts_missing`) how many hosts it lost; a damaged database file
 * is refused at start with exit code 1.
 */
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { decodeServerMessage, encodeMessage, type ServerMessage } from '@envparity/shared';
import type BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  AGGREGATOR_BIN,
  type AggregatorHandle,
  cleanupProcesses,
  integrityCheck,
  REPO_ROOT,
  spawnManaged,
  startAggregator,
  TEST_ADMIN_TOKEN,
  TEST_ENROLL_SECRET,
  waitFor,
} from '../helpers/index.js';

afterEach(() => cleanupProcesses());

const HOSTS = 12;
const Database = createRequire(join(REPO_ROOT, 'aggregator/package.json'))('better-sqlite3') as typeof BetterSqlite3;

/** One agent's life in a few frames: enroll, hello, a full report, its ack. */
async function enrollAndReport(wsUrl: string, hostId: string): Promise<void> {
  const ws = new WebSocket(wsUrl);
  const inbox: ServerMessage[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data) => {
    inbox.push(decodeServerMessage(data as Buffer));
    for (const wake of waiters.splice(0)) wake();
  });
  const closed = new Promise<string>((resolve) => ws.on('close', (code, reason) => resolve(`${code} ${reason}`)));
  const next = async <T extends ServerMessage['type']>(type: T): Promise<Extract<ServerMessage, { type: T }>> => {
    for (;;) {
      const index = inbox.findIndex((message) => message.type === type);
      if (index >= 0) return inbox.splice(index, 1)[0] as Extract<ServerMessage, { type: T }>;
      const woke = new Promise<void>((resolve) => waiters.push(resolve));
      const reason = await Promise.race([woke.then(() => undefined), closed]);
      if (reason !== undefined) throw new Error(`${hostId}: socket closed (${reason}) while waiting for ${type}`);
    }
  };
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const identity = { hostId, environment: 'production', labels: { role: 'web' }, agentVersion: '0.1.0-security' };
  ws.send(encodeMessage({ type: 'enroll', v: 1, enrollSecret: TEST_ENROLL_SECRET, ...identity }));
  const { token } = await next('enrolled');
  ws.send(encodeMessage({ type: 'hello', v: 1, token, ...identity, lastAckedSeq: 0, fingerprints: {} }));
  await next('welcome');
  const observedAt = Date.now();
  ws.send(
    encodeMessage({
      type: 'report',
      seq: 1,
      observedAt,
      full: { library: { 'library.dpkg.openssl': '3.0.11', 'library.dpkg.host': hostId } },
    }),
  );
  await next('ack');
  ws.close(1000);
  await closed;
}

async function hostIds(aggregator: AggregatorHandle): Promise<string[]> {
  const body = await aggregator.json<{ hosts: { id: string }[] }>('/api/v1/hosts');
  return body.hosts.map((host) => host.id).sort();
}

/** `envparity_store_hosts_missing` from /metrics. */
async function hostsMissingMetric(aggregator: AggregatorHandle): Promise<number> {
  const match = /^envparity_store_hosts_missing (\d+)$/m.exec(await aggregator.metrics());
  if (!match) throw new Error('envparity_store_hosts_missing is not exported');
  return Number(match[1]);
}

/** A fleet of HOSTS acknowledged hosts, the sidecar host count caught up, then SIGKILL. */
async function fleetThenKill(): Promise<AggregatorHandle> {
  const aggregator = await startAggregator();
  for (let i = 0; i < HOSTS; i++) await enrollAndReport(aggregator.wsUrl, `web-${String(i).padStart(2, '0')}`);
  expect(await hostIds(aggregator)).toHaveLength(HOSTS);
  const sidecar = `${aggregator.dbPath}-meta.json`;
  await waitFor(
    () => {
      try {
        return (JSON.parse(readFileSync(sidecar, 'utf8')) as { hosts: number }).hosts === HOSTS;
      } catch {
        return false;
      }
    },
    { timeoutMs: 5000, intervalMs: 100, message: 'the host count in the sidecar file' },
  );
  const exit = await aggregator.kill('SIGKILL');
  expect(exit.signal).toBe('SIGKILL');
  return aggregator;
}

function errorLines(aggregator: AggregatorHandle): Record<string, unknown>[] {
  return aggregator.process.jsonLogs().filter((line) => line.level === 50);
}

describe('store safety after kill -9 and a damaged write-ahead log', () => {
  it('garbage appended to the WAL: every acknowledged host is back, or the loss is reported loudly', async () => {
    const killed = await fleetThenKill();
    const walSize = statSync(`${killed.dbPath}-wal`).size;
    expect(walSize).toBeGreaterThan(0);
    await appendFile(`${killed.dbPath}-wal`, Buffer.alloc(64 * 1024, 0x5a));

    const restarted = await killed.restart();
    const hosts = await hostIds(restarted);
    const missing = await hostsMissingMetric(restarted);
    const errors = errorLines(restarted);
    if (hosts.length === HOSTS) {
      // Clean recovery: SQLite stops at the first frame whose checksum fails, the garbage is ignored.
      expect(missing).toBe(0);
      expect(errors).toEqual([]);
    } else {
      expect(missing).toBe(HOSTS - hosts.length);
      expect(errors.some((line) => line.missingHosts === HOSTS - hosts.length)).toBe(true);
    }
    // The previous run never shut down: said at warn level.
    expect(restarted.process.jsonLogs().some((line) => line.level === 40 && line.previousShutdownClean === false)).toBe(
      true,
    );
    await restarted.stop();
    expect(await integrityCheck(restarted.dbPath)).toEqual(['ok']);
  });

  it('garbage inside the WAL loses transactions silently for SQLite: the aggregator says how many hosts are gone', async () => {
    const killed = await fleetThenKill();
    const wal = `${killed.dbPath}-wal`;
    // Overwrite the first frames (after the 32-byte WAL header): every frame from there on fails its
    // checksum, so SQLite's recovery keeps none of them. The database itself stays consistent.
    const fd = openSync(wal, 'r+');
    writeSync(fd, Buffer.alloc(8192, 0xa5), 0, 8192, 32 + 24 + 512);
    closeSync(fd);

    const restarted = await killed.restart();
    const hosts = await hostIds(restarted);
    expect(hosts.length).toBeLessThan(HOSTS);
    const error = errorLines(restarted).find((line) => line.missingHosts === HOSTS - hosts.length);
    expect(error, restarted.logs.join('\n')).toMatchObject({
      hostsAtOpen: hosts.length,
      expectedHosts: HOSTS,
      previousShutdownClean: false,
    });
    expect(String(error?.msg)).toMatch(/store opened with \d+ hosts, \d+ fewer than the 12 it recorded before/);
    expect(await hostsMissingMetric(restarted)).toBe(HOSTS - hosts.length);
    // It keeps serving: the store is consistent, only older.
    expect((await restarted.api('/healthz')).status).toBe(200);
    await restarted.stop();
    expect(await integrityCheck(restarted.dbPath)).toEqual(['ok']);
  });

  it('hosts that vanish between a clean shutdown and the next start are reported at error level', async () => {
    const aggregator = await startAggregator();
    for (let i = 0; i < 5; i++) await enrollAndReport(aggregator.wsUrl, `db-${i}`);
    const exit = await aggregator.stop();
    expect(exit.code).toBe(0);
    // Rows lost behind the aggregator's back (an older copy of the file, a tool, a bad restore).
    const db = new Database(aggregator.dbPath);
    db.pragma('foreign_keys = ON');
    db.prepare("DELETE FROM hosts WHERE id IN ('db-1', 'db-3')").run();
    db.close();

    const restarted = await aggregator.restart();
    expect(await hostIds(restarted)).toEqual(['db-0', 'db-2', 'db-4']);
    expect(errorLines(restarted)).toEqual([
      expect.objectContaining({ hostsAtOpen: 3, expectedHosts: 5, missingHosts: 2, previousShutdownClean: true }),
    ]);
    expect(await hostsMissingMetric(restarted)).toBe(2);
  });

  it('a damaged database file is refused at start: exit 1, the problem named, nothing served', async () => {
    const aggregator = await startAggregator();
    for (let i = 0; i < HOSTS; i++) await enrollAndReport(aggregator.wsUrl, `app-${i}`);
    expect((await aggregator.stop()).code).toBe(0);
    const size = statSync(aggregator.dbPath).size;
    const pageSize = 4096;
    expect(size).toBeGreaterThan(pageSize * 8);
    const fd = openSync(aggregator.dbPath, 'r+');
    writeSync(fd, Buffer.alloc(pageSize * 2, 0xa5), 0, pageSize * 2, Math.floor(size / pageSize / 2) * pageSize);
    closeSync(fd);

    const dataDir = aggregator.dataDir;
    const proc = spawnManaged(
      process.execPath,
      [AGGREGATOR_BIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--data', dataDir],
      {
        env: { ...process.env, ENVPARITY_ENROLL_SECRET: TEST_ENROLL_SECRET, ENVPARITY_ADMIN_TOKEN: TEST_ADMIN_TOKEN },
        name: 'aggregator',
      },
    );
    const exit = await Promise.race([
      proc.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('still running after 15 s')), 15_000)),
    ]);
    expect(exit.code).toBe(1);
    const output = proc.logs.join('\n');
    expect(output).toMatch(/fails PRAGMA quick_check/);
    expect(output).toContain(join(dataDir, 'envparity.db'));
    expect(proc.jsonLogs().some((line) => line.msg === 'listening')).toBe(false);
  });
});
