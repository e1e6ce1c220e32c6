/**
 * The one-file bundle carries the service clients (mysql2, pg) compressed and compiles them on first
 * import (agent/scripts/on-demand-packages.mjs). Here the bundle, alone in an empty directory, asks a
 * real PostgreSQL and a real MariaDB for facts only a logged-in client can read, as the workspace
 * bin does. In CI (`ENVPARITY_REQUIRE_SERVERS=1`) a missing server fails the run.
 */
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FactDocument } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_BIN, cleanupProcesses, makeTempDir, REPO_ROOT, runToCompletion } from './helpers/index.js';
import { type MariadbServer, mariadbSupport, startMariadb } from './helpers/mariadb-server.js';
import { type PostgresServer, postgresSupport, startPostgres } from './helpers/postgres-server.js';

const servers = { postgres: postgresSupport(), mariadb: mariadbSupport() };
const unavailable = [servers.postgres, servers.mariadb].find((support) => !support.ok);

let dir: string;
let bundle: string;
let config: string;
let postgres: PostgresServer;
let mariadb: MariadbServer;

beforeAll(async () => {
  if (unavailable) return;
  dir = await makeTempDir('envparity-e2e-bundle-services-');
  bundle = join(dir, 'envparity-agent.mjs');
  await copyFile(join(REPO_ROOT, 'agent/dist/envparity-agent.mjs'), bundle);
  [postgres, mariadb] = await Promise.all([startPostgres(), startMariadb()]);
  config = join(dir, 'agent.yaml');
  await writeFile(
    config,
    [
      'watch:',
      '  services:',
      `    - { name: pg, type: postgres, host: 127.0.0.1, port: ${postgres.port}, user: ${postgres.superuser} }`,
      `    - { name: my, type: mysql, host: 127.0.0.1, port: ${mariadb.port}, user: ${mariadb.rootUser} }`,
      '',
    ].join('\n'),
  );
}, 120_000);

afterAll(async () => {
  await Promise.all([postgres?.stop(), mariadb?.stop()]);
  await cleanupProcesses();
});

async function serviceFacts(entry: string): Promise<Record<string, unknown>> {
  // No NODE_PATH: nothing may reach the repo's node_modules but the bundle itself.
  const run = await runToCompletion(
    process.execPath,
    [entry, 'collect', '--json', '--config', config, '--state-dir', join(dir, 'state')],
    { cwd: dir, env: { ...process.env, NODE_PATH: '' } },
  );
  expect(run.code, run.stderr).toBe(0);
  const facts = (JSON.parse(run.stdout) as FactDocument).facts;
  return Object.fromEntries(Object.entries(facts).filter(([path]) => /^service\.(pg|my)\./.test(path)));
}

describe.skipIf(unavailable)('the bundle loads its service clients on demand', () => {
  it('pg and mysql2 log in and query, with the same facts as the workspace bin', async () => {
    const [bundled, workspace] = [await serviceFacts(bundle), await serviceFacts(AGENT_BIN)];
    const [versionNum] = await postgres.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
    const [[sqlMode]] = (await mariadb.query('SELECT @@GLOBAL.sql_mode')) as [[string]];
    expect(bundled['service.pg.reachable']).toBe(true);
    expect(bundled['service.pg.versionNum']).toBe(Number(versionNum?.v));
    expect(bundled['service.my.reachable']).toBe(true);
    expect(bundled['service.my.settings.sql_mode']).toBe(sqlMode);
    const stable = (facts: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(facts).filter(([path]) => !path.endsWith('.latencyMs')));
    expect(stable(bundled)).toEqual(stable(workspace));
  });
});
