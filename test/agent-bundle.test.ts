import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type FactDocument, factPath } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENT_BIN,
  type AggregatorHandle,
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

const BUILT_BUNDLE = join(REPO_ROOT, 'agent/dist/envparity-agent.mjs');

function runNode(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<CompletedRun> {
  return runToCompletion(process.execPath, args, { cwd, env });
}

function factPaths(run: CompletedRun): Set<string> {
  expect(run.code, run.stderr).toBe(0);
  return new Set(Object.keys((JSON.parse(run.stdout) as FactDocument).facts));
}

const difference = (a: Set<string>, b: Set<string>) => [...a].filter((path) => !b.has(path)).sort();

/** A project with a yarn v1 lockfile and one config file per format; returns an agent config watching them. */
async function writeParserFixtures(fixtures: string): Promise<string> {
  const project = join(fixtures, 'project');
  await mkdir(project, { recursive: true });
  await writeFile(join(project, 'package.json'), '{"name":"fixture","dependencies":{"left-pad":"^1.3.0"}}\n');
  await writeFile(
    join(project, 'yarn.lock'),
    '# yarn lockfile v1\n\n\nleft-pad@^1.3.0:\n  version "1.3.0"\n  resolved "https://registry.yarnpkg.com/left-pad/-/left-pad-1.3.0.tgz"\n',
  );
  const files: Record<string, string> = {
    'app.yaml': 'db:\n  host: db.internal\n',
    'app.ini': '[server]\nport = 8080\n',
    'app.toml': '[cache]\nttl = 30\n',
    'app.env': 'WORKERS=4\n',
    'app.json': '{"feature": true}\n',
  };
  for (const [name, text] of Object.entries(files)) await writeFile(join(fixtures, name), text);
  const config = join(fixtures, 'agent.yaml');
  const watched = Object.keys(files).map((name) => JSON.stringify(join(fixtures, name)));
  await writeFile(config, `watch:\n  projects: [${JSON.stringify(project)}]\n  files: [${watched.join(', ')}]\n`);
  return config;
}

let dir: string;
let bundle: string;
// No NODE_PATH: nothing may reach the repo's node_modules but the bundle itself.
const env: NodeJS.ProcessEnv = { ...process.env, NODE_PATH: '' };

beforeAll(async () => {
  if (!existsSync(BUILT_BUNDLE)) throw new Error(`${BUILT_BUNDLE} is missing: run \`npm run build\``);
  // A bundle older than the compiled CLI was not built from it (`tsc -b` alone ran since).
  const [bundleTime, cliTime] = await Promise.all([
    stat(BUILT_BUNDLE).then((info) => info.mtimeMs),
    stat(join(REPO_ROOT, 'agent/dist/cli.js')).then((info) => info.mtimeMs),
  ]);
  if (bundleTime < cliTime) throw new Error(`${BUILT_BUNDLE} is older than agent/dist/cli.js: run \`npm run build\``);
  dir = await makeTempDir('envparity-e2e-bundle-');
  bundle = join(dir, 'envparity-agent.mjs');
  await copyFile(BUILT_BUNDLE, bundle);
});

afterAll(() => cleanupProcesses());

describe('agent/dist/envparity-agent.mjs, alone in an empty directory', () => {
  it('has no node_modules to lean on: none in its directory or any parent', () => {
    for (let at = dir; ; at = dirname(at)) {
      expect(existsSync(join(at, 'node_modules')), `${at}/node_modules`).toBe(false);
      if (dirname(at) === at) break;
    }
  });

  it('collect --json gives the same fact paths as the workspace bin, every parser included', async () => {
    const config = await writeParserFixtures(join(dir, 'fixtures'));
    const stateDir = join(dir, 'state');
    const collect = (entry: string) =>
      runNode([entry, 'collect', '--json', '--config', config, '--state-dir', stateDir], dir, env);
    // Workspace, bundle, workspace: a path that appeared or went between the two workspace runs
    // belongs to the live machine (a port another process opened), not to the bundle.
    const before = await collect(AGENT_BIN);
    const bundledRun = await collect(bundle);
    const after = await collect(AGENT_BIN);
    const [beforePaths, bundled, afterPaths] = [before, bundledRun, after].map(factPaths) as [
      Set<string>,
      Set<string>,
      Set<string>,
    ];
    const live = new Set([...difference(beforePaths, afterPaths), ...difference(afterPaths, beforePaths)]);
    const stable = (paths: Set<string>) => new Set([...paths].filter((path) => !live.has(path)));
    expect(stable(beforePaths).size).toBeGreaterThan(100);
    expect({
      onlyBundle: difference(stable(bundled), stable(beforePaths)),
      onlyWorkspace: difference(stable(beforePaths), stable(bundled)),
    }).toEqual({ onlyBundle: [], onlyWorkspace: [] });
    // Each parser ran in the bundle (a failed one leaves an `#error`/`.error` fact, not values).
    const facts = (JSON.parse(bundledRun.stdout) as FactDocument).facts;
    const project = join(dir, 'fixtures', 'project');
    const file = (name: string, ...key: string[]) =>
      facts[factPath('config', 'file', join(dir, 'fixtures', name), ...key)];
    expect({
      yarnV1: facts[factPath('app', project, 'npm', 'left-pad')],
      yaml: file('app.yaml', 'db', 'host'),
      ini: file('app.ini', 'server', 'port'),
      toml: file('app.toml', 'cache', 'ttl'),
      env: file('app.env', 'WORKERS'),
      json: file('app.json', 'feature'),
    }).toEqual({ yarnV1: '1.3.0', yaml: 'db.internal', ini: '8080', toml: 30, env: '4', json: true });
  });

  it('reports the package version, as --version and in its documents', async () => {
    const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'agent/package.json'), 'utf8')) as {
      version: string;
    };
    const fast = await runNode([bundle, '--version'], dir, env);
    expect(fast).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    // Through commander too (a flag after the version skips the launcher's shortcut).
    expect((await runNode([bundle, '-V', '--json'], dir, env)).stdout).toBe(`${version}\n`);
    const document = JSON.parse(
      (await runNode([bundle, 'collect', '--json', '--state-dir', join(dir, 'state')], dir, env)).stdout,
    ) as FactDocument;
    expect(document.agentVersion).toBe(version);
  });

  it('prints the same help and usage errors as the workspace bin', async () => {
    for (const args of [['--help'], ['run', '--help'], ['verify', '--help'], ['collect', '--bogus']]) {
      const [ours, theirs] = await Promise.all([
        runNode([bundle, ...args], dir, env),
        runNode([AGENT_BIN, ...args], dir, env),
      ]);
      expect(ours, args.join(' ')).toEqual(theirs);
    }
  });

  it('baseline writes an expectation file that verify --expect passes (exit 0), as the workspace bin does', async () => {
    const stateDir = join(dir, 'state');
    const expectation = join(dir, 'expect.yaml');
    const baseline = await runNode([bundle, 'baseline', '--state-dir', stateDir, '--out', expectation], dir, env);
    expect(baseline.code, baseline.stderr).toBe(0);
    for (const entry of [bundle, AGENT_BIN]) {
      const verify = await runNode(
        [entry, 'verify', '--expect', expectation, '--state-dir', stateDir, '--format', 'json'],
        dir,
        env,
      );
      expect(verify.code, `${entry}: ${verify.stderr}`).toBe(0);
    }
    // And a drifted expectation fails with exit 1 (the bundle's verify really compares).
    const drifted = (await readFile(expectation, 'utf8')).replace(/^(\s*os\.platform:\s*).*$/m, '$1plan9');
    expect(drifted).toContain('plan9');
    await writeFile(join(dir, 'drifted.yaml'), drifted);
    const verify = await runNode(
      [bundle, 'verify', '--expect', join(dir, 'drifted.yaml'), '--state-dir', stateDir],
      dir,
      env,
    );
    expect(verify.code, verify.stderr).toBe(1);
  });

  describe('run', () => {
    let aggregator: AggregatorHandle;
    beforeAll(async () => {
      aggregator = await startAggregator();
    });

    it('enrolls with a real aggregator over ws, logs JSON lines (pino) and reports its facts', async () => {
      const hostId = 'bundle-host-1';
      const agent = spawnManaged(
        process.execPath,
        [
          bundle,
          'run',
          '--aggregator',
          aggregator.url,
          '--environment',
          'staging',
          '--host-id',
          hostId,
          '--state-dir',
          join(dir, 'run-state'),
          '--interval',
          '60',
        ],
        { cwd: dir, env: { ...env, ENVPARITY_ENROLL_SECRET: TEST_ENROLL_SECRET }, name: 'bundled agent' },
      );
      await agent.waitForLog((line) => line.msg === 'connected to the aggregator', { what: 'the connected line' });
      const host = await waitFor(
        async () => {
          const answer = await aggregator.json<{ facts: Record<string, unknown> }>(`/api/v1/hosts/${hostId}`);
          return Object.keys(answer.facts).length > 100 ? answer : undefined;
        },
        { timeoutMs: 20_000, message: 'the bundled agent facts at the aggregator' },
      );
      expect(host.facts['os.platform']).toBe('linux');
      const exit = await agent.kill('SIGTERM');
      expect(exit.code).toBe(0);
    });
  });
});
