/**
 * Agent fail-over between aggregators (issue 15 req 4), the BUILT bins as real processes on
 * 127.0.0.1. The agent is given two URLs, the first a port where nothing listens: it enrolls and
 * reports through the second. That one is SIGKILLed; while it is down the host changes a watched
 * file; a new aggregator on the SAME data dir (one SQLite file: a shared store, as several
 * aggregators share PostgreSQL) comes up on the FIRST URL's port. The agent moves there by itself,
 * replays its spool, and the change is recorded exactly once, under the same host and token.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
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
  runAgentCli,
  startAgent,
  startAggregator,
  waitFor,
} from './helpers/index.js';

afterEach(() => cleanupProcesses());

/** A full pass per hour: the change seen here comes from the file watch. */
const INTERVAL_SECONDS = 3600;
const HOST_ID = 'stg-1';

/** A port on 127.0.0.1 that nothing listens on (bound, read, released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function changesOf(aggregator: AggregatorHandle, hostId: string): Promise<ApiChange[]> {
  const body = await aggregator.json<{ changes: ApiChange[]; truncated: boolean }>(
    `/api/v1/hosts/${encodeURIComponent(hostId)}/changes?limit=10000`,
  );
  expect(body.truncated).toBe(false);
  return body.changes;
}

function hostOf(aggregator: AggregatorHandle, hostId: string): Promise<ApiHostDetail> {
  return aggregator.json<ApiHostDetail>(`/api/v1/hosts/${encodeURIComponent(hostId)}`);
}

/** The agent's JSON log line `msg` (with `fields`) written after log index `from`. */
function agentLogged(agent: AgentHandle, msg: string, from: number, fields: Record<string, unknown> = {}) {
  return agent.process.waitForLog(
    (line) => line.msg === msg && Object.entries(fields).every(([key, value]) => line[key] === value),
    { from, timeoutMs: 45_000, what: `"${msg}" ${JSON.stringify(fields)}` },
  );
}

const logLines = (agent: AgentHandle, msg: string) =>
  agent.logs.filter((line) => {
    try {
      return (JSON.parse(line) as { msg?: unknown }).msg === msg;
    } catch {
      return false;
    }
  });

