/**
 * The aggregator on PostgreSQL (issue 15, requirements 1 and 2): a real aggregator process with
 * `--store postgres://...` (a throwaway cluster, a login role with a password), real agents, the
 * API. The password comes from `store.passwordFile` and never shows in the output or the answers;
 * a restart rebuilds the fleet from the database (hosts, facts, fingerprints, history).
 */
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AgentHandle,
  type AggregatorHandle,
  cleanupProcesses,
  makeTempDir,
  startAgent,
  startAggregator,
  waitFor,
} from './helpers/index.js';
import { postgresUnavailable } from './helpers/postgres-databases.js';
import { type PostgresServer, startPostgres } from './helpers/postgres-server.js';

const PASSWORD = 'pg-store-s3cret-Xq7';
const noPostgres = postgresUnavailable();

interface ApiHost {
  id: string;
  environment: string;
  fingerprint: string | null;
}
interface HostDetail extends ApiHost {
  fingerprints: Record<string, string>;
  lastSeq: number;
  facts: Record<string, unknown>;
}

describe.skipIf(noPostgres !== undefined)(`aggregator on PostgreSQL ${noPostgres ?? ''}`, () => {
  let postgres: PostgresServer;
  let aggregator: AggregatorHandle;
  let configFile: string;
  let url: string;
  const agents: AgentHandle[] = [];

  beforeAll(async () => {
    postgres = await startPostgres({
      roles: [{ name: 'envparity', password: PASSWORD }],
      databases: [{ name: 'fleet', owner: 'envparity' }],
    });
    const dir = await makeTempDir('envparity-pg-store-');
    await writeFile(join(dir, 'pgpass'), `${PASSWORD}\n`);
    await chmod(join(dir, 'pgpass'), 0o600);
    url = `postgres://envparity@127.0.0.1:${postgres.port}/fleet`;
    configFile = join(dir, 'aggregator.yaml');
    await writeFile(configFile, JSON.stringify({ store: { url, passwordFile: 'pgpass' } }));
    aggregator = await startAggregator({ args: ['--config', configFile] });
    for (const [hostId, environment] of [
      ['stg-1', 'staging'],
      ['prod-1', 'production'],
    ] as const) {
      agents.push(await startAgent({ aggregatorUrl: aggregator.url, hostId, environment }));
    }
  });

  afterAll(async () => {
    await cleanupProcesses();
    await postgres?.stop();
  });

  it('keeps hosts and facts in PostgreSQL, names the database without the password, and migrates it', async () => {
    const hosts = await waitFor(
      async () => {
        const { hosts } = await aggregator.json<{ hosts: ApiHost[] }>('/api/v1/hosts');
        return hosts.length === 2 && hosts.every((host) => host.fingerprint !== null) ? hosts : undefined;
      },
      { timeoutMs: 30_000, message: 'both agents to report' },
    );
    expect(hosts.map((host) => host.id).sort()).toEqual(['prod-1', 'stg-1']);
    const opened = aggregator.process.jsonLogs().find((line) => line.msg === 'store opened');
    expect(opened).toMatchObject({ backend: 'postgres', store: `127.0.0.1:${postgres.port}/fleet` });
    // The rows are PostgreSQL's: the aggregator's own SQLite file was never created.
    const rows = await postgres.query<{ id: string; last_seq: string }>(
      'SELECT id, last_seq FROM hosts ORDER BY id',
      [],
      {
        database: 'fleet',
      },
    );
    expect(rows.map((row) => row.id)).toEqual(['prod-1', 'stg-1']);
    const [schema] = await postgres.query<{ version: number }>(
      'SELECT max(version) AS version FROM envparity_schema',
      [],
      {
        database: 'fleet',
      },
    );
    expect(schema?.version).toBeGreaterThanOrEqual(1);
    expect(aggregator.logs.join('\n')).not.toContain(PASSWORD);
  });

  it('rebuilds the fleet from the database after a restart: same hosts, facts and fingerprints', async () => {
    const detail = (id: string) => aggregator.json<HostDetail>(`/api/v1/hosts/${id}`);
    const before = [await detail('stg-1'), await detail('prod-1')];
    for (const agent of agents) await agent.kill();
    await aggregator.stop();
    aggregator = await aggregator.restart();
    const after = [await detail('stg-1'), await detail('prod-1')];
    const kept = ({ id, fingerprint, fingerprints, lastSeq, facts }: HostDetail) => ({
      id,
      fingerprint,
      fingerprints,
      lastSeq,
      facts,
    });
    expect(after.map(kept)).toEqual(before.map(kept));
    expect(Object.keys(after[0]?.facts ?? {}).length).toBeGreaterThan(20);
    // The environments' baselines are computed from the reloaded fleet: one host each, same fingerprints.
    const environments =
      await aggregator.json<{ name: string; hosts: number; fingerprint: string | null }[]>('/api/v1/environments');
    expect(environments.map(({ name, hosts }) => [name, hosts]).sort()).toEqual([
      ['production', 1],
      ['staging', 1],
    ]);
    expect(environments.every((environment) => environment.fingerprint !== null)).toBe(true);
    expect(aggregator.logs.join('\n')).not.toContain(PASSWORD);
  });

  it('refuses a second aggregator on the same database with another fleet key, naming the setting', async () => {
    // A fresh data dir means a fresh fleet.key: its secret hashes would not match the first one's.
    const second = await startAggregator({ args: ['--config', configFile] }).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(second?.message).toMatch(
      /the fleet key differs from the one the other aggregators on 127\.0\.0\.1:\d+\/fleet use: give every aggregator the same ENVPARITY_FLEET_KEY/,
    );
    expect(second?.message).not.toContain(PASSWORD);
    // The first one still answers.
    expect((await aggregator.json<{ hosts: unknown[] }>('/api/v1/hosts')).hosts).toHaveLength(2);
  });

  it('refuses a wrong password at start with a clear error that does not print it', async () => {
    await aggregator.stop();
    const wrong = `postgres://envparity:not-the-password-9@127.0.0.1:${postgres.port}/fleet`;
    const failed = await startAggregator({ args: ['--store', wrong], startTimeoutMs: 20_000 }).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failed?.message).toMatch(/password authentication failed/);
    expect(failed?.message).not.toContain('not-the-password-9');
    aggregator = await aggregator.restart();
  });
});
