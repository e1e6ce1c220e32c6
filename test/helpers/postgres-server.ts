/**
 * Throwaway PostgreSQL clusters for tests: `initdb` into a temp dir, a server on 127.0.0.1 on a free
 * port (never the system service, never 5432), stopped and removed by `stop()` (and killed by
 * `cleanupProcesses()` if a test forgets). Any number can run at once. The superuser connects over
 * TCP without a password (trust); other roles authenticate with their password (scram-sha-256 or
 * md5), so authentication failures are real. PostgreSQL refuses to run as root: as root, initdb and
 * the server run as the `postgres` user, owning the temp dir.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { appendFile, chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { type ManagedProcess, runToCompletion, spawnManaged } from './processes.js';
import { waitFor } from './wait-for.js';

/** Where Debian installs each major version (`/usr/lib/postgresql/<major>/bin`). */
const DEBIAN_POSTGRES_ROOT = '/usr/lib/postgresql';
/** The OS user that runs the cluster when the tests run as root. */
const POSTGRES_OS_USER = 'postgres';
const SUPERUSER = 'postgres';
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
/** A port taken between picking it and the server binding it: try again with another. */
const START_ATTEMPTS = 3;

export type PasswordAuth = 'scram-sha-256' | 'md5';

export interface PostgresRole {
  name: string;
  password: string;
  superuser?: boolean;
  /** How the password is stored (`password_encryption`); md5-stored passwords for md5 auth tests. */
  passwordEncryption?: PasswordAuth;
}

export interface PostgresServerOptions {
  /** Major version (e.g. 15); default the newest installed. */
  version?: number;
  /** Another build's bin dir (e.g. `otherPostgresBuild().binDir`) instead of Debian's for `version`. */
  binDir?: string;
  /** Extra `postgresql.conf` lines (written to the file, so `ALTER SYSTEM` still overrides them). */
  settings?: Record<string, string | number | boolean>;
  /** Login roles created after start, each with a password. */
  roles?: readonly PostgresRole[];
  /** Databases created after start. */
  databases?: ReadonlyArray<{ name: string; owner?: string }>;
  /** The pg_hba method for every role but the superuser over TCP (default scram-sha-256). */
  passwordAuth?: PasswordAuth;
}

export interface QueryOptions {
  database?: string;
}

export interface PostgresServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Connects over TCP without a password. */
  readonly superuser: string;
  /** The major version that runs. */
  readonly version: number;
  readonly dataDir: string;
  /** The unix socket directory (`host` for a socket connection; the superuser is trusted there). */
  readonly socketDir: string;
  /** Runs one statement as the superuser (a fresh connection each time) and returns its rows. */
  query<Row extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<Row[]>;
  /** `pg_reload_conf()`, then waits until this connection sees it was reloaded. */
  reload(): Promise<void>;
  /** The server's output so far (for failure messages). */
  logs(): string;
  /** Fast shutdown (SIGINT, SIGKILL after a grace), then removes the data dir. */
  stop(): Promise<void>;
}

/** The installed major versions, newest first. */
export function installedPostgresVersions(): number[] {
  if (!existsSync(DEBIAN_POSTGRES_ROOT)) return [];
  return readdirSync(DEBIAN_POSTGRES_ROOT)
    .filter((name) => /^\d+$/.test(name) && existsSync(join(DEBIAN_POSTGRES_ROOT, name, 'bin', 'postgres')))
    .map(Number)
    .sort((a, b) => b - a);
}

/**
 * Whether PostgreSQL tests can run. In CI (`ENVPARITY_REQUIRE_SERVERS=1`, set by `.ci/run`) a
 * missing server is an error, never a skip.
 */
export function postgresSupport(version?: number): { ok: true; version: number } | { ok: false; reason: string } {
  const installed = installedPostgresVersions();
  const chosen = version === undefined ? installed[0] : installed.find((major) => major === version);
  if (chosen !== undefined) return { ok: true, version: chosen };
  const wanted = version === undefined ? 'PostgreSQL' : `PostgreSQL ${version}`;
  const reason = `no ${wanted} under ${DEBIAN_POSTGRES_ROOT}/<major>/bin (apt-get install postgresql)`;
  if (process.env.ENVPARITY_REQUIRE_SERVERS === '1') throw new Error(`server tests are required here: ${reason}`);
  return { ok: false, reason };
}

const runsAsRoot = () => process.getuid?.() === 0;

