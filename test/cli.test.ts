/**
 * The operator CLI end to end (issue 13 requirement 7): the REAL bin
 * (`node packages/envparity-cli/bin/envparity.js`) as a child process against a REAL aggregator
 * process on 127.0.0.1 (`promotion: [staging, production]`) with two real agents whose watched
 * env var differs (FEATURE_CHECKOUT v2 in staging, v1 in production). Every command runs, `--json`
 * parses, exit codes follow the rules (0 ok, 1 drift, 2 error with one line), piped output has no
 * ANSI escapes while an in-process `runCli` with `isTTY: true` colors status words.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../packages/envparity-cli/src/run-cli.js';
import {
  type AgentHandle,
  type AggregatorHandle,
  cleanupProcesses,
  makeTempDir,
  REPO_ROOT,
  startAgent,
  startAggregator,
  waitFor,
} from './helpers/index.js';

const CLI_BIN = join(REPO_ROOT, 'packages/envparity-cli/bin/envparity.js');
const FLAG = 'config.env.FEATURE_CHECKOUT';
const ANSI = /\u001b\[/;

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

let aggregator: AggregatorHandle;
let staging: AgentHandle;
let home: string;
/** An instant after both hosts reported their first facts. */
let afterFirstReports: string;

/** Runs the real bin; the environment is built from scratch (no user config, no stray ENVPARITY_*). */
function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: home,
        ENVPARITY_URL: aggregator.url,
        ENVPARITY_TOKEN: aggregator.adminToken,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function expectOneErrorLine(run: CliRun): void {
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(/^envparity: [^\n]+\n$/);
}

