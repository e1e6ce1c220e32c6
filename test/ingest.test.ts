/**
 * Ingest end to end: the BUILT aggregator and agent bins as real processes on 127.0.0.1. Covers the
 * fleet listing, watched-file change detection (edit in place, replace by rename), and crash
 * recovery (issue 4 req 5): an aggregator killed with SIGKILL loses nothing the agents observed
 * while it was down, a killed agent replays without duplicating changes, and the store passes
 * `PRAGMA integrity_check` after each.
 */
import { rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { factPath } from '@envparity/shared';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AgentHandle,
  type AggregatorHandle,
  type ApiChange,
  type ApiHost,
  type ApiHostDetail,
  cleanupProcesses,
  integrityCheck,
  makeTempDir,
  mountNamespaceSupport,
  startAgent,
  startAggregator,
  waitFor,
} from './helpers/index.js';

afterEach(() => cleanupProcesses());

/** A full pass per hour: every change seen in these tests comes from the file watches. */
const INTERVAL_SECONDS = 3600;
/** Issue 4: a watched change reaches the aggregator's timeline within seconds. */
const DETECTION_BUDGET_MS = 5000;

const logLevelPath = (file: string) => factPath('config', 'file', file, 'LOG_LEVEL');

async function writeEnvFile(file: string, level: string): Promise<void> {
  await writeFile(file, `LOG_LEVEL=${level}\nPORT=8080\n`);
}

/** A watched `app.env` in a fresh dir, starting at `level`. */
async function makeAppEnv(level: string): Promise<string> {
  const dir = await makeTempDir('envparity-e2e-etc-');
  const file = join(dir, 'app.env');
  await writeEnvFile(file, level);
  return file;
}

function agentConfig(file: string): Record<string, unknown> {
  return { labels: { service: 'api' }, watch: { files: [file] } };
}

async function changesOf(aggregator: AggregatorHandle, hostId: string): Promise<ApiChange[]> {
  const body = await aggregator.json<{ changes: ApiChange[]; truncated: boolean }>(
    `/api/v1/hosts/${encodeURIComponent(hostId)}/changes?limit=10000`,
  );
  expect(body.truncated).toBe(false);
  return body.changes;
}

/** Waits for a `from -> to` change of `path` in the host's timeline and returns it. */
function waitForChange(
  aggregator: AggregatorHandle,
  hostId: string,
  path: string,
  from: unknown,
  to: unknown,
  timeoutMs = DETECTION_BUDGET_MS,
): Promise<ApiChange> {
  return waitFor(
    async () => (await changesOf(aggregator, hostId)).find((c) => c.path === path && c.from === from && c.to === to),
    { timeoutMs, intervalMs: 100, message: `change ${path} ${String(from)} -> ${String(to)} on ${hostId}` },
  );
}

/** Waits until the host's current facts hold `value` at `path` (the agent's first report is in). */
function waitForFact(aggregator: AggregatorHandle, hostId: string, path: string, value: unknown, timeoutMs = 20_000) {
  return waitFor(
    async () => {
      const host = await aggregator.json<ApiHostDetail>(`/api/v1/hosts/${encodeURIComponent(hostId)}`);
      return host.facts[path] === value ? host : undefined;
    },
    { timeoutMs, message: `${hostId} reporting ${path} = ${JSON.stringify(value)}` },
  );
}

/** Every change recorded once: no two rows for the same report and path, nor the same transition at the same time. */
function expectNoDuplicates(changes: readonly ApiChange[]): void {
  const bySeqPath = new Map<string, number>();
  const byTransition = new Map<string, number>();
  for (const c of changes) {
    const k1 = `${c.seq}\u0000${c.path}`;
    const k2 = JSON.stringify([c.path, c.from, c.to, c.at]);
    bySeqPath.set(k1, (bySeqPath.get(k1) ?? 0) + 1);
    byTransition.set(k2, (byTransition.get(k2) ?? 0) + 1);
  }
  expect([...bySeqPath].filter(([, n]) => n > 1)).toEqual([]);
  expect([...byTransition].filter(([, n]) => n > 1)).toEqual([]);
}

function countTransitions(changes: readonly ApiChange[], path: string, from: unknown, to: unknown): number {
  return changes.filter((c) => c.path === path && c.from === from && c.to === to).length;
}

/** Waits for the agent's JSON log line matching `msg` (and `fields`) written after log index `from`. */
function agentLogged(agent: AgentHandle, msg: string, from: number, fields: Record<string, unknown> = {}) {
  return agent.process.waitForLog(
    (line) => line.msg === msg && Object.entries(fields).every(([k, v]) => line[k] === v),
    { from, timeoutMs: 15_000, what: `"${msg}"` },
  );
}

