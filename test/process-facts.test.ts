/**
 * Application processes, end to end (issue 9 req 1): a real agent daemon watches a real application
 * process (a small node script with its own environment) and reports its env, argv and runtime
 * under `process.api.*`. The application is restarted with a changed env var — the agent is not —
 * and the aggregator holds the new value within 5 s. While the app is down, the count drops to 0
 * and the last facts are kept, marked stale.
 */
import { randomBytes } from 'node:crypto';
import { factPath } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AgentHandle,
  type AggregatorHandle,
  cleanupProcesses,
  type ManagedProcess,
  spawnManaged,
  startAgent,
  startAggregator,
  waitFor,
} from './helpers/index.js';

const TAG = `envparity-app-${randomBytes(6).toString('hex')}`;
const CANARY = 'canary-process-db-password';
const APP_SCRIPT = 'setInterval(() => {}, 1 << 30); process.on("SIGTERM", () => process.exit(0));';

/** The app's whole environment: only what it is given, plus PATH. */
function startApp(env: Record<string, string>): ManagedProcess {
  return spawnManaged(process.execPath, ['-e', APP_SCRIPT, TAG, '--max-old-space-size=128'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    name: 'app',
  });
}

/** The agent's environment: the test's, without any variable it watches. */
function agentEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (/^(LOG_LEVEL|FEATURE_.*|DB_.*)$/.test(name)) delete env[name];
  return env;
}

const p = (...segments: string[]) => factPath('process', 'api', ...segments);

describe('application process facts (real agent, real aggregator, real app process)', () => {
  let aggregator: AggregatorHandle;
  let agent: AgentHandle;
  let app: ManagedProcess;

  const facts = async () =>
    (await aggregator.json<{ facts: Record<string, unknown> }>('/api/v1/hosts/app-host-1')).facts;

  beforeAll(async () => {
    aggregator = await startAggregator();
    app = startApp({ LOG_LEVEL: 'info', FEATURE_CHECKOUT: 'on', DB_PASSWORD: CANARY });
    agent = await startAgent({
      aggregatorUrl: aggregator.url,
      hostId: 'app-host-1',
      environment: 'staging',
      interval: 3600,
      env: agentEnv(),
      config: {
        watch: {
          envVars: ['LOG_LEVEL', 'FEATURE_*', 'DB_*'],
          processes: [{ name: 'api', match: TAG }],
        },
      },
    });
    await waitFor(async () => (await facts())[p('env', 'LOG_LEVEL')] === 'info', {
      timeoutMs: 30_000,
      message: 'the first report with the app process',
    });
  }, 90_000);

  afterAll(() => cleanupProcesses());

  it("reports the app's own environment, argv and runtime, not the agent's", async () => {
    const current = await facts();
    expect(current[p('env', 'LOG_LEVEL')]).toBe('info');
    expect(current[p('env', 'FEATURE_CHECKOUT')]).toBe('on');
    expect(current[p('env', 'DB_PASSWORD')]).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(current[p('env', 'PATH')]).toBeUndefined();
    expect(current[p('argv')]).toEqual([process.execPath, '-e', APP_SCRIPT, TAG, '--max-old-space-size=128']);
    expect(current[p('runtime', 'name')]).toBe('node');
    expect(current[p('runtime', 'version')]).toBe(process.versions.node);
    expect(current[p('count')]).toBe(1);
    expect(typeof current[p('limit', 'nofile')]).not.toBe('undefined');
    // The agent's own environment holds none of the watched variables.
    expect(current['config.env.LOG_LEVEL']).toBeUndefined();
    expect(JSON.stringify(current)).not.toContain(CANARY);
  });

  it('an app restart with a changed env var reaches the aggregator within 5 s, the agent still running', async () => {
    const agentPid = agent.pid;
    await app.kill('SIGTERM');
    // Down: the count drops to 0, the last facts are kept (marked stale on the agent).
    await waitFor(async () => (await facts())[p('count')] === 0, {
      timeoutMs: 5_000,
      message: 'process.api.count 0 after the app stopped',
    });
    const down = await facts();
    expect(down[p('env', 'LOG_LEVEL')]).toBe('info');
    // The stale marker is volatile (never compared) but sent at once, not held back like pids.
    await waitFor(async () => (await facts())[p('stale')] === true, {
      timeoutMs: 3_000,
      message: 'process.api.stale true while the app is down',
    });

    app = startApp({ LOG_LEVEL: 'debug', FEATURE_CHECKOUT: 'on', DB_PASSWORD: CANARY });
    const restartedAt = Date.now();
    await waitFor(async () => (await facts())[p('env', 'LOG_LEVEL')] === 'debug', {
      timeoutMs: 5_000,
      intervalMs: 100,
      message: 'process.api.env.LOG_LEVEL = debug after the app restart',
    });
    expect(Date.now() - restartedAt).toBeLessThan(5_000);
    const after = await facts();
    expect(after[p('count')]).toBe(1);
    expect(after[p('stale')]).toBeUndefined();
    expect(after[p('env', 'FEATURE_CHECKOUT')]).toBe('on');
    expect(agent.process.running).toBe(true);
    expect(agent.pid).toBe(agentPid);

    // The change is in the host's timeline, from info to debug.
    const { changes } = await aggregator.json<{ changes: { path: string; from?: unknown; to?: unknown }[] }>(
      '/api/v1/hosts/app-host-1/changes',
    );
    expect(changes).toContainEqual(expect.objectContaining({ path: p('env', 'LOG_LEVEL'), from: 'info', to: 'debug' }));
    expect(agent.logs.join('\n')).not.toContain(CANARY);
  });
});