/** A port on 127.0.0.1 that nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  const dir = await makeTempDir('envparity-cli-');
  home = await makeTempDir('envparity-cli-home-');
  const configFile = join(dir, 'aggregator.yaml');
  await writeFile(configFile, 'promotion: [staging, production]\n');
  aggregator = await startAggregator({ args: ['--config', configFile] });
  const agentConfig = { watch: { envVars: ['FEATURE_*'] } };
  [staging] = await Promise.all([
    startAgent({
      aggregatorUrl: aggregator.url,
      hostId: 'stg-1',
      environment: 'staging',
      config: agentConfig,
      env: { FEATURE_CHECKOUT: 'v2' },
    }),
    startAgent({
      aggregatorUrl: aggregator.url,
      hostId: 'prod-1',
      environment: 'production',
      config: agentConfig,
      env: { FEATURE_CHECKOUT: 'v1' },
    }),
  ]);
  await waitFor(
    async () => {
      const hosts = await aggregator.json<{ hosts: { id: string; fingerprint: string | null }[] }>('/api/v1/hosts');
      return hosts.hosts.length === 2 && hosts.hosts.every((host) => host.fingerprint !== null);
    },
    { timeoutMs: 30_000, message: 'both hosts reporting facts' },
  );
  afterFirstReports = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 50));
}, 90_000);

afterAll(async () => {
  await cleanupProcesses();
});

describe('envparity against a real aggregator', () => {
  it('is reachable as the workspace bin (npx envparity)', async () => {
    const run = await new Promise<CliRun>((resolve, reject) => {
      const child = spawn(join(REPO_ROOT, 'node_modules/.bin/envparity'), ['--version'], {
        env: { PATH: process.env.PATH },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
      });
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout, stderr: '' }));
    });
    expect(run.code).toBe(0);
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'packages/envparity-cli/package.json'), 'utf8'));
    expect(run.stdout).toBe(`${pkg.version}\n`);
  });

  it('status: health, environments with hosts online and parity to upstream, promotion backlog', async () => {
    const run = await cli(['status']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`aggregator  ${aggregator.url}  ok`);
    expect(run.stdout).toMatch(/^staging\s+1\/1\s/m);
    expect(run.stdout).toMatch(/^production\s+1\/1\s+\d+\s+\d+\s+staging\s+\d+(\.\d)?%$/m);
    expect(run.stdout).toMatch(/^staging → production\s+\d+\s+\d+\s+\d+$/m);
    expect(run.stdout).not.toMatch(ANSI);

    const json = JSON.parse((await cli(['status', '--json'])).stdout);
    expect(json.health).toEqual({ status: 'ok' });
    expect(json.environments.map((environment: { name: string }) => environment.name)).toEqual([
      'staging',
      'production',
    ]);
    const production = json.environments.find((environment: { name: string }) => environment.name === 'production');
    expect(production.parityToUpstream).toBeGreaterThan(0);
    expect(production.parityToUpstream).toBeLessThan(1);
    expect(json.promotion.pairs).toEqual([{ from: 'staging', to: 'production', counts: expect.any(Object) }]);
  });

  it('envs and hosts list both environments and hosts; --env filters', async () => {
    const envs = await cli(['envs']);
    expect(envs.code).toBe(0);
    expect(envs.stdout.split('\n')[0]).toMatch(/^NAME\s+HOSTS\s+ONLINE\s+FINGERPRINT/);
    expect(envs.stdout).toMatch(/^staging\s+1\s+1\s+[0-9a-f]{12}\s/m);
    expect(envs.stdout).toMatch(/^production\s+1\s+1\s+[0-9a-f]{12}\s/m);
    const envsJson = JSON.parse((await cli(['envs', '--json'])).stdout);
    expect(envsJson).toHaveLength(2);

    const hosts = await cli(['hosts']);
    expect(hosts.code).toBe(0);
    expect(hosts.stdout).toMatch(/^prod-1\s+production\s+online\s/m);
    expect(hosts.stdout).toMatch(/^stg-1\s+staging\s+online\s/m);
    const filtered = await cli(['hosts', '--env', 'staging', '--json']);
    expect(JSON.parse(filtered.stdout).map((host: { id: string }) => host.id)).toEqual(['stg-1']);
  });

  it('host ID shows its facts (table and --json)', async () => {
    const run = await cli(['host', 'stg-1']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^environment\s+staging$/m);
    expect(run.stdout).toMatch(/^config\.env\.FEATURE_CHECKOUT\s+v2$/m);
    const json = JSON.parse((await cli(['host', 'prod-1', '--json'])).stdout);
    expect(json.facts[FLAG]).toBe('v1');
    const unknown = await cli(['host', 'no-such-host']);
    expectOneErrorLine(unknown);
    expect(unknown.stderr).toContain('not found (404)');
  });

  it('compare exits 1 on drift, --json parses, --category narrows, --at reads the past', async () => {
    const run = await cli(['compare', 'staging', 'production']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^staging → production {2}parity \d+(\.\d)?% \(\d+ of \d+ behavior paths/);
    expect(run.stdout).toMatch(/^config\.env\.FEATURE_CHECKOUT\s+drift\s+v2\s+v1$/m);
    expect(run.stdout).not.toMatch(ANSI);

    const json = await cli(['compare', 'staging', 'production', '--json']);
    expect(json.code).toBe(1);
    const answer = JSON.parse(json.stdout);
    expect(answer.differences).toContainEqual(
      expect.objectContaining({ path: FLAG, status: 'drift', from: 'v2', to: 'v1' }),
    );

    const narrowed = JSON.parse((await cli(['compare', 'staging', 'production', '--category', 'os', '--json'])).stdout);
    expect(narrowed.differences.every((difference: { category: string }) => difference.category === 'os')).toBe(true);

    const past = await cli(['compare', 'staging', 'production', '--at', afterFirstReports, '--json']);
    expect(past.code).toBe(1);
    const pastAnswer = JSON.parse(past.stdout);
    expect(pastAnswer.fromAt).toBe(afterFirstReports);
    expect(pastAnswer.toAt).toBe(afterFirstReports);
    expect(pastAnswer.differences).toContainEqual(expect.objectContaining({ path: FLAG, from: 'v2', to: 'v1' }));
    const pastText = await cli(['compare', 'staging', 'production', '--at', afterFirstReports]);
    expect(pastText.stdout).toContain('as of  staging: ');
  });

  it('an unknown environment is exit 2 with one line naming it', async () => {
    const run = await cli(['compare', 'staging', 'nowhere']);
    expectOneErrorLine(run);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('"nowhere"');
    expect(run.stderr).toContain('not found (404)');
  });

  it('drift --open lists the pair event once the engine opened it', async () => {
    await waitFor(
      async () => {
        const drift = await aggregator.json<{ events: { path: string }[] }>('/api/v1/drift?status=open');
        return drift.events.some((event) => event.path === FLAG);
      },
      { timeoutMs: 30_000, message: 'the open drift event' },
    );
    const run = await cli(['drift', '--open']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^\S+\s+open\s+environment\s+staging → production\s+config\.env\.FEATURE_CHECKOUT\s+v2\s+v1\s/m,
    );
    const json = JSON.parse((await cli(['drift', '--open', '--json'])).stdout);
    expect(
      json.events.some((event: { path: string; status: string }) => event.path === FLAG && event.status === 'open'),
    ).toBe(true);
  });

  it('exceptions add justifies the drift (compare exit 0), list shows it, rm removes it (exit 1 again)', async () => {
    const added = await cli([
      'exceptions',
      'add',
      '--path',
      FLAG,
      '--environments',
      'staging,production',
      '--reason',
      'checkout v2 is staged for the next release',
      '--owner',
      'payments',
      '--expires',
      '30d',
      '--json',
    ]);
    expect(added.code).toBe(0);
    const exception = JSON.parse(added.stdout);
    expect(exception).toMatchObject({ path: FLAG, environments: ['staging', 'production'], owner: 'payments' });
    expect(Date.parse(exception.expiresAt) - Date.now()).toBeGreaterThan(29 * 86_400_000);

    const justified = await cli(['compare', 'staging', 'production']);
    expect(justified.code).toBe(0);
    expect(justified.stdout).toMatch(/^config\.env\.FEATURE_CHECKOUT\s+justified\s+v2\s+v1\s+exception /m);

    const list = await cli(['exceptions', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(exception.id);
    expect(list.stdout).toMatch(/config\.env\.FEATURE_CHECKOUT\s+staging,production\s+active\s/);

    const removed = await cli(['exceptions', 'rm', exception.id]);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toBe(`deleted exception ${exception.id}\n`);
    expect((await cli(['exceptions', 'list'])).stdout).not.toContain(exception.id);
    expect((await cli(['compare', 'staging', 'production'])).code).toBe(1);

    const again = await cli(['exceptions', 'rm', exception.id]);
    expectOneErrorLine(again);
    expect(again.stderr).toContain('not found (404)');
  });

  it('audit: markdown file via --out, --record prints the recorded audit, --since diffs, --fail-on drift exits 1', async () => {
    const dir = await makeTempDir('envparity-cli-audit-');
    const file = join(dir, 'audit.md');
    const written = await cli(['audit', '--format', 'markdown', '--out', file]);
    expect(written.code).toBe(0);
    expect(written.stderr).toContain(`wrote markdown audit to ${file}`);
    const markdown = await readFile(file, 'utf8');
    expect(markdown).toMatch(/^# envparity parity audit/);
    expect(markdown).toContain('config.env.FEATURE\\_CHECKOUT');

    const live = await cli(['audit']);
    expect(live.code).toBe(0);
    expect(live.stdout).toMatch(/^staging\s+production\s+promotion\s+\d+(\.\d)?%\s+1\s/m);
    expect(live.stdout).toContain('1 open (drift + expired)');

    const failing = await cli(['audit', '--fail-on', 'drift']);
    expect(failing.code).toBe(1);

    const recorded = await cli(['audit', '--record', '--fail-on', 'drift']);
    expect(recorded.code).toBe(1);
    const id = Number(/audit #(\d+) recorded/.exec(recorded.stdout)?.[1]);
    expect(id).toBeGreaterThan(0);
    expect(recorded.stderr).toContain(`recorded audit #${id}`);
    expect(recorded.stdout).toMatch(/^config\.env\.FEATURE_CHECKOUT\s+drift\s/m);

    const second = await cli(['audit', '--record', '--since', String(id), '--json']);
    expect(second.code).toBe(0);
    const document = JSON.parse(second.stdout);
    expect(document.audit.id).toBe(id + 1);
    expect(document.since).toMatchObject({ audit: id, counts: { new: 0, remediated: 0, stillOpen: 1 } });

    const csv = await cli(['audit', '--id', String(id), '--format', 'csv']);
    expect(csv.code).toBe(0);
    expect(csv.stdout.split('\r\n')[0]).toContain('pair_from');
    expect(csv.stdout).toContain(FLAG);
  });

  it('changes and host --changes show a change made during the test; promotion shows it waiting', async () => {
    await staging.stop();
    staging = await staging.restart({ env: { FEATURE_CHECKOUT: 'v3' } });
    await waitFor(
      async () => {
        const changes = await aggregator.json<{ changes: { path: string; to?: unknown }[] }>(
          '/api/v1/hosts/stg-1/changes',
        );
        return changes.changes.some((change) => change.path === FLAG && change.to === 'v3');
      },
      { timeoutMs: 30_000, message: 'the staging change to v3' },
    );

    const changes = await cli(['changes', '--env', 'staging', '--since', '1h']);
    expect(changes.code).toBe(0);
    expect(changes.stdout).toMatch(/^\d{4}-\d{2}-\d{2} [\d:]+Z\s+stg-1\s+config\.env\.FEATURE_CHECKOUT\s+v2\s+v3$/m);
    const changesJson = JSON.parse((await cli(['changes', '--env', 'staging', '--since', '1h', '--json'])).stdout);
    expect(changesJson.changes.some((change: { path: string }) => change.path === FLAG)).toBe(true);
    const none = await cli(['changes', '--env', 'production', '--since', '1h', '--path', 'config.env.**']);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('no changes in production');

    const host = await cli(['host', 'stg-1', '--changes']);
    expect(host.code).toBe(0);
    expect(host.stdout).toMatch(/^\d{4}-\d{2}-\d{2} [\d:]+Z\s+\d+\s+config\.env\.FEATURE_CHECKOUT\s+v2\s+v3$/m);

    const promotion = await cli(['promotion']);
    expect(promotion.code).toBe(0);
    expect(promotion.stdout).toMatch(/^staging → production {2}1 waiting, 0 out of order, 0 justified$/m);
    expect(promotion.stdout).toMatch(/^config\.env\.FEATURE_CHECKOUT\s+v3\s+v1\s+\d+s\s+1 of 1\s+0 of 1$/m);
    const pair = JSON.parse((await cli(['promotion', 'staging', 'production', '--json'])).stdout);
    expect(pair.pairs[0].waiting[0]).toMatchObject({ path: FLAG, value: 'v3' });
  });

  it('tokens add/list/revoke round trip; the revoked token then gets exit 2 naming 401', async () => {
    const added = await cli(['tokens', 'add', '--name', 'cli-e2e', '--scope', 'read']);
    expect(added.code).toBe(0);
    const token = /^token {2}(\S+)$/m.exec(added.stdout)?.[1] ?? '';
    const id = /^id {5}(\S+)$/m.exec(added.stdout)?.[1] ?? '';
    expect(token).toMatch(/^ept_/);
    expect(added.stderr).toContain('shown only once');

    const list = await cli(['tokens', 'list']);
    expect(list.stdout).toMatch(new RegExp(`^${id}\\s+cli-e2e\\s+read\\s+.*active$`, 'm'));
    expect(list.stdout).not.toContain(token);

    const reading = await cli(['envs', '--token', token]);
    expect(reading.code).toBe(0);
    // A read token cannot manage tokens: 403, one line.
    const forbidden = await cli(['tokens', 'list'], { ENVPARITY_TOKEN: token });
    expectOneErrorLine(forbidden);
    expect(forbidden.stderr).toContain('forbidden (403)');

    const revoked = await cli(['tokens', 'revoke', id]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(new RegExp(`^revoked token ${id} at `));
    expect((await cli(['tokens', 'list', '--json'])).stdout).toContain('"revokedAt": "');

    const refused = await cli(['envs'], { ENVPARITY_TOKEN: token });
    expectOneErrorLine(refused);
    expect(refused.stderr).toMatch(/unauthorized \(401\)/);
  });

  it('a bad token is exit 2 with ONE line on stderr and nothing on stdout', async () => {
    const run = await cli(['status', '--token', 'not-a-token']);
    expectOneErrorLine(run);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('unauthorized (401): unknown or revoked token');
  });

  it('an unreachable URL (a closed port) is exit 2 with one line', async () => {
    const port = await closedPort();
    const run = await cli(['envs'], { ENVPARITY_URL: `http://127.0.0.1:${port}` });
    expectOneErrorLine(run);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`cannot reach the aggregator at http://127.0.0.1:${port}`);
    expect(run.stderr).toContain('ECONNREFUSED');
  });

  it('a config file supplies URL and token when neither flag nor env does', async () => {
    const dir = await makeTempDir('envparity-cli-config-');
    const config = join(dir, 'cli.yaml');
    await writeFile(config, `url: ${aggregator.url}\ntoken: ${aggregator.adminToken}\n`);
    const run = await cli(['envs', '--json'], { ENVPARITY_URL: '', ENVPARITY_TOKEN: '', ENVPARITY_CONFIG: config });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toHaveLength(2);
  });

  it('colors status words only on a TTY without NO_COLOR (in-process runCli)', async () => {
    const capture = async (isTTY: boolean, extraEnv: NodeJS.ProcessEnv) => {
      let stdout = '';
      const code = await runCli(['compare', 'staging', 'production'], {
        env: { ENVPARITY_URL: aggregator.url, ENVPARITY_TOKEN: aggregator.adminToken, HOME: home, ...extraEnv },
        isTTY,
        homeDir: home,
        stdout: { write: (chunk: string) => (stdout += chunk) },
        stderr: { write: () => true },
      });
      return { code, stdout };
    };
    const tty = await capture(true, {});
    expect(tty.code).toBe(1);
    expect(tty.stdout).toContain('\u001b[31mdrift\u001b[0m');
    const noColor = await capture(true, { NO_COLOR: '1' });
    expect(noColor.code).toBe(1);
    expect(noColor.stdout).toContain('drift');
    expect(noColor.stdout).not.toMatch(ANSI);
    const piped = await capture(false, {});
    expect(piped.stdout).not.toMatch(ANSI);
  });
});