/** A counter's value in the aggregator's Prometheus text (0 when absent). */
async function metricValue(aggregator: AggregatorHandle, series: string): Promise<number> {
  const line = (await aggregator.metrics()).split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const HEARTBEATS = 'envparity_ingest_messages_total{type="heartbeat"}';

/**
 * Restarts an agent and waits until its startup pass is fully handled: the pass ends either in a
 * spooled report (then: until the aggregator stored that seq) or, when nothing changed, in a heartbeat
 * (counted by the aggregator).
 */
async function restartAndSettle(aggregator: AggregatorHandle, agent: AgentHandle): Promise<AgentHandle> {
  const heartbeats = await metricValue(aggregator, HEARTBEATS);
  const restarted = await agent.restart();
  await agentLogged(restarted, 'collection pass done', 0);
  await waitFor(
    async () =>
      restarted.process.jsonLogs().some((line) => line.msg === 'report spooled') ||
      (await metricValue(aggregator, HEARTBEATS)) > heartbeats,
    { timeoutMs: 15_000, message: `${agent.hostId}: a report or a heartbeat after its startup pass` },
  );
  const seqs = restarted.process
    .jsonLogs()
    .filter((line) => line.msg === 'report spooled')
    .flatMap((line) => line.seqs as number[]);
  const target = Math.max(0, ...seqs);
  await waitFor(
    async () =>
      (await aggregator.json<ApiHostDetail>(`/api/v1/hosts/${encodeURIComponent(agent.hostId)}`)).lastSeq >= target,
    { timeoutMs: 15_000, message: `${agent.hostId} stored up to seq ${target}` },
  );
  return restarted;
}

describe('ingest across processes', () => {
  it('lists two real agents (staging, production) with their facts', async () => {
    const aggregator = await startAggregator();
    const stagingFile = await makeAppEnv('info');
    const productionFile = await makeAppEnv('debug');
    await Promise.all([
      startAgent({
        aggregatorUrl: aggregator.url,
        hostId: 'stg-1',
        environment: 'staging',
        config: agentConfig(stagingFile),
        interval: INTERVAL_SECONDS,
      }),
      startAgent({
        aggregatorUrl: aggregator.wsUrl,
        hostId: 'prd-1',
        environment: 'production',
        config: agentConfig(productionFile),
        interval: INTERVAL_SECONDS,
      }),
    ]);

    const staging = await waitForFact(aggregator, 'stg-1', logLevelPath(stagingFile), 'info');
    const production = await waitForFact(aggregator, 'prd-1', logLevelPath(productionFile), 'debug');

    const { hosts } = await aggregator.json<{ hosts: ApiHost[] }>('/api/v1/hosts');
    expect(hosts.map((h) => [h.id, h.environment, h.online])).toEqual([
      ['prd-1', 'production', true],
      ['stg-1', 'staging', true],
    ]);
    for (const host of hosts) {
      expect(host.fingerprint).toMatch(/^ep1:[0-9a-f]{64}$/);
      expect(host.labels).toEqual({ service: 'api' });
    }
    for (const host of [staging, production]) {
      const categories = new Set(Object.keys(host.facts).map((path) => path.split(/[.[]/)[0]));
      expect([...categories]).toEqual(expect.arrayContaining(['os', 'host', 'config', 'runtime']));
      expect(host.facts[factPath('runtime', 'node', 'version')]).toMatch(/^\d+\.\d+\.\d+/);
    }
    const { hosts: filtered } = await aggregator.json<{ hosts: ApiHost[] }>('/api/v1/hosts?environment=staging');
    expect(filtered.map((h) => h.id)).toEqual(['stg-1']);

    const metrics = await aggregator.metrics();
    expect(metrics).toMatch(/^envparity_agents_connected 2$/m);
    expect(metrics).toMatch(/^envparity_hosts 2$/m);
  });

  it('records a watched file edited in place, then replaced by rename, within 5 s each', async () => {
    const aggregator = await startAggregator();
    const file = await makeAppEnv('info');
    const path = logLevelPath(file);
    await startAgent({
      aggregatorUrl: aggregator.url,
      hostId: 'stg-1',
      environment: 'staging',
      config: agentConfig(file),
      interval: INTERVAL_SECONDS,
    });
    await waitForFact(aggregator, 'stg-1', path, 'info');

    // In place: same inode, truncated and rewritten.
    const inode = (await stat(file)).ino;
    const editedAt = Date.now();
    await writeEnvFile(file, 'debug');
    expect((await stat(file)).ino).toBe(inode);
    const edited = await waitForChange(aggregator, 'stg-1', path, 'info', 'debug');
    expect(Date.parse(edited.at)).toBeGreaterThanOrEqual(editedAt - 1000);

    // Replaced: a new file renamed over the watched one (how editors and config management write).
    const replacedAt = Date.now();
    await writeEnvFile(`${file}.tmp`, 'warn');
    await rename(`${file}.tmp`, file);
    expect((await stat(file)).ino).not.toBe(inode);
    const replaced = await waitForChange(aggregator, 'stg-1', path, 'debug', 'warn');
    expect(Date.parse(replaced.at)).toBeGreaterThanOrEqual(replacedAt - 1000);
    expect(replaced.seq).toBeGreaterThan(edited.seq);

    // The first report is the host's initial state (not an addition): the timeline starts after it.
    const changes = await changesOf(aggregator, 'stg-1');
    expect(changes.filter((c) => c.path === path).map((c) => [c.from, c.to])).toEqual([
      ['info', 'debug'],
      ['debug', 'warn'],
    ]);
  });

  it('keeps every change observed while the aggregator was SIGKILLed, with its observed time', async () => {
    const aggregator = await startAggregator();
    const stagingFile = await makeAppEnv('info');
    const productionFile = await makeAppEnv('info');
    const [staging, production] = await Promise.all([
      startAgent({
        aggregatorUrl: aggregator.url,
        hostId: 'stg-1',
        environment: 'staging',
        config: agentConfig(stagingFile),
        interval: INTERVAL_SECONDS,
      }),
      startAgent({
        aggregatorUrl: aggregator.url,
        hostId: 'prd-1',
        environment: 'production',
        config: agentConfig(productionFile),
        interval: INTERVAL_SECONDS,
      }),
    ]);
    await waitForFact(aggregator, 'stg-1', logLevelPath(stagingFile), 'info');
    await waitForFact(aggregator, 'prd-1', logLevelPath(productionFile), 'info');

    // A change in flight, then SIGKILL: the moment the agent has spooled it (and is sending it), the
    // report may be unsent, sent but uncommitted, or committed.
    let stagingMark = staging.logs.length;
    await writeEnvFile(stagingFile, 'debug');
    await agentLogged(staging, 'report spooled', stagingMark, { reason: 'change' });
    await aggregator.kill('SIGKILL');

    // While it is down: both agents observe changes and spool them.
    stagingMark = staging.logs.length;
    const productionMark = production.logs.length;
    const downAt = Date.now();
    await writeEnvFile(productionFile, 'error');
    await writeEnvFile(stagingFile, 'warn');
    await agentLogged(production, 'report spooled', productionMark, { reason: 'change' });
    await agentLogged(staging, 'report spooled', stagingMark, { reason: 'change' });
    expect(await integrityCheck(aggregator.dbPath, { copy: true })).toEqual(['ok']);

    const restartedAt = Date.now();
    const restarted = await aggregator.restart();
    expect(restarted.port).toBe(aggregator.port);

    // Agents reconnect on their own (capped backoff) and replay their spools.
    const replayTimeout = 40_000;
    await waitForChange(restarted, 'stg-1', logLevelPath(stagingFile), 'info', 'debug', replayTimeout);
    const stagingDown = await waitForChange(
      restarted,
      'stg-1',
      logLevelPath(stagingFile),
      'debug',
      'warn',
      replayTimeout,
    );
    const productionDown = await waitForChange(
      restarted,
      'prd-1',
      logLevelPath(productionFile),
      'info',
      'error',
      replayTimeout,
    );
    for (const change of [stagingDown, productionDown]) {
      // The time the agent observed it, not the time the restarted aggregator received it.
      expect(Date.parse(change.at)).toBeGreaterThanOrEqual(downAt - 1000);
      expect(Date.parse(change.at)).toBeLessThan(restartedAt);
    }
    await waitFor(async () => /^envparity_agents_connected 2$/m.test(await restarted.metrics()), {
      message: 'both agents connected again',
    });
    const stagingChanges = await changesOf(restarted, 'stg-1');
    const productionChanges = await changesOf(restarted, 'prd-1');
    expectNoDuplicates(stagingChanges);
    expectNoDuplicates(productionChanges);
    expect(countTransitions(stagingChanges, logLevelPath(stagingFile), 'info', 'debug')).toBe(1);
    expect(countTransitions(stagingChanges, logLevelPath(stagingFile), 'debug', 'warn')).toBe(1);
    expect(countTransitions(productionChanges, logLevelPath(productionFile), 'info', 'error')).toBe(1);

    const agentExits = await Promise.all([staging.stop(), production.stop()]);
    expect(agentExits.map((exit) => exit.code)).toEqual([0, 0]);
    expect((await restarted.stop()).code).toBe(0);
    expect(await integrityCheck(restarted.dbPath)).toEqual(['ok']);
  }, 60_000);

  it('does not duplicate changes when an agent is SIGKILLed and restarted', async () => {
    const aggregator = await startAggregator();
    const file = await makeAppEnv('info');
    const path = logLevelPath(file);
    const options = {
      aggregatorUrl: aggregator.url,
      hostId: 'stg-1',
      environment: 'staging',
      config: agentConfig(file),
      interval: INTERVAL_SECONDS,
    };
    let agent = await startAgent(options);
    await waitForFact(aggregator, 'stg-1', path, 'info');

    // 1. Killed right after sending a report: acked or not, the restart replays it at most once.
    const mark = agent.logs.length;
    await writeEnvFile(file, 'debug');
    await agentLogged(agent, 'report sent', mark);
    await agent.kill('SIGKILL');
    await waitFor(async () => !(await aggregator.json<ApiHostDetail>('/api/v1/hosts/stg-1')).online, {
      message: 'the killed agent shown offline',
    });
    agent = await restartAndSettle(aggregator, agent);
    await waitForChange(aggregator, 'stg-1', path, 'info', 'debug');

    // 2. Killed, the file changed while it is down, restarted: the startup pass records it once.
    await agent.kill('SIGKILL');
    await writeEnvFile(file, 'warn');
    agent = await restartAndSettle(aggregator, agent);
    await waitForChange(aggregator, 'stg-1', path, 'debug', 'warn');

    // 3. A restart with nothing changed records nothing new for the watched file.
    const before = await changesOf(aggregator, 'stg-1');
    await agent.kill('SIGKILL');
    agent = await restartAndSettle(aggregator, agent);
    const after = await changesOf(aggregator, 'stg-1');
    expectNoDuplicates(after);
    expect(countTransitions(after, path, 'info', 'debug')).toBe(1);
    expect(countTransitions(after, path, 'debug', 'warn')).toBe(1);
    const watched = (changes: ApiChange[]) => changes.filter((c) => c.path.startsWith('config.file'));
    expect(watched(after)).toEqual(watched(before));

    expect((await agent.stop()).code).toBe(0);
    expect((await aggregator.stop()).code).toBe(0);
    expect(await integrityCheck(aggregator.dbPath)).toEqual(['ok']);
  }, 60_000);

  it.skipIf(!mountNamespaceSupport().ok)(
    'runs agents in private mount namespaces: same path, different files',
    async () => {
      const aggregator = await startAggregator();
      const shared = await makeTempDir('envparity-e2e-shared-etc-');
      const stagingDir = await makeTempDir('envparity-e2e-etc-staging-');
      const productionDir = await makeTempDir('envparity-e2e-etc-production-');
      await writeEnvFile(join(stagingDir, 'app.env'), 'info');
      await writeEnvFile(join(productionDir, 'app.env'), 'debug');
      const file = join(shared, 'app.env');
      const path = logLevelPath(file);
      const common = { aggregatorUrl: aggregator.url, config: agentConfig(file), interval: INTERVAL_SECONDS };
      await Promise.all([
        startAgent({
          ...common,
          hostId: 'stg-1',
          environment: 'staging',
          mountNamespace: { binds: [{ source: stagingDir, target: shared }] },
        }),
        startAgent({
          ...common,
          hostId: 'prd-1',
          environment: 'production',
          mountNamespace: { binds: [{ source: productionDir, target: shared }] },
        }),
      ]);
      await waitForFact(aggregator, 'stg-1', path, 'info');
      await waitForFact(aggregator, 'prd-1', path, 'debug');

      // A change through the source dir reaches only the agent that has it mounted.
      await writeEnvFile(join(productionDir, 'app.env'), 'error');
      await waitForChange(aggregator, 'prd-1', path, 'debug', 'error');
      // The staging host's timeline has no change of that path (its first report is its initial state).
      expect((await changesOf(aggregator, 'stg-1')).filter((c) => c.path === path)).toHaveLength(0);
    },
  );
});
