import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AgentConfigInput, factPath, validateAgentConfig } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execCommand } from '../exec.js';
import { mergeCollectorResults, runCollectors } from '../run-collectors.js';
import { createSecretHasher, SECRET_HASH_PREFIX } from '../secrets.js';
import { probeCollector } from './probe.js';
import { probeFailure, probeOutputFacts, truncateUtf8 } from './probe-output.js';
import type { CollectorContext } from './types.js';

const CANARY = 'canary-XYZ';

function makeContext(input: AgentConfigInput): CollectorContext {
  const config = validateAgentConfig(input);
  const signal = new AbortController().signal;
  return {
    config,
    secrets: createSecretHasher('test-fleet-key', config.secrets),
    signal,
    exec: (file, args, options = {}) => execCommand(file, args, { signal, ...options }),
  };
}

/** Running (a zombie waiting for a busy init to reap it counts as dead). */
const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envparity-probe-'));
});
afterAll(async () => {
  // the escaped grandchild of the setsid probe: not ours to leave behind
  const pidFile = join(dir, 'escaped.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8'));
    if (pid > 0 && isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  await rm(dir, { recursive: true, force: true });
});

describe('probeCollector', () => {
  it('runs probes in parallel; hanging ones time out without holding back the others', async () => {
    const pidFile = join(dir, 'escaped.pid');
    const grandchildPidFile = join(dir, 'grandchild.pid');
    const context = makeContext({
      watch: {
        probes: [
          { name: 'number', command: 'echo " 42 "', timeout: 5 },
          { name: 'float', command: 'echo 1.5', timeout: 5 },
          {
            name: 'json',
            command: `echo '{"version": 3, "tables": {"users": {"rows": 10}}, "tags": ["a", "b"], "password": "${CANARY}", "#x": 1}'`,
            timeout: 5,
          },
          { name: 'list', command: `echo '[1, 2, 3]'`, timeout: 5 },
          { name: 'text', command: "printf '  v1.2.3\\nbuilt today  \\n'", timeout: 5 },
          { name: 'long', command: "head -c 5000 /dev/zero | tr '\\0' a", timeout: 5 },
          { name: 'fails', command: 'echo partial; echo "oops: no table" >&2; echo second >&2; exit 3', timeout: 5 },
          { name: 'missing', command: 'definitely-not-a-command-envparity', timeout: 5 },
          { name: 'hangs', command: 'sleep 30', timeout: 1 },
          { name: 'grandchild', command: `sh -c 'sleep 30 & echo $! > ${grandchildPidFile}; sleep 30'`, timeout: 1 },
          // escapes the process group and keeps stdout open: only the collector's grace period saves it
          { name: 'escaped', command: `setsid sh -c 'echo $$ > ${pidFile}; exec sleep 20' &`, timeout: 1 },
          { name: 'db_password', command: `echo ${CANARY}`, timeout: 5 },
        ],
      },
    });
    const started = performance.now();
    const facts = await probeCollector.collect(context);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(1_900);

    expect(facts['probe.number']).toBe(42);
    expect(facts['probe.float']).toBe(1.5);
    expect(facts['probe.json.version']).toBe(3);
    expect(facts['probe.json.tables.users.rows']).toBe(10);
    expect(facts['probe.json.tags']).toEqual(['a', 'b']);
    expect(facts['probe.json.password']).toMatch(new RegExp(`^${SECRET_HASH_PREFIX}`));
    expect(facts[factPath('probe', 'json', '##x')]).toBe(1);
    expect(facts['probe.list']).toEqual([1, 2, 3]);
    expect(facts['probe.text']).toBe('v1.2.3\nbuilt today');
    expect(facts['probe.long']).toBe('a'.repeat(1024));
    expect(facts['probe.fails.error']).toBe('exit 3: oops: no table');
    expect(facts['probe.fails']).toBeUndefined();
    expect(facts['probe.missing.error']).toMatch(/^exit 127: .*not found/);
    expect(facts['probe.hangs.error']).toBe('timeout after 1 s');
    expect(facts['probe.grandchild.error']).toBe('timeout after 1 s');
    expect(facts['probe.escaped.error']).toBe('timeout after 1 s');
    expect(facts.probe_password).toBeUndefined();
    expect(facts['probe.db_password']).toBe(context.secrets.hash(CANARY));
    expect(JSON.stringify(facts)).not.toContain(CANARY);

    // the hanging probes' process groups were killed, grandchildren included
    const grandchild = Number(readFileSync(grandchildPidFile, 'utf8'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(isAlive(grandchild)).toBe(false);
  });

  it('keeps its results when the runner per-collector timeout is shorter than a probe timeout', async () => {
    const config = validateAgentConfig({
      watch: {
        probes: [
          { name: 'quick', command: 'echo 1', timeout: 5 },
          { name: 'slow', command: 'sleep 1.2; echo 2', timeout: 5 },
        ],
      },
    });
    const result = await runCollectors([probeCollector], {
      config,
      secrets: createSecretHasher('k', config.secrets),
      timeoutMs: 500,
    });
    const merged = mergeCollectorResults(result.collectors);
    expect(merged.errors).toEqual([]);
    expect(merged.facts).toEqual({ 'probe.quick': 1, 'probe.slow': 2 });
  });

  it('with no probes, returns no facts', async () => {
    expect(await probeCollector.collect(makeContext({}))).toEqual({});
  });
});

describe('probe-output', () => {
  const secrets = createSecretHasher('k', ['*PASSWORD*']);

  it('numbers, JSON, text', () => {
    expect(probeOutputFacts('n', '-3e2\n', secrets)).toEqual({ 'probe.n': -300 });
    expect(probeOutputFacts('n', '0x10', secrets)).toEqual({ 'probe.n': '0x10' });
    expect(probeOutputFacts('n', '9007199254740993', secrets)).toEqual({ 'probe.n': '9007199254740993' });
    expect(probeOutputFacts('j', '{}', secrets)).toEqual({ 'probe.j': '{}' });
    expect(probeOutputFacts('j', '{"a": {"b": [{"c": 1}]}}', secrets)).toEqual({ 'probe.j.a.b.0.c': 1 });
    expect(probeOutputFacts('t', '{not json', secrets)).toEqual({ 'probe.t': '{not json' });
    expect(probeOutputFacts('t', '', secrets)).toEqual({ 'probe.t': '' });
  });

  it('cuts text on a character boundary', () => {
    expect(truncateUtf8('é'.repeat(600), 1024)).toBe('é'.repeat(512));
    expect(truncateUtf8(`a${'é'.repeat(600)}`, 1024)).toBe(`a${'é'.repeat(511)}`);
  });

  it('describes failures', () => {
    const base = { stdout: '', stderr: '', code: 0, signal: null, timedOut: false } as const;
    expect(probeFailure(base, 5)).toBeUndefined();
    expect(probeFailure({ ...base, timedOut: true, code: null, signal: 'SIGKILL' }, 5)).toBe('timeout after 5 s');
    expect(probeFailure({ ...base, code: 2, stderr: '\n  bad thing  \nmore' }, 5)).toBe('exit 2: bad thing');
    expect(probeFailure({ ...base, code: 1 }, 5)).toBe('exit 1');
    expect(probeFailure({ ...base, code: null, signal: 'SIGTERM' }, 5)).toBe('killed by SIGTERM');
  });
});
