/**
 * Issue 10, requirement 2: no uncaught exception ever ends the daemon. A real Node process runs the
 * built agent library with a collector that throws from a timer and leaves a rejected promise
 * unhandled (stand-ins for any bug a hostile input could reach): the agent logs them, drops the
 * connection, reconnects with backoff and goes on reporting.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProcesses, makeTempDir, REPO_ROOT, spawnManaged, waitFor } from '../helpers/index.js';
import { FakeAggregator } from './fake-aggregator.js';

const fakes: FakeAggregator[] = [];
afterEach(async () => {
  await cleanupProcesses();
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

const SCRIPT = `
import { startAgent } from ${JSON.stringify(join(REPO_ROOT, 'agent/dist/index.js'))};
let passes = 0;
const buggy = {
  name: 'config',
  async collect() {
    passes++;
    if (passes === 1) {
      setTimeout(() => { throw new Error('boom from a timer'); }, 0);
      Promise.reject(new Error('boom from a promise'));
    }
    return { 'config.env.PASS': String(passes) };
  },
};
await startAgent({
  aggregator: process.env.AGGREGATOR,
  stateDir: process.env.STATE_DIR,
  hostId: 'uncaught-1',
  enrollSecret: 'enroll-secret',
  config: { interval: 1 },
  collectors: [buggy],
  packageDatabases: [],
  backoff: { baseMs: 50, capMs: 200 },
  logLevel: 'debug',
});
`;

describe('uncaught exceptions', () => {
  it('are logged, the agent reconnects and keeps reporting', async () => {
    const fake = await FakeAggregator.start();
    fakes.push(fake);
    const dir = await makeTempDir('envparity-security-uncaught-');
    const script = join(dir, 'agent.mjs');
    await writeFile(script, SCRIPT);
    const proc = spawnManaged(process.execPath, [script], {
      env: { ...process.env, AGGREGATOR: fake.url, STATE_DIR: join(dir, 'state') },
      name: 'buggy agent',
    });
    await proc.waitForLog((line) => String(line.msg).startsWith('uncaught error'), {
      timeoutMs: 20_000,
      what: 'the uncaught error logged',
    });
    // Both the thrown error and the unhandled rejection are logged, none ends the process.
    await waitFor(() => proc.jsonLogs().filter((line) => String(line.msg).startsWith('uncaught error')).length >= 2, {
      timeoutMs: 10_000,
      message: 'both uncaught errors logged',
    });
    const errors = proc.jsonLogs().filter((line) => String(line.msg).startsWith('uncaught error'));
    expect(errors.map((line) => line.err).sort()).toEqual(['boom from a promise', 'boom from a timer']);
    // Passes go on (interval 1 s) and keep reaching the aggregator, on a new connection.
    await waitFor(() => fake.messages('report').some((r) => r.delta?.config?.set?.['config.env.PASS'] === '4'), {
      timeoutMs: 20_000,
      message: 'a report from the fourth pass',
    });
    expect(fake.messages('hello').length).toBeGreaterThanOrEqual(2);
    expect(proc.running).toBe(true);
  }, 60_000);
});
