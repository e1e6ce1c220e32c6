/**
 * The agent as one binary and a .deb (issue "Install the agent anywhere", requirements 2 and 3):
 * `agent/scripts/package-agent.mjs` (`npm run package:agent`) builds, once per run (or reuses a
 * build newer than every input), the single executable and the Debian package. The binary runs
 * from an empty directory with no `node` on PATH; the .deb is installed into a throwaway root with
 * `dpkg --root` (maintainer scripts run chrootless, honoring DPKG_ROOT), checked file by file,
 * reinstalled (idempotent, conffile edits kept) and purged.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { FactDocument } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENT_BIN,
  type CompletedRun,
  cleanupProcesses,
  makeTempDir,
  REPO_ROOT,
  runToCompletion,
  spawnManaged,
  startAggregator,
  TEST_ENROLL_SECRET,
  waitFor,
} from './helpers/index.js';

const PACKAGE_DIR = join(REPO_ROOT, 'agent/dist/pkg');
const EXECUTABLE = join(PACKAGE_DIR, 'envparity-agent');
const PACKAGE_SCRIPT = join(REPO_ROOT, 'agent/scripts/package-agent.mjs');
// Everything the package is made of: a build older than any of these is rebuilt.
const INPUT_DIRS = ['agent/dist', 'shared/dist', 'deploy/debian', 'agent/scripts', 'agent/bin'];
const BUILD_TIMEOUT_MS = 600_000;

const { version: VERSION } = JSON.parse(readFileSync(join(REPO_ROOT, 'agent/package.json'), 'utf8')) as {
  version: string;
};
const DEB = join(PACKAGE_DIR, `envparity-agent_${VERSION}_amd64.deb`);
const hasSystemdAnalyze = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' }).status === 0;

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    if (!entry.isFile() || path.startsWith(PACKAGE_DIR)) continue;
    newest = Math.max(newest, (await stat(path)).mtimeMs);
  }
  return newest;
}

async function buildIsFresh(): Promise<boolean> {
  if (!existsSync(EXECUTABLE) || !existsSync(DEB)) return false;
  const built = Math.min((await stat(EXECUTABLE)).mtimeMs, (await stat(DEB)).mtimeMs);
  const inputs = await Promise.all(INPUT_DIRS.map((dir) => newestMtime(join(REPO_ROOT, dir))));
  return built > Math.max(...inputs);
}

const run = runToCompletion;

function ok(result: SpawnSyncReturns<string>, what: string): string {
  expect(result.status, `${what}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

function factPaths(result: CompletedRun): Set<string> {
  expect(result.code, result.stderr).toBe(0);
  return new Set(Object.keys((JSON.parse(result.stdout) as FactDocument).facts));
}

const difference = (a: Set<string>, b: Set<string>) => [...a].filter((path) => !b.has(path)).sort();

const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

beforeAll(async () => {
  if (await buildIsFresh()) return;
  const build = spawnSync(process.execPath, [PACKAGE_SCRIPT], { encoding: 'utf8', timeout: BUILD_TIMEOUT_MS });
  expect(build.status, `package-agent.mjs failed:\n${build.stdout}\n${build.stderr}`).toBe(0);
}, BUILD_TIMEOUT_MS);

afterAll(() => cleanupProcesses());

describe('the single executable (agent/dist/pkg/envparity-agent)', () => {
  let dir: string;
  // This PATH without every directory holding a `node`: the binary must bring its own.
  const pathWithoutNode = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((entry) => entry !== '' && !existsSync(join(entry, 'node')))
    .join(delimiter);
  const env = { ...process.env, PATH: pathWithoutNode, NODE_PATH: '' };

  beforeAll(async () => {
    dir = await makeTempDir('envparity-e2e-binary-');
  });

  it('runs with no node on PATH: --version answers the package version', async () => {
    expect(spawnSync('sh', ['-c', 'command -v node'], { env, encoding: 'utf8' }).status).not.toBe(0);
    expect(await run(EXECUTABLE, ['--version'], { cwd: dir, env })).toEqual({
      code: 0,
      stdout: `${VERSION}\n`,
      stderr: '',
    });
  });

  it('collect --json gives the fact paths of the workspace bin run with the same PATH', async () => {
    const stateDir = join(dir, 'state');
    const collectArgs = ['collect', '--json', '--state-dir', stateDir];
    const workspace = () => run(process.execPath, [AGENT_BIN, ...collectArgs], { cwd: dir, env });
    // Workspace, binary, workspace: paths that changed between the two workspace runs belong to
    // the live machine (a port another process opened), not to the binary.
    const before = factPaths(await workspace());
    const binaryRun = await run(EXECUTABLE, collectArgs, { cwd: dir, env });
    const binary = factPaths(binaryRun);
    const after = factPaths(await workspace());
    const live = new Set([...difference(before, after), ...difference(after, before)]);
    const stable = (paths: Set<string>) => new Set([...paths].filter((path) => !live.has(path)));
    // The workspace agent runs on a node of this machine (and finds the npm installed beside it,
    // <prefix>/lib/node_modules/npm, even off PATH); the binary's built-in Node is no runtime of
    // the host, and this PATH has no node. Nothing else may differ.
    const npmBesideNode = (path: string) => path.startsWith('runtime.npm.') || path.startsWith('runtime.node.');
    expect(stable(before).size).toBeGreaterThan(100);
    expect({
      onlyBinary: difference(stable(binary), stable(before)),
      onlyWorkspace: difference(stable(before), stable(binary)).filter((path) => !npmBesideNode(path)),
    }).toEqual({ onlyBinary: [], onlyWorkspace: [] });
    const document = JSON.parse(binaryRun.stdout) as FactDocument;
    expect(document.agentVersion).toBe(VERSION);
    // No node on PATH: the Node built into the binary is not reported as the host's runtime.
    expect(document.facts['runtime.node.version']).toBeUndefined();
    expect(document.errors.filter((error) => error.collector === 'runtime')).toEqual([]);
  });

  it('run enrolls with a real aggregator and reports, with nothing on stderr (no require warning)', async () => {
    const aggregator = await startAggregator();
    const hostId = 'binary-host-1';
    const agent = spawnManaged(
      EXECUTABLE,
      [
        'run',
        '--aggregator',
        aggregator.url,
        '--environment',
        'staging',
        '--host-id',
        hostId,
        '--state-dir',
        join(dir, 'run-state'),
      ],
      { cwd: dir, env: { ...env, ENVPARITY_ENROLL_SECRET: TEST_ENROLL_SECRET }, name: 'binary agent' },
    );
    await agent.waitForLog((line) => line.msg === 'connected to the aggregator', { what: 'the connected line' });
    const host = await waitFor(
      async () => {
        const answer = await aggregator.json<{ facts: Record<string, unknown> }>(`/api/v1/hosts/${hostId}`);
        return Object.keys(answer.facts).length > 100 ? answer : undefined;
      },
      { timeoutMs: 20_000, message: 'the binary agent facts at the aggregator' },
    );
    expect(host.facts['os.platform']).toBe('linux');
    expect(await agent.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(agent.logs.filter((line) => line.startsWith('[stderr] '))).toEqual([]);
  });
});

describe(`the Debian package (envparity-agent_${VERSION}_amd64.deb)`, () => {
  let root: string;
  const dpkg = (...args: string[]) =>
    spawnSync('dpkg', [`--root=${root}`, '--force-script-chrootless', '--force-depends', '--log=/dev/null', ...args], {
      encoding: 'utf8',
    });
  const inRoot = (path: string) => join(root, path);

  beforeAll(async () => {
    root = await makeTempDir('envparity-e2e-dpkg-root-');
    for (const dir of ['var/lib/dpkg/info', 'var/lib/dpkg/updates', 'etc'])
      await mkdir(inRoot(dir), { recursive: true });
    await writeFile(inRoot('var/lib/dpkg/status'), '');
    await writeFile(inRoot('etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    await writeFile(inRoot('etc/group'), 'root:x:0:\n');
    await writeFile(inRoot('etc/shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o600 });
    await writeFile(inRoot('etc/gshadow'), 'root:*::\n', { mode: 0o600 });
  });

  it('declares itself: name, version, amd64, its conffiles', () => {
    const fields = ok(spawnSync('dpkg-deb', ['--field', DEB], { encoding: 'utf8' }), 'dpkg-deb --field');
    expect(fields).toMatch(/^Package: envparity-agent$/m);
    expect(fields).toMatch(new RegExp(`^Version: ${VERSION.replaceAll('.', '\\.')}$`, 'm'));
    expect(fields).toMatch(/^Architecture: amd64$/m);
    const conffiles = ok(spawnSync('dpkg-deb', ['--info', DEB, 'conffiles'], { encoding: 'utf8' }), 'conffiles');
    expect(conffiles.trim().split('\n').sort()).toEqual(['/etc/default/envparity-agent', '/etc/envparity/agent.yaml']);
  });

  it('installs into a throwaway root: files, modes, conffiles, the system user and the state dir', async () => {
    ok(dpkg('--install', DEB), 'dpkg --install');
    const expected: [string, number][] = [
      ['usr/bin/envparity-agent', 0o755],
      ['lib/systemd/system/envparity-agent.service', 0o644],
      ['etc/envparity/agent.yaml', 0o644],
      ['etc/default/envparity-agent', 0o640],
    ];
    for (const [path, mode] of expected) {
      const info = await stat(inRoot(path));
      expect({ path, mode: info.mode & 0o7777, uid: info.uid, gid: info.gid }).toEqual({ path, mode, uid: 0, gid: 0 });
    }
    expect(await sha256(inRoot('usr/bin/envparity-agent'))).toBe(await sha256(EXECUTABLE));
    expect(await readFile(inRoot('etc/default/envparity-agent'), 'utf8')).toMatch(/^ENVPARITY_ENROLL_SECRET=$/m);

    const status = ok(dpkg('--status', 'envparity-agent'), 'dpkg --status');
    expect(status).toMatch(/^Status: install ok installed$/m);
    expect(status).toMatch(/^ \/etc\/envparity\/agent\.yaml [0-9a-f]{32}$/m);
    expect(status).toMatch(/^ \/etc\/default\/envparity-agent [0-9a-f]{32}$/m);

    const users = (await readFile(inRoot('etc/passwd'), 'utf8'))
      .split('\n')
      .filter((line) => line.startsWith('envparity:'));
    expect(users).toHaveLength(1);
    const [, , uid, gid, , home, shell] = users[0]!.split(':');
    expect({ system: Number(uid) < 1000, home, shell }).toEqual({
      system: true,
      home: '/var/lib/envparity',
      shell: '/usr/sbin/nologin',
    });
    const stateDir = await stat(inRoot('var/lib/envparity'));
    expect({ mode: stateDir.mode & 0o7777, uid: stateDir.uid, gid: stateDir.gid }).toEqual({
      mode: 0o700,
      uid: Number(uid),
      gid: Number(gid),
    });
  });

  it('ships a unit that runs the installed binary as envparity, restarts on failure, hardened', async () => {
    const unit = await readFile(inRoot('lib/systemd/system/envparity-agent.service'), 'utf8');
    const settings = new Map<string, string[]>();
    for (const line of unit.split('\n')) {
      const match = /^([A-Za-z]+)=(.*)$/.exec(line);
      if (match) settings.set(match[1]!, [...(settings.get(match[1]!) ?? []), match[2]!]);
    }
    const one = (key: string) => settings.get(key)?.join('\n');
    expect({
      User: one('User'),
      Restart: one('Restart'),
      NoNewPrivileges: one('NoNewPrivileges'),
      ProtectSystem: one('ProtectSystem'),
      ProtectHome: one('ProtectHome'),
      PrivateTmp: one('PrivateTmp'),
      StateDirectory: one('StateDirectory'),
      EnvironmentFile: one('EnvironmentFile'),
    }).toEqual({
      User: 'envparity',
      Restart: 'on-failure',
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      ProtectHome: 'read-only',
      PrivateTmp: 'yes',
      StateDirectory: 'envparity',
      EnvironmentFile: '-/etc/default/envparity-agent',
    });
    const [binary, command, ...args] = one('ExecStart')!.split(/\s+/);
    expect([binary, command]).toEqual(['/usr/bin/envparity-agent', 'run']);
    // Every flag the unit passes is one `run` has.
    const help = await run(inRoot('usr/bin/envparity-agent'), ['run', '--help']);
    expect(help.code, help.stderr).toBe(0);
    const flags = args.filter((arg) => arg.startsWith('--'));
    expect(flags).toEqual(['--config', '--state-dir']);
    for (const flag of flags) expect(help.stdout).toContain(`${flag} <`);
    // The shipped config is valid (collect checks it and contacts no one).
    const collect = await run(inRoot('usr/bin/envparity-agent'), [
      'collect',
      '--config',
      inRoot('etc/envparity/agent.yaml'),
      '--state-dir',
      join(root, 'collect-state'),
    ]);
    expect(collect.code, collect.stderr).toBe(0);
  });

  it.skipIf(!hasSystemdAnalyze)('passes systemd-analyze verify without a warning', async () => {
    // verify --root wants the units ours is ordered against inside the root: the host's targets.
    const hostUnits = '/lib/systemd/system';
    for (const target of (await readdir(hostUnits)).filter((name) => name.endsWith('.target'))) {
      await copyFile(join(hostUnits, target), inRoot(`lib/systemd/system/${target}`)).catch(() => undefined);
    }
    const verify = spawnSync(
      'systemd-analyze',
      ['verify', `--root=${root}`, '/lib/systemd/system/envparity-agent.service'],
      { encoding: 'utf8' },
    );
    expect({ status: verify.status, stderr: verify.stderr.trim() }).toEqual({ status: 0, stderr: '' });
  });

  it('reinstalls idempotently: one user, an edited conffile kept without a prompt', async () => {
    const config = inRoot('etc/envparity/agent.yaml');
    await writeFile(config, `${await readFile(config, 'utf8')}environment: staging\n`);
    ok(dpkg('--install', DEB), 'dpkg --install (again)');
    const passwd = await readFile(inRoot('etc/passwd'), 'utf8');
    expect(passwd.split('\n').filter((line) => line.startsWith('envparity:'))).toHaveLength(1);
    expect(await readFile(config, 'utf8')).toMatch(/^environment: staging$/m);
  });

  it('purges: binary, unit, conffiles and state are gone', () => {
    ok(dpkg('--purge', 'envparity-agent'), 'dpkg --purge');
    for (const path of [
      'usr/bin/envparity-agent',
      'lib/systemd/system/envparity-agent.service',
      'etc/envparity/agent.yaml',
      'etc/default/envparity-agent',
      'var/lib/envparity',
    ]) {
      expect(existsSync(inRoot(path)), path).toBe(false);
    }
  });
});
