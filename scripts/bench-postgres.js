// A throwaway PostgreSQL cluster for `npm run bench:fleet -- --store postgres`: initdb into a temp
// dir, a server on 127.0.0.1 on a free port, one database. PostgreSQL refuses to run as root: as
// root, the cluster belongs to the `postgres` OS user (Debian's package creates it). Durability
// stays at PostgreSQL's defaults (fsync, synchronous_commit on), as the SQLite baseline keeps
// `synchronous = FULL`: the comparison is between two stores that both survive a power cut.
import { spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const POSTGRES_ROOT = '/usr/lib/postgresql';
const OS_USER = 'postgres';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function binDir() {
  const versions = existsSync(POSTGRES_ROOT)
    ? readdirSync(POSTGRES_ROOT)
        .filter((v) => existsSync(join(POSTGRES_ROOT, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0)
    throw new Error(`no initdb under ${POSTGRES_ROOT}/<major>/bin (apt-get install postgresql)`);
  return { dir: join(POSTGRES_ROOT, versions[0], 'bin'), version: versions[0] };
}

const asRoot = process.getuid?.() === 0;
const asOwner = (binary, args) => (asRoot ? ['runuser', ['-u', OS_USER, '--', binary, ...args]] : [binary, args]);

async function freePort() {
  const server = createServer();
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Process ids of the cluster: the postmaster and every backend and helper it forked. */
function clusterPids(postmasterPid) {
  const pids = [postmasterPid];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmasterPid) pids.push(Number(entry));
    } catch {}
  }
  return pids;
}

export async function startBenchPostgres({ log }) {
  const { dir, version } = binDir();
  const root = mkdtempSync(join(tmpdir(), 'envparity-bench-pg-'));
  const dataDir = join(root, 'data');
  if (asRoot) {
    const id = spawnSync('id', ['-u', OS_USER], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', OS_USER], { encoding: 'utf8' });
    if (id.status !== 0) throw new Error(`running as root needs the ${OS_USER} OS user (apt-get install postgresql)`);
    chownSync(root, Number(id.stdout.trim()), Number(gid.stdout.trim()));
  }
  chmodSync(root, 0o700);
  const [initCommand, initArgs] = asOwner(join(dir, 'initdb'), [
    '--pgdata',
    dataDir,
    '--username',
    'postgres',
    '--auth',
    'trust',
    '--encoding',
    'UTF8',
    '--locale',
    'C.UTF-8',
    '--no-instructions',
  ]);
  const init = spawnSync(initCommand, initArgs, { cwd: root, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}${init.stdout}`);
  const port = await freePort();
  appendFileSync(
    join(dataDir, 'postgresql.conf'),
    `\nlisten_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = '${root}'\nmax_connections = 50\n`,
  );
  const [command, args] = asOwner(join(dir, 'postgres'), ['-D', dataDir]);
  const server = spawn(command, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  server.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const pg = (await import('pg')).default;
  const url = `postgres://postgres@127.0.0.1:${port}/envparity`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('CREATE DATABASE envparity');
      await client.end();
      break;
    } catch (error) {
      await client.end().catch(() => {});
      if (server.exitCode !== null || Date.now() > deadline)
        throw new Error(`postgres did not start: ${error.message}\n${stderr}`);
      await sleep(100);
    }
  }
  // The postmaster: the server process itself, or runuser's child.
  const postmasterPid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  log(`PostgreSQL ${version} on 127.0.0.1:${port} (pid ${postmasterPid}), data in ${dataDir}`);
  return {
    url,
    version,
    pids: () => clusterPids(postmasterPid),
    databaseBytes: async () => {
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => {});
      try {
        await client.connect();
        const { rows } = await client.query('SELECT pg_database_size(current_database())::bigint AS bytes');
        return Number(rows[0].bytes);
      } finally {
        await client.end().catch(() => {});
      }
    },
    stop: async () => {
      if (server.exitCode === null) {
        process.kill(postmasterPid, 'SIGINT');
        const killer = setTimeout(() => server.kill('SIGKILL'), 15_000);
        await new Promise((resolve) => (server.exitCode !== null ? resolve() : server.once('exit', resolve)));
        clearTimeout(killer);
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