/** The command line that runs a PostgreSQL binary as the cluster's owner. */
function asOwner(binary: string, args: readonly string[]): [string, string[]] {
  return runsAsRoot() ? ['runuser', ['-u', POSTGRES_OS_USER, '--', binary, ...args]] : [binary, [...args]];
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port from the kernel');
  return address.port;
}

/** A `postgresql.conf` value, quoted. */
const confValue = (value: string | number | boolean) =>
  typeof value === 'string' ? `'${value.replace(/'/g, "''")}'` : String(value);
const sqlLiteral = (text: string) => `'${text.replace(/'/g, "''")}'`;
const sqlIdentifier = (name: string) => `"${name.replace(/"/g, '""')}"`;

async function initCluster(binDir: string, dataDir: string, root: string): Promise<void> {
  const [command, args] = asOwner(join(binDir, 'initdb'), [
    '--pgdata',
    dataDir,
    '--username',
    SUPERUSER,
    '--auth',
    'trust',
    '--encoding',
    'UTF8',
    '--locale',
    'C.UTF-8',
    '--no-sync',
    '--no-instructions',
  ]);
  const run = await runToCompletion(command, args, { cwd: root });
  if (run.code !== 0) throw new Error(`initdb failed (${run.code}):\n${run.stderr}${run.stdout}`);
}

async function writeServerConfig(dataDir: string, root: string, port: number, options: PostgresServerOptions) {
  const settings: Record<string, string | number | boolean> = {
    listen_addresses: '127.0.0.1',
    port,
    unix_socket_directories: root,
    // A throwaway cluster: durability costs start and test time and buys nothing.
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    ...options.settings,
  };
  const lines = Object.entries(settings).map(([name, value]) => `${name} = ${confValue(value)}`);
  await appendFile(join(dataDir, 'postgresql.conf'), `\n# envparity test cluster\n${lines.join('\n')}\n`);
  const method = options.passwordAuth ?? 'scram-sha-256';
  await writeFile(
    join(dataDir, 'pg_hba.conf'),
    ['local all all trust', `host all ${SUPERUSER} 127.0.0.1/32 trust`, `host all all 127.0.0.1/32 ${method}`, ''].join(
      '\n',
    ),
  );
}

function spawnServer(binDir: string, dataDir: string, root: string): ManagedProcess {
  const [command, args] = asOwner(join(binDir, 'postgres'), ['-D', dataDir]);
  return spawnManaged(command, args, { cwd: root, name: 'postgres' });
}

async function superuserQuery<Row>(port: number, sql: string, params: readonly unknown[] = [], database = 'postgres') {
  const client = new Client({ host: '127.0.0.1', port, user: SUPERUSER, database, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query(sql, params as unknown[])).rows as Row[];
  } finally {
    await client.end().catch(() => {});
  }
}

async function waitUntilReady(server: ManagedProcess, port: number): Promise<void> {
  await waitFor(
    async () => {
      if (!server.running) throw new Error(`postgres exited (${JSON.stringify(server.exitInfo)}):\n${server.tail()}`);
      await superuserQuery(port, 'SELECT 1');
      return true;
    },
    { timeoutMs: START_TIMEOUT_MS, intervalMs: 50, message: `postgres on 127.0.0.1:${port}` },
  );
}

async function createRolesAndDatabases(port: number, options: PostgresServerOptions): Promise<void> {
  for (const role of options.roles ?? []) {
    const encryption = role.passwordEncryption ?? options.passwordAuth ?? 'scram-sha-256';
    const superuser = role.superuser ? ' SUPERUSER' : '';
    // One session: SET holds for the CREATE ROLE that follows it (the simple protocol runs both).
    await superuserQuery(
      port,
      `SET password_encryption = ${sqlLiteral(encryption)}; CREATE ROLE ${sqlIdentifier(role.name)} LOGIN${superuser} PASSWORD ${sqlLiteral(role.password)}`,
    );
  }
  for (const database of options.databases ?? []) {
    const owner = database.owner ? ` OWNER ${sqlIdentifier(database.owner)}` : '';
    await superuserQuery(port, `CREATE DATABASE ${sqlIdentifier(database.name)}${owner}`);
  }
}

