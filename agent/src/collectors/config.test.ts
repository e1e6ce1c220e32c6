import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AgentConfigInput, type FactMap, factPath, validateAgentConfig } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execCommand } from '../exec.js';
import { createSecretHasher, SECRET_HASH_PREFIX } from '../secrets.js';
import { createConfigCollector } from './config.js';
import { SYSCTL_NAMES } from './config-sysctl.js';
import type { CollectorContext } from './types.js';

const CANARY = 'canary-XYZ';

function makeContext(input: AgentConfigInput, key = 'test-fleet-key'): CollectorContext {
  const config = validateAgentConfig(input);
  const signal = new AbortController().signal;
  return {
    config,
    secrets: createSecretHasher(key, config.secrets),
    signal,
    exec: (file, args, options = {}) => execCommand(file, args, { signal, ...options }),
  };
}

const commandExists = (name: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

let dir: string;
const file = (name: string) => join(dir, name);
const at = (name: string, ...keys: string[]) => factPath('config', 'file', file(name), ...keys);

const FILES: Record<string, string> = {
  'app.json': JSON.stringify({
    db: { host: 'db.internal', port: 5432, 'pool.size': 10 },
    features: ['a', 'b'],
    servers: [{ host: 's1' }, { host: 's2' }],
    '#sha256': 'not a marker',
    empty: [],
  }),
  'app.yaml': [
    'db:',
    '  host: db.internal',
    '  port: 5432',
    `  password: ${CANARY}`,
    'tags: [x, y]',
    'big: 9007199254740993',
    'nothing: null',
    `password: ${CANARY}`,
    'api_key: other-value',
  ].join('\n'),
  'app.ini': ['mode = fast', 'debug = true', '', '[database]', 'user = app', `password = ${CANARY}`].join('\n'),
  '.env': ['LOG_LEVEL=info', `API_TOKEN=${CANARY}`, '# comment', 'export QUOTED="a b"'].join('\n'),
  'app.toml': ['title = "svc"', '[server]', 'port = 8080', 'ratio = 0.5', 'started = 1979-05-27T07:32:00Z'].join('\n'),
  'notes.txt': `hello ${CANARY}\n`,
  'sniffed.conf': '{"mode": "json-without-extension"}',
  'bad.yaml': `password: ${CANARY}\n  broken: [`,
  'scalar.yaml': 'just a string',
  'secrets.yaml': `db: ${CANARY}`,
  db_password: CANARY,
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envparity-config-'));
  await Promise.all(Object.entries(FILES).map(([name, content]) => writeFile(file(name), content)));
  await mkdir(file('a-directory'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function watched(): AgentConfigInput {
  return {
    watch: {
      envVars: ['LOG_LEVEL', 'FEATURE_*', 'DB_*'],
      files: [...Object.keys(FILES).map(file), file('missing.yaml'), file('a-directory'), '/dev/zero'],
    },
  };
}

const ENV = {
  LOG_LEVEL: 'debug',
  FEATURE_X: 'on',
  DB_PASSWORD: CANARY,
  DB_HOST: 'db.internal',
  UNWATCHED: 'nope',
  PATH: '/usr/bin',
};

async function collect(env: NodeJS.ProcessEnv = ENV, key?: string): Promise<FactMap> {
  return createConfigCollector({ env }).collect(makeContext(watched(), key));
}

describe('configCollector: env vars', () => {
  it('records watched variables only, secrets as keyed hashes', async () => {
    const facts = await collect();
    expect(facts['config.env.LOG_LEVEL']).toBe('debug');
    expect(facts['config.env.FEATURE_X']).toBe('on');
    expect(facts['config.env.DB_HOST']).toBe('db.internal');
    expect(facts['config.env.DB_PASSWORD']).toMatch(new RegExp(`^${SECRET_HASH_PREFIX}[0-9a-f]{64}$`));
    expect(facts['config.env.UNWATCHED']).toBeUndefined();
    expect(facts['config.env.PATH']).toBeUndefined();
  });

  it('reads process.env by default', async () => {
    process.env.FEATURE_ENVPARITY_TEST = 'yes';
    try {
      const facts = await createConfigCollector().collect(makeContext(watched()));
      expect(facts['config.env.FEATURE_ENVPARITY_TEST']).toBe('yes');
    } finally {
      delete process.env.FEATURE_ENVPARITY_TEST;
    }
  });
});

describe('configCollector: files', () => {
  it('flattens JSON: nested keys, dotted keys as one segment, scalar arrays, object arrays by index', async () => {
    const facts = await collect();
    expect(facts[at('app.json', '#format')]).toBe('json');
    expect(facts[at('app.json', 'db', 'host')]).toBe('db.internal');
    expect(facts[at('app.json', 'db', 'port')]).toBe(5432);
    expect(facts[at('app.json', 'db', 'pool.size')]).toBe(10);
    expect(at('app.json', 'db', 'pool.size')).toBe(`config.file[${JSON.stringify(file('app.json'))}].db["pool.size"]`);
    expect(facts[at('app.json', 'features')]).toEqual(['a', 'b']);
    expect(facts[at('app.json', 'servers', '0', 'host')]).toBe('s1');
    expect(facts[at('app.json', 'servers', '1', 'host')]).toBe('s2');
    expect(facts[at('app.json', 'empty')]).toEqual([]);
    // a parsed key that looks like a marker is escaped, so the marker stays unambiguous
    expect(facts[at('app.json', '##sha256')]).toBe('not a marker');
    expect(facts[at('app.json', '#sha256')]).toBeUndefined();
  });

  it('flattens YAML, INI, .env and TOML', async () => {
    const facts = await collect();
    expect(facts[at('app.yaml', '#format')]).toBe('yaml');
    expect(facts[at('app.yaml', 'db', 'host')]).toBe('db.internal');
    expect(facts[at('app.yaml', 'db', 'port')]).toBe(5432);
    expect(facts[at('app.yaml', 'tags')]).toEqual(['x', 'y']);
    expect(facts[at('app.yaml', 'big')]).toBe('9007199254740993');
    expect(facts[at('app.yaml', 'nothing')]).toBeNull();

    expect(facts[at('app.ini', '#format')]).toBe('ini');
    expect(facts[at('app.ini', 'mode')]).toBe('fast');
    expect(facts[at('app.ini', 'debug')]).toBe(true);
    expect(facts[at('app.ini', 'database', 'user')]).toBe('app');

    expect(facts[at('.env', '#format')]).toBe('env');
    expect(facts[at('.env', 'LOG_LEVEL')]).toBe('info');
    expect(facts[at('.env', 'QUOTED')]).toBe('a b');

    expect(facts[at('app.toml', '#format')]).toBe('toml');
    expect(facts[at('app.toml', 'title')]).toBe('svc');
    expect(facts[at('app.toml', 'server', 'port')]).toBe(8080);
    expect(facts[at('app.toml', 'server', 'ratio')]).toBe(0.5);
    expect(facts[at('app.toml', 'server', 'started')]).toBe('1979-05-27T07:32:00.000Z');

    expect(facts[at('sniffed.conf', '#format')]).toBe('json');
    expect(facts[at('sniffed.conf', 'mode')]).toBe('json-without-extension');
    expect(facts[at('scalar.yaml', '#value')]).toBe('just a string');
  });

  it('hashes other files, marks missing and unreadable ones, never throws', async () => {
    const facts = await collect();
    const sha = execFileSync('sha256sum', [file('notes.txt')], { encoding: 'utf8' }).split(' ')[0];
    expect(facts[at('notes.txt', '#format')]).toBe('raw');
    expect(facts[at('notes.txt', '#sha256')]).toBe(sha);
    expect(facts[at('missing.yaml', '#missing')]).toBe(true);
    expect(Object.keys(facts).filter((p) => p.startsWith(at('missing.yaml')))).toHaveLength(1);
    expect(facts[at('a-directory', '#error')]).toBe('EISDIR');
    expect(facts[factPath('config', 'file', '/dev/zero', '#error')]).toBe('not a regular file');
    // an invalid YAML file is hashed, and the parser's message (which quotes content) is not kept
    expect(facts[at('bad.yaml', '#error')]).toBe('invalid yaml');
    expect(facts[at('bad.yaml', '#format')]).toBe('raw');
    expect(facts[at('bad.yaml', '#sha256')]).toMatch(/^[0-9a-f]{64}$/);
  });

  it('same content at the same path gives identical facts, whatever the mtime', async () => {
    const first = await collect();
    const later = new Date(Date.now() + 3_600_000);
    await Promise.all(Object.keys(FILES).map((name) => utimes(file(name), later, later)));
    const second = await collect();
    const files = (facts: FactMap) =>
      Object.fromEntries(Object.entries(facts).filter(([p]) => p.startsWith('config.file')));
    expect(files(second)).toEqual(files(first));
  });
});

describe('configCollector: secrets', () => {
  it('the canary appears nowhere, equal secrets hash equal, different ones differ', async () => {
    const facts = await collect();
    const serialized = JSON.stringify(facts);
    expect(serialized).not.toContain(CANARY);
    expect(serialized).not.toContain('canary');

    const fromEnv = facts['config.env.DB_PASSWORD'];
    expect(fromEnv).toMatch(new RegExp(`^${SECRET_HASH_PREFIX}`));
    expect(facts[at('app.yaml', 'password')]).toBe(fromEnv);
    expect(facts[at('app.yaml', 'db', 'password')]).toBe(fromEnv);
    expect(facts[at('.env', 'API_TOKEN')]).toBe(fromEnv);
    expect(facts[at('app.ini', 'database', 'password')]).toBe(fromEnv);
    // a file named like a secret has every value hashed, parsed or not
    expect(facts[at('secrets.yaml', 'db')]).toBe(fromEnv);
    expect(facts[at('db_password', '#sha256')]).toMatch(new RegExp(`^${SECRET_HASH_PREFIX}`));

    const other = facts[at('app.yaml', 'api_key')];
    expect(other).toMatch(new RegExp(`^${SECRET_HASH_PREFIX}`));
    expect(other).not.toBe(fromEnv);

    const changed = await collect({ ...ENV, DB_PASSWORD: 'another-value' });
    expect(changed['config.env.DB_PASSWORD']).not.toBe(fromEnv);
    // another fleet key, another hash: the hash is keyed
    const otherKey = await collect(ENV, 'another-fleet-key');
    expect(otherKey['config.env.DB_PASSWORD']).not.toBe(fromEnv);
  });
});

describe('configCollector: sysctl and ulimits', () => {
  it.skipIf(!commandExists('sysctl'))('sysctl values equal `sysctl -n`', async () => {
    const facts = await collect();
    let compared = 0;
    for (const name of SYSCTL_NAMES) {
      const path = factPath('config', 'sysctl', name);
      let expected: string;
      try {
        expected = execFileSync('sysctl', ['-n', name], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }).trim();
      } catch {
        expect(facts[path]).toBeUndefined();
        continue;
      }
      const value = facts[path];
      const text = Array.isArray(value) ? value.join(' ') : String(value);
      expect(text, name).toBe(expected.split(/\s+/).join(' '));
      compared++;
    }
    expect(compared).toBeGreaterThan(5);
    expect(facts['config.sysctl["net.core.somaxconn"]']).toBeTypeOf('number');
    const range = facts['config.sysctl["net.ipv4.ip_local_port_range"]'];
    expect(Array.isArray(range) && range.length === 2 && range.every((n) => typeof n === 'number')).toBe(true);
  });

  it.skipIf(!commandExists('bash') || process.platform !== 'linux')('ulimits equal what `ulimit` reports', async () => {
    const facts = await collect();
    const [nofile, nproc, stackKb, coreBlocks] = execFileSync(
      'bash',
      ['-c', 'ulimit -n; ulimit -u; ulimit -s; ulimit -c'],
      {
        encoding: 'utf8',
      },
    )
      .trim()
      .split('\n');
    const expected = (text: string | undefined, unit = 1) => (text === 'unlimited' ? 'unlimited' : Number(text) * unit);
    expect(facts['config.ulimit.nofile']).toBe(expected(nofile));
    expect(facts['config.ulimit.nproc']).toBe(expected(nproc));
    expect(facts['config.ulimit.stack']).toBe(expected(stackKb, 1024));
    expect(facts['config.ulimit.core']).toBe(expected(coreBlocks, 1024));
  });

  it('does not emit the os collector facts (timezone, locale)', async () => {
    const facts = await collect();
    expect(Object.keys(facts).every((p) => p.startsWith('config.'))).toBe(true);
    expect(Object.keys(facts).some((p) => /timezone|locale/.test(p))).toBe(false);
  });
});
