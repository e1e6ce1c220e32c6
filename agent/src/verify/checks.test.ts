import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateAgentConfig } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CheckFileError,
  DEFAULT_CHECK_TIMEOUT_MS,
  parseChecks,
  parseChecksFile,
  parseDuration,
  readChecksFile,
  resolveCheckServices,
} from './checks.js';
import { ExpectationError, parseExpectationFile } from './expectation.js';

const refused = (raw: unknown) => {
  try {
    parseChecks(raw, 'f.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(CheckFileError);
    return (error as Error).message;
  }
  throw new Error(`accepted: ${JSON.stringify(raw)}`);
};

describe('parseDuration', () => {
  it('reads ms, s, m, h and bare seconds', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2s')).toBe(2_000);
    expect(parseDuration('1.5s')).toBe(1_500);
    expect(parseDuration('1m')).toBe(60_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration(5)).toBe(5_000);
  });

  it('refuses what is not a positive duration', () => {
    for (const bad of ['', '2', '2x', '-1s', '0s', 's', '1 m', 0, -3, null, true]) {
      expect(parseDuration(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });
});

describe('parseChecks', () => {
  it('reads each kind with its defaults and a name from its target', () => {
    const checks = parseChecks([
      { http: 'http://127.0.0.1:8080/health' },
      { name: 'api', http: 'https://api.internal/v', status: 204, bodyContains: 'ok', jsonPath: '$.a[0].b', equals: 1 },
      { tcp: '127.0.0.1:5432', timeout: '500ms' },
      { tcp: '[::1]:80', reachable: false },
      { command: 'test -f /srv/app/READY', exitCode: 1, stdoutContains: 'x', timeout: 2 },
      { service: 'db', version: '>=15 <16' },
    ]);
    expect(checks).toEqual([
      {
        kind: 'http',
        at: 'checks: checks[0]',
        name: 'http http://127.0.0.1:8080/health',
        url: 'http://127.0.0.1:8080/health',
        status: 200,
        timeoutMs: DEFAULT_CHECK_TIMEOUT_MS,
      },
      {
        kind: 'http',
        at: 'checks: checks[1]',
        name: 'api',
        url: 'https://api.internal/v',
        status: 204,
        bodyContains: 'ok',
        jsonPath: '$.a[0].b',
        equals: 1,
        timeoutMs: DEFAULT_CHECK_TIMEOUT_MS,
      },
      {
        kind: 'tcp',
        at: 'checks: checks[2]',
        name: 'tcp 127.0.0.1:5432',
        host: '127.0.0.1',
        port: 5432,
        reachable: true,
        timeoutMs: 500,
      },
      {
        kind: 'tcp',
        at: 'checks: checks[3]',
        name: 'tcp [::1]:80',
        host: '::1',
        port: 80,
        reachable: false,
        timeoutMs: 5000,
      },
      {
        kind: 'command',
        at: 'checks: checks[4]',
        name: 'command test -f /srv/app/READY',
        command: 'test -f /srv/app/READY',
        exitCode: 1,
        stdoutContains: 'x',
        timeoutMs: 2_000,
      },
      { kind: 'service', at: 'checks: checks[5]', name: 'service db', service: 'db', version: '>=15 <16' },
    ]);
  });

  it('refuses bad input naming the key', () => {
    expect(refused({ tcp: 'x:1' })).toBe('f.yaml: checks: expected a list of checks');
    expect(refused([{ dns: 'db.internal' }])).toBe(
      'f.yaml: checks[0]: unknown check kind: expected one of http, tcp, command, service, got "dns"',
    );
    expect(refused([{ name: 'only a name' }])).toMatch(/^f\.yaml: checks\[0\]: unknown check kind/);
    expect(refused(['tcp 1.2.3.4:5'])).toMatch(/^f\.yaml: checks\[0\]: expected a mapping/);
    expect(refused([{ tcp: 'a:1' }, { http: 'http://a/', tcp: 'a:1' }])).toBe(
      'f.yaml: checks[1]: a check has one kind, got http and tcp',
    );
    expect(refused([{ http: 'ftp://a/' }])).toBe('f.yaml: checks[0].http: expected an http:// or https:// URL');
    expect(refused([{ http: 'not a url' }])).toBe('f.yaml: checks[0].http: expected an http:// or https:// URL');
    expect(refused([{ http: 'http://app:hunter2@127.0.0.1/' }])).toMatch(
      /^f\.yaml: checks\[0\]\.http: a URL with user:password@ is refused/,
    );
    expect(refused([{ tcp: 'db.internal:5432' }, { tcp: 'db.internal' }])).toMatch(
      /^f\.yaml: checks\[1\]\.tcp: expected host:port/,
    );
    expect(refused([{ tcp: 'db:70000' }])).toMatch(/^f\.yaml: checks\[0\]\.tcp: expected host:port/);
    expect(refused([{ tcp: 'db:1', timeout: '10 parsecs' }])).toMatch(
      /^f\.yaml: checks\[0\]\.timeout: expected a duration such as 500ms, 2s, 1m/,
    );
    expect(refused([{ tcp: 'db:1', open: true }])).toBe('f.yaml: checks[0].open: unknown key');
    expect(refused([{ http: 'http://a/', status: 'ok' }])).toMatch(/^f\.yaml: checks\[0\]\.status: /);
    expect(refused([{ http: 'http://a/', equals: 'ok' }])).toBe(
      'f.yaml: checks[0].equals: needs jsonPath: the value it is compared with',
    );
    expect(refused([{ http: 'http://a/', jsonPath: 'status' }])).toMatch(/^f\.yaml: checks\[0\]\.jsonPath: /);
    expect(refused([{ command: '' }])).toBe('f.yaml: checks[0].command: must not be empty');
    expect(refused([{ service: 'db', version: 'fifteen' }])).toMatch(
      /^f\.yaml: checks\[0\]\.version: expected a semver/,
    );
    expect(
      refused([
        { name: 'x', tcp: 'a:1' },
        { name: 'x', tcp: 'a:2' },
      ]),
    ).toBe('f.yaml: checks[1].name: duplicate name "x"');
  });
});

describe('checks files and expectation files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'envparity-checks-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('a checks file holds only checks:', async () => {
    const path = join(dir, 'checks.yaml');
    await writeFile(path, 'checks:\n  - { name: port, tcp: "127.0.0.1:9" }\n');
    expect((await readChecksFile(path)).map((check) => check.name)).toEqual(['port']);
    expect(() => parseChecksFile('checks: []\nfacts: {}\n', 'c.yaml')).toThrow(
      'c.yaml: facts: unknown key (a checks file holds only checks:)',
    );
    expect(() => parseChecksFile('{}', 'c.yaml')).toThrow('c.yaml: checks: required');
    expect(() => parseChecksFile('checks: [\n', 'c.yaml')).toThrow(/^c\.yaml: not valid YAML or JSON/);
    await expect(readChecksFile(join(dir, 'missing.yaml'))).rejects.toThrow(/^cannot read .*missing\.yaml/);
  });

  it('an expectation file may hold checks beside facts, refused with the same strictness', () => {
    const head = 'format: envparity/expectations/v1\nfacts: { os.platform: linux }\n';
    const file = parseExpectationFile(`${head}checks:\n  - { command: "true" }\n`, 'e.yaml');
    expect(file.checks.map((check) => check.name)).toEqual(['command true']);
    expect(parseExpectationFile(head, 'e.yaml').checks).toEqual([]);
    expect(() => parseExpectationFile(`${head}checks:\n  - { tcp: nope }\n`, 'e.yaml')).toThrow(ExpectationError);
    expect(() => parseExpectationFile(`${head}checks:\n  - { tcp: nope }\n`, 'e.yaml')).toThrow(
      /^e\.yaml: checks\[0\]\.tcp: expected host:port/,
    );
  });

  it('a service check names a watch.services entry; an unknown name is refused naming it', () => {
    const config = validateAgentConfig({
      watch: { services: [{ name: 'cache', type: 'tcp', host: '127.0.0.1', port: 6379 }] },
    });
    const checks = parseChecks([{ service: 'cache' }, { name: 'db up', service: 'db' }], 'f.yaml');
    expect(() => resolveCheckServices(checks, config.watch.services)).toThrow(
      `f.yaml: checks[1].service: no service "db" in the agent config's watch.services (declared: cache)`,
    );
    const resolved = resolveCheckServices(checks.slice(0, 1), config.watch.services);
    expect(resolved.get('service cache')).toMatchObject({ name: 'cache', type: 'tcp', port: 6379 });
    expect(() => resolveCheckServices(checks, [])).toThrow(/\(it declares none\)$/);
  });
});
