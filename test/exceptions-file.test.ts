/**
 * Exceptions kept as code (issue 9 req 5): a real aggregator process with a config declaring its
 * environments and an exceptions file. The file's exceptions are there at start, before any host
 * reports (the environments are declared), merged with API-created ones and marked with their
 * source; editing the file and sending SIGHUP changes the set; a broken file on SIGHUP keeps the
 * previous set and logs why; file exceptions cannot be deleted through the API.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AGGREGATOR_BIN,
  cleanupProcesses,
  makeTempDir,
  spawnManaged,
  startAggregator,
  TEST_ENROLL_SECRET,
} from './helpers/index.js';

afterAll(() => cleanupProcesses());

interface ApiException {
  id: string;
  path: string;
  environments: string[];
  reason: string;
  source: string;
  expired: boolean;
}

describe('exceptions file', () => {
  it('loads at start, merges with API exceptions, reloads on SIGHUP and keeps the last good set', async () => {
    const dir = await makeTempDir('envparity-e2e-exceptions-');
    const configFile = join(dir, 'aggregator.yaml');
    const exceptionsFile = join(dir, 'policy', 'exceptions.yaml');
    await writeFile(
      configFile,
      [
        'promotion: [staging, production]',
        'environments: [perf]',
        'exceptions: policy/exceptions.yaml', // relative to the config file's dir
        '',
      ].join('\n'),
    );
    await mkdir(join(dir, 'policy'));
    await writeFile(
      exceptionsFile,
      [
        '- id: staging-debug-logs',
        '  path: config.env.LOG_LEVEL',
        '  environments: [staging, production]',
        '  reason: verbose logs in staging',
        '  owner: platform',
        '- path: hardware.**',
        '  environments: [perf]',
        '  reason: the perf rig is bigger',
        '',
      ].join('\n'),
    );
    const aggregator = await startAggregator({ args: ['--config', configFile], env: { ENVPARITY_FLEET_KEY: 'k' } });
    const list = async () =>
      (await aggregator.json<{ exceptions: ApiException[] }>('/api/v1/exceptions')).exceptions
        .map((e) => `${e.path} ${e.environments.join(',')} ${e.source}`)
        .sort();
    const source = `file:${exceptionsFile}`;

    // Declared environments are there with 0 hosts, and no host has reported anything.
    const environments = await aggregator.json<{ name: string; hosts: number }[]>('/api/v1/environments');
    expect(environments.map((env) => [env.name, env.hosts])).toEqual([
      ['staging', 0],
      ['production', 0],
      ['perf', 0],
    ]);
    expect(await aggregator.json('/api/v1/hosts')).toEqual({ hosts: [] });
    expect(await list()).toEqual([`config.env.LOG_LEVEL staging,production ${source}`, `hardware.** perf ${source}`]);

    // An API exception naming a declared environment, before any host reports it.
    const created = await aggregator.api('/api/v1/exceptions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: 'library.**', environments: ['perf'], reason: 'perf runs nightly builds' }),
    });
    expect(created.status).toBe(201);
    expect(((await created.json()) as ApiException).source).toBe('api');

    // File exceptions cannot be deleted through the API.
    const refused = await aggregator.api('/api/v1/exceptions/staging-debug-logs', { method: 'DELETE' });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(exceptionsFile);

    // Edit the file: one entry removed, one added; SIGHUP reloads it.
    await writeFile(
      exceptionsFile,
      [
        '- id: staging-debug-logs',
        '  path: config.env.LOG_LEVEL',
        '  environments: [staging, production]',
        '  reason: verbose logs in staging',
        '- path: config.env.FEATURE_*',
        '  environments: [staging, production]',
        '  reason: features are tried in staging first',
        '',
      ].join('\n'),
    );
    const mark = aggregator.logs.length;
    process.kill(aggregator.pid, 'SIGHUP');
    await aggregator.process.waitForLog((line) => line.msg === 'exceptions file loaded', {
      from: mark,
      what: 'the reload line',
    });
    expect(await list()).toEqual([
      `config.env.FEATURE_* staging,production ${source}`,
      `config.env.LOG_LEVEL staging,production ${source}`,
      'library.** perf api',
    ]);

    // A broken file on SIGHUP: an error naming the entry, the previous set stays, the process lives.
    await writeFile(exceptionsFile, '- path: config.env.X\n  environments: [staging]\n');
    const before = aggregator.logs.length;
    process.kill(aggregator.pid, 'SIGHUP');
    const error = await aggregator.process.waitForLog(
      (line) => line.msg === 'exceptions file not reloaded: the previous exceptions stay in force',
      { from: before, what: 'the reload error' },
    );
    expect(JSON.stringify(error)).toContain('exception 1 (path config.env.X): `reason` is required');
    expect(await list()).toEqual([
      `config.env.FEATURE_* staging,production ${source}`,
      `config.env.LOG_LEVEL staging,production ${source}`,
      'library.** perf api',
    ]);
    expect(aggregator.process.running).toBe(true);
    expect((await fetch(`${aggregator.url}/healthz`)).status).toBe(200);

    // Log lines carry ISO timestamps.
    const timed = aggregator.process.jsonLogs(0).find((line) => line.msg === 'listening');
    expect(String(timed?.time)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    expect(await aggregator.stop()).toEqual({ code: 0, signal: null });

    // A restart with the fixed file picks it up; a broken file at start is a config error (exit 2).
    await writeFile(exceptionsFile, '- { path: config.env.X, environments: [staging], reason: fixed }\n');
    const again = await aggregator.restart();
    const reloaded = await again.json<{ exceptions: ApiException[] }>('/api/v1/exceptions');
    expect(reloaded.exceptions.map((e) => e.path).sort()).toEqual(['config.env.X', 'library.**']);
    expect(await again.stop()).toEqual({ code: 0, signal: null });
    await writeFile(exceptionsFile, '- { path: config.env.X, environments: [qa], reason: r }\n');
    const broken = spawnManaged(
      process.execPath,
      [AGGREGATOR_BIN, 'serve', '--config', configFile, '--port', '0', '--data', aggregator.dataDir],
      {
        env: {
          ...process.env,
          ENVPARITY_ENROLL_SECRET: TEST_ENROLL_SECRET,
          ENVPARITY_ADMIN_TOKEN: 'exceptions-admin-token-0123456789',
        },
        name: 'broken',
      },
    );
    expect((await broken.exited).code).toBe(2);
    expect(broken.logs.join('\n')).toContain(
      `${exceptionsFile}: exception 1 (path config.env.X): unknown environment "qa": declare it in the aggregator config`,
    );
  }, 90_000);
});