describe('agent fail-over between aggregators', () => {
  it('moves to the next aggregator URL, replays its spool there, and nothing is lost or counted twice', async () => {
    const deadPort = await freePort();
    const firstUrl = `ws://127.0.0.1:${deadPort}/api/v1/agent`;
    const second = await startAggregator();
    const file = join(await makeTempDir('envparity-e2e-etc-'), 'app.env');
    await writeFile(file, 'LOG_LEVEL=info\n');
    const path = factPath('config', 'file', file, 'LOG_LEVEL');

    // `--aggregator` twice: the first (nothing listening) is tried first, then the second.
    const agent = await startAgent({
      aggregatorUrl: `http://127.0.0.1:${deadPort}`,
      args: ['--aggregator', second.url],
      hostId: HOST_ID,
      environment: 'staging',
      config: { watch: { files: [file] } },
      interval: INTERVAL_SECONDS,
    });
    const firstConnect = await agentLogged(agent, 'connected to the aggregator', 0);
    expect(firstConnect.aggregator).toBe(second.wsUrl);
    // The dead URL was tried first and named in the log; the move to the second one was a fail-over.
    await agentLogged(agent, 'cannot reach the aggregator', 0, { aggregator: firstUrl });
    await agentLogged(agent, 'failing over to the next aggregator', 0, { aggregator: second.wsUrl });
    await waitFor(async () => ((await hostOf(second, HOST_ID)).facts[path] === 'info' ? true : undefined), {
      timeoutMs: 20_000,
      message: `${HOST_ID} reporting ${path} = info through the second aggregator`,
    });
    const token = await readFile(join(agent.stateDir, 'agent-token'), 'utf8');
    expect(logLines(agent, 'enrolling')).toHaveLength(1);

    // The second aggregator dies; while it is down the host changes a watched fact, which is spooled.
    await second.kill('SIGKILL');
    const downMark = agent.logs.length;
    await writeFile(file, 'LOG_LEVEL=debug\n');
    const spooled = await agentLogged(agent, 'report spooled', downMark, { reason: 'change' });
    const spooledSeqs = spooled.seqs as number[];
    expect(spooledSeqs.length).toBeGreaterThan(0);
    const changeSeq = Math.max(...spooledSeqs);

    // A new aggregator over the same store, on the FIRST URL's port: the agent must move there.
    const third = await startAggregator({ dataDir: second.dataDir, port: deadPort });
    expect(third.wsUrl).toBe(firstUrl);
    const moved = await agentLogged(agent, 'connected to the aggregator', downMark, { aggregator: firstUrl });
    // The welcome's lastSeq is what the store had: the spooled change is replayed, not more.
    expect(moved.lastSeq as number).toBeLessThan(changeSeq);

    const change = await waitFor(
      async () => (await changesOf(third, HOST_ID)).find((c) => c.path === path && c.to === 'debug'),
      { timeoutMs: 20_000, message: `the replayed change ${path} info -> debug` },
    );
    expect(change).toMatchObject({ from: 'info', to: 'debug', seq: changeSeq });
    const changes = await changesOf(third, HOST_ID);
    // The first report is the initial state, not a change: the timeline holds the replayed change once.
    expect(changes.filter((c) => c.path === path).map((c) => [c.from, c.to])).toEqual([['info', 'debug']]);
    const seqPaths = changes.map((c) => `${c.seq} ${c.path}`);
    expect(new Set(seqPaths).size).toBe(seqPaths.length);

    const host = await waitFor(
      async () => {
        const detail = await hostOf(third, HOST_ID);
        return detail.lastSeq >= changeSeq ? detail : undefined;
      },
      { message: 'the host acknowledged up to the replayed seq' },
    );
    expect(host.facts[path]).toBe('debug');
    expect(host.lastSeq).toBe(changeSeq);

    // Same host, same token: the agent said hello with its credentials and never enrolled again.
    const hosts = await third.json<{ hosts: ApiHost[] }>('/api/v1/hosts');
    expect(hosts.hosts.map((h) => h.id)).toEqual([HOST_ID]);
    expect(await readFile(join(agent.stateDir, 'agent-token'), 'utf8')).toBe(token);
    expect(logLines(agent, 'enrolling')).toHaveLength(1);
    expect(logLines(agent, 'enrolled: token and fleet key saved')).toHaveLength(1);

    expect((await agent.stop()).code).toBe(0);
    expect((await third.stop()).code).toBe(0);
    expect(await integrityCheck(third.dbPath)).toEqual(['ok']);
  }, 90_000);

  it('verify tries the aggregator URLs in order until one answers, and names every failure when none does', async () => {
    const [deadPort, otherDeadPort] = [await freePort(), await freePort()];
    const aggregator = await startAggregator();
    const file = join(await makeTempDir('envparity-e2e-etc-'), 'app.env');
    await writeFile(file, 'LOG_LEVEL=info\n');
    const agent = await startAgent({
      aggregatorUrl: aggregator.url,
      hostId: HOST_ID,
      environment: 'staging',
      config: { watch: { files: [file] } },
      interval: INTERVAL_SECONDS,
    });
    const path = factPath('config', 'file', file, 'LOG_LEVEL');
    await waitFor(async () => ((await hostOf(aggregator, HOST_ID)).facts[path] === 'info' ? true : undefined), {
      timeoutMs: 20_000,
      message: `${HOST_ID} reporting ${path}`,
    });
    const verify = (...urls: string[]) =>
      runAgentCli([
        'verify',
        '--against',
        'staging',
        ...urls.flatMap((url) => ['--aggregator', url]),
        '--token',
        aggregator.adminToken,
        '--config',
        agent.configFile,
        '--state-dir',
        agent.stateDir,
        '--category',
        'config',
        '--format',
        'json',
      ]);

    const answered = await verify(`http://127.0.0.1:${deadPort}`, aggregator.url);
    expect(answered.code, answered.stderr).toBe(0);
    expect(JSON.parse(answered.stdout)).toMatchObject({ passed: true });

    const none = await verify(`http://127.0.0.1:${deadPort}`, `http://127.0.0.1:${otherDeadPort}`);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no aggregator answered: ');
    expect(none.stderr).toContain(`[0] http://127.0.0.1:${deadPort}/: aggregator unreachable`);
    expect(none.stderr).toContain(`[1] http://127.0.0.1:${otherDeadPort}/: aggregator unreachable`);

    // `run` refuses two URLs that are one aggregator, naming the index.
    const twice = await runAgentCli(['run', '--aggregator', aggregator.url, '--aggregator', aggregator.wsUrl]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('aggregator[1]: the same aggregator as aggregator[0]');
    expect((await agent.stop()).code).toBe(0);
  }, 60_000);
});