/** Starts a throwaway cluster; call `stop()` in afterAll. */
export async function startPostgres(options: PostgresServerOptions = {}): Promise<PostgresServer> {
  const support = postgresSupport(options.version);
  if (!support.ok) throw new Error(support.reason);
  const binDir = options.binDir ?? join(DEBIAN_POSTGRES_ROOT, String(support.version), 'bin');
  const root = await mkdtemp(join(tmpdir(), 'envparity-pg-'));
  const dataDir = join(root, 'data');
  let server: ManagedProcess | undefined;
  try {
    if (runsAsRoot()) await chownToUser(root, POSTGRES_OS_USER);
    await chmod(root, 0o700);
    await initCluster(binDir, dataDir, root);
    let port = 0;
    for (let attempt = 1; attempt <= START_ATTEMPTS && !server; attempt++) {
      port = await freePort();
      // Appended again on a retry: the last `port` line of postgresql.conf wins.
      await writeServerConfig(dataDir, root, port, options);
      const candidate = spawnServer(binDir, dataDir, root);
      try {
        await waitUntilReady(candidate, port);
        server = candidate;
      } catch (error) {
        await candidate.kill('SIGKILL');
        if (attempt === START_ATTEMPTS) throw error;
      }
    }
    if (!server) throw new Error('postgres did not start');
    const running = server;
    await createRolesAndDatabases(port, options);
    return {
      host: '127.0.0.1',
      port,
      superuser: SUPERUSER,
      version: support.version,
      dataDir,
      socketDir: root,
      query: (sql, params = [], { database } = {}) => superuserQuery(port, sql, params, database),
      async reload() {
        const [before] = await superuserQuery<{ at: string }>(port, 'SELECT pg_conf_load_time()::text AS at');
        await superuserQuery(port, 'SELECT pg_reload_conf()');
        // The postmaster reloads asynchronously; a new backend sees the new load time once it has.
        await waitFor(
          async () => {
            const [now] = await superuserQuery<{ at: string }>(port, 'SELECT pg_conf_load_time()::text AS at');
            return now?.at !== before?.at;
          },
          { timeoutMs: 10_000, intervalMs: 20, message: 'postgres to reload its configuration' },
        );
      },
      logs: () => running.logs.join('\n'),
      async stop() {
        await running.kill('SIGINT', STOP_GRACE_MS);
        await rm(root, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await server?.kill('SIGKILL');
    await rm(root, { recursive: true, force: true });
    throw error;
  }
}

async function chownToUser(path: string, user: string): Promise<void> {
  const run = await runToCompletion('id', ['-u', user]);
  const gidRun = await runToCompletion('id', ['-g', user]);
  if (run.code !== 0 || gidRun.code !== 0) throw new Error(`no OS user ${user} to run PostgreSQL as (not as root)`);
  await chown(path, Number(run.stdout.trim()), Number(gidRun.stdout.trim()));
}

/** Where .ci/run unpacks a second build of the installed major (`<package>-<version>/usr/lib/postgresql/<major>/bin`). */
const OTHER_BUILDS_ROOT = '/opt/envparity-ci';

/** `postgres --version`'s number, e.g. `15.18`. */
export function postgresBuildVersion(binDir: string): string | undefined {
  const result = spawnSync(join(binDir, 'postgres'), ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return /\(PostgreSQL\) (\d+(?:\.\d+)*)/.exec(result.stdout ?? '')?.[1];
}

/**
 * A build of the installed major whose minor version differs from the installed one (for a
 * staging-on-15.18, production-on-15.20 scenario), as unpacked by .ci/run; or why there is none.
 */
export function otherPostgresBuild():
  | { ok: true; binDir: string; version: string; installedVersion: string }
  | { ok: false; reason: string } {
  const support = postgresSupport();
  if (!support.ok) return support;
  const installedVersion = postgresBuildVersion(join(DEBIAN_POSTGRES_ROOT, String(support.version), 'bin'));
  if (!installedVersion) return { ok: false, reason: 'cannot read the installed postgres --version' };
  const candidates = existsSync(OTHER_BUILDS_ROOT) ? readdirSync(OTHER_BUILDS_ROOT) : [];
  for (const name of candidates.sort()) {
    const binDir = join(OTHER_BUILDS_ROOT, name, 'usr/lib/postgresql', String(support.version), 'bin');
    if (!existsSync(join(binDir, 'postgres'))) continue;
    const version = postgresBuildVersion(binDir);
    if (version && version !== installedVersion) return { ok: true, binDir, version, installedVersion };
  }
  return {
    ok: false,
    reason: `no second PostgreSQL ${support.version} build under ${OTHER_BUILDS_ROOT} (.ci/run unpacks one from the Debian archive)`,
  };
}
