/**
 * A throwaway MariaDB server for the mysql service probe's tests: `mariadb-install-db` into a temp
 * dir, then `mariadbd` on 127.0.0.1 and a free port with its socket and pid file in that dir, root
 * without a password (for the test's own statements), fast settings (16 MB buffer pool). Never the
 * system service, never port 3306. `query()` runs SQL through the `mariadb` command-line client, so
 * what the test compares with comes from the server's own tools, not from the probe's client.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runToCompletion, spawnManaged } from './processes.js';
import { waitFor } from './wait-for.js';

export const MARIADBD_PATH = '/usr/sbin/mariadbd';
export const MARIADB_INSTALL_DB_PATH = '/usr/bin/mariadb-install-db';
export const MARIADB_CLIENT_PATH = '/usr/bin/mariadb';
const STARTUP_TIMEOUT_MS = 30_000;

export interface MariadbServer {
  host: string;
  port: number;
  /** Has every privilege and no password (over TCP from 127.0.0.1). */
  rootUser: string;
  dataDir: string;
  /** The server's unix socket. */
  socketPath: string;
  /** Runs SQL as root through the `mariadb` client; rows of tab-separated columns, no header. */
  query(sql: string): Promise<string[][]>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Whether the MariaDB tests can run. In CI (`ENVPARITY_REQUIRE_SERVERS=1`, set by `.ci/run`) a
 * missing server is an error, never a skip.
 */
export function mariadbSupport(): { ok: true } | { ok: false; reason: string } {
  const missing = [MARIADBD_PATH, MARIADB_INSTALL_DB_PATH, MARIADB_CLIENT_PATH].filter((path) => !existsSync(path));
  if (missing.length === 0) return { ok: true };
  const reason = `no ${missing.join(', ')} (apt-get install mariadb-server)`;
  if (process.env.ENVPARITY_REQUIRE_SERVERS === '1') throw new Error(`server tests are required here: ${reason}`);
  return { ok: false, reason };
}

/** A port nothing listens on right now (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** mariadbd refuses to run as root unless told to; as anyone else it runs as that user. */
function userArgs(): string[] {
  return process.getuid?.() === 0 ? ['--user=root'] : [];
}

export async function startMariadb(): Promise<MariadbServer> {
  const dir = await mkdtemp(join(tmpdir(), 'envparity-mariadb-'));
  const dataDir = join(dir, 'data');
  const host = '127.0.0.1';
  const install = await runToCompletion(MARIADB_INSTALL_DB_PATH, [
    '--no-defaults',
    `--datadir=${dataDir}`,
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
    '--skip-name-resolve',
    ...userArgs(),
  ]);
  if (install.code !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed (${install.code}): ${install.stderr || install.stdout}`);
  }
  const port = await freePort();
  const socketPath = join(dir, 'mariadb.sock');
  const server = spawnManaged(
    MARIADBD_PATH,
    [
      '--no-defaults',
      `--datadir=${dataDir}`,
      `--socket=${socketPath}`,
      `--pid-file=${join(dir, 'mariadb.pid')}`,
      `--port=${port}`,
      `--bind-address=${host}`,
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=16M',
      '--innodb-log-file-size=8M',
      '--innodb-flush-log-at-trx-commit=0',
      '--performance-schema=OFF',
      `--log-error=${join(dir, 'error.log')}`,
      ...userArgs(),
    ],
    { name: 'mariadbd' },
  );
  const query = async (sql: string): Promise<string[][]> => {
    const run = await runToCompletion(MARIADB_CLIENT_PATH, [
      '--no-defaults',
      '--protocol=TCP',
      `--host=${host}`,
      `--port=${port}`,
      '--user=root',
      '--batch',
      '--raw',
      '--skip-column-names',
      '--execute',
      sql,
    ]);
    if (run.code !== 0) throw new Error(`mariadb client failed (${run.code}) on ${JSON.stringify(sql)}: ${run.stderr}`);
    return run.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.split('\t'));
  };
  const stop = async () => {
    await server.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (!server.running) throw new Error(`mariadbd exited: ${server.tail()}`);
        return (await query('SELECT 1'))[0]?.[0] === '1';
      },
      { timeoutMs: STARTUP_TIMEOUT_MS, intervalMs: 200, message: `mariadbd on ${host}:${port}` },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { host, port, rootUser: 'root', dataDir, socketPath, query, stop };
}
