import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliIo, COMMANDS, runCli } from './run-cli.js';
import { CLI_VERSION } from './version.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let dir: string;
let server: Server;
let url: string;
const seen: { url: string; headers: IncomingHttpHeaders }[] = [];

/** A stand-in aggregator on 127.0.0.1: answers a compare with one drift, 401 for the token "bad". */
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envparity-cli-run-'));
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    if (req.headers.authorization === 'Bearer bad') {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'unknown or revoked token' } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        from: 'staging',
        to: 'production',
        parity: 0.5,
        compared: 2,
        differences: [{ path: 'config.env.X', category: 'config', from: 'a', to: 'b', status: 'drift' }],
        sides: {},
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

async function run(argv: string[], io: Partial<CliIo> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    env: { HOME: dir, ENVPARITY_URL: url },
    isTTY: false,
    homeDir: dir,
    ...io,
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
  });
  return { code, stdout, stderr };
}

function oneLine(text: string): void {
  expect(text.endsWith('\n')).toBe(true);
  expect(text.trimEnd().split('\n')).toHaveLength(1);
}

describe('usage errors: exit 2, one line, a hint to --help', () => {
  it.each([
    [['bogus'], 'unknown command "bogus" (see envparity --help)'],
    [['hosts', '--nope'], 'unknown flag --nope (see envparity hosts --help)'],
    [['compare', 'staging'], 'compare: missing arguments (expected 2) (see envparity compare --help)'],
    [['compare', 'a', 'b', 'c'], 'compare: unexpected argument "c"'],
    [['compare', 'a', 'b', '--at'], '--at needs a value'],
    [['compare', 'a', 'b', '--at', 'yesterday'], '--at "yesterday": expected a duration'],
    [['changes', '--since', '2h'], '--env is required'],
    [['exceptions', 'frobnicate'], 'unknown subcommand "frobnicate" (expected list, add, rm)'],
    [['exceptions', 'list', '--reason', 'x'], '--reason does not apply to exceptions list'],
    [['tokens', 'add', '--name', 'x', '--scope', 'write'], '--scope "write": expected one of read, verify, admin'],
    [['audit', '--since', '3'], '--since ID diffs a recorded audit'],
    [['audit', '--format', 'pdf'], '--format "pdf": expected one of markdown, html, json, csv'],
    [['promotion', 'staging'], 'promotion takes two environments'],
    [['--json'], 'unknown flag --json: give a command first'],
  ])('%j', async (argv, message) => {
    const result = await run(argv);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    oneLine(result.stderr);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toMatch(/^envparity: .*--help\)\n$/);
  });
});

describe('help and version', () => {
  it('--version prints the package version', async () => {
    expect(await run(['--version'])).toEqual({ code: 0, stdout: `${CLI_VERSION}\n`, stderr: '' });
    expect(CLI_VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('--help lists every command; each command has its own --help', async () => {
    const general = await run(['--help']);
    expect(general.code).toBe(0);
    for (const command of COMMANDS) expect(general.stdout).toContain(`  ${command.name} `);
    for (const command of COMMANDS) {
      const help = await run([command.name, '--help']);
      expect(help.code, command.name).toBe(0);
      expect(help.stdout).toContain(`usage: envparity ${command.name}`);
    }
    // no command at all: the help on stderr, exit 2
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('usage: envparity COMMAND');
  });
});

describe('against a local HTTP server', () => {
  it('compare: exit 1 on drift; the token comes from the config file when no flag or env gives one', async () => {
    const config = join(dir, 'cli.yaml');
    await writeFile(config, 'token: from-file\n');
    seen.length = 0;
    const result = await run(['compare', 'staging', 'production'], {
      env: { ENVPARITY_CONFIG: config, ENVPARITY_URL: url },
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('config.env.X');
    expect(seen.at(-1)?.headers.authorization).toBe('Bearer from-file');
    expect(seen.at(-1)?.url).toBe('/api/v1/compare?from=staging&to=production');

    // env beats the file, the flag beats env
    await run(['compare', 'staging', 'production'], {
      env: { ENVPARITY_CONFIG: config, ENVPARITY_URL: url, ENVPARITY_TOKEN: 'from-env' },
    });
    expect(seen.at(-1)?.headers.authorization).toBe('Bearer from-env');
    await run(['compare', 'staging', 'production', '--token', 'from-flag'], {
      env: { ENVPARITY_CONFIG: config, ENVPARITY_URL: url, ENVPARITY_TOKEN: 'from-env' },
    });
    expect(seen.at(-1)?.headers.authorization).toBe('Bearer from-flag');
    // global flags may come before the command
    await run(['--token', 'before', 'compare', 'staging', 'production'], { env: { ENVPARITY_URL: url } });
    expect(seen.at(-1)?.headers.authorization).toBe('Bearer before');
  });

  it('a config file with an unknown key is exit 2 naming the key', async () => {
    const config = join(dir, 'bad.yaml');
    await writeFile(config, 'tokn: x\n');
    const result = await run(['envs'], { env: { ENVPARITY_CONFIG: config } });
    expect(result.code).toBe(2);
    oneLine(result.stderr);
    expect(result.stderr).toContain('tokn: unknown key');
  });

  it('401 is exit 2 with one line naming it', async () => {
    const result = await run(['compare', 'a', 'b', '--token', 'bad']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    oneLine(result.stderr);
    expect(result.stderr).toContain('unauthorized (401): unknown or revoked token');
  });

  it('colors status words on a TTY, not when piped, not with NO_COLOR, and --color forces them', async () => {
    const tty = await run(['compare', 'a', 'b'], { isTTY: true });
    expect(tty.stdout).toContain('\u001b[31mdrift\u001b[0m');
    expect((await run(['compare', 'a', 'b'])).stdout).not.toContain('\u001b[');
    const noColor = await run(['compare', 'a', 'b'], { isTTY: true, env: { ENVPARITY_URL: url, NO_COLOR: '1' } });
    expect(noColor.stdout).not.toContain('\u001b[');
    expect((await run(['compare', 'a', 'b', '--color'])).stdout).toContain('\u001b[31mdrift');
    expect((await run(['compare', 'a', 'b', '--no-color'], { isTTY: true })).stdout).not.toContain('\u001b[');
  });
});
