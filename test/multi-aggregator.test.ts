/**
 * Several aggregators on one PostgreSQL database (issue 15 reqs 3 and 5), the BUILT bins as real
 * processes on 127.0.0.1: two aggregators on a throwaway cluster, four agents split between them
 * (each given both URLs, its own aggregator first), a webhook receiver. A report through one
 * aggregator is answered by the other within 2 s, and "collect now" reaches an agent connected to the
 * other. Then, during a burst of changes, the leader is SIGKILLed: every change it acknowledged is
 * visible from the survivor, its agents move there and replay their spools (each change once, the
 * history unbroken), the survivor takes over the drift engine within 10 s, and no drift event is
 * opened twice.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { factPath } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AgentHandle,
  type AggregatorHandle,
  type ApiChange,
  type ApiHostDetail,
  cleanupProcesses,
  makeTempDir,
  startAgent,
  startAggregator,
  waitFor,
} from './helpers/index.js';
import { postgresUnavailable } from './helpers/postgres-databases.js';
import { type PostgresServer, startPostgres } from './helpers/postgres-server.js';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';

const PASSWORD = 'multi-aggregator-pg-Pw4';
const FLEET_KEY = 'multi-aggregator-fleet-key-5b0c6e1f9a2d4e8b';
const LEADS = 'cluster: this aggregator leads (drift passes, webhooks, retention)';
const BURST = 24;
const noPostgres = postgresUnavailable();

interface Fleet {
  postgres: PostgresServer;
  receiver: WebhookReceiver;
  first: AggregatorHandle;
  second: AggregatorHandle;
  files: Record<'staging' | 'production', string>;
  agents: Map<string, AgentHandle>;
}

/** Which aggregator each host's agent tries first. */
const HOSTS = [
  { id: 'stg-a', environment: 'staging', home: 'first' },
  { id: 'stg-b', environment: 'staging', home: 'second' },
  { id: 'prod-a', environment: 'production', home: 'first' },
  { id: 'prod-b', environment: 'production', home: 'second' },
] as const;

const hostOf = (aggregator: AggregatorHandle, id: string) => aggregator.json<ApiHostDetail>(`/api/v1/hosts/${id}`);

async function changesOf(aggregator: AggregatorHandle, id: string): Promise<ApiChange[]> {
  const body = await aggregator.json<{ changes: ApiChange[] }>(`/api/v1/hosts/${id}/changes?limit=10000`);
  return body.changes;
}

/** A drift event's identity in a webhook (the same difference, whoever announced it). */
function eventKey(data: Record<string, unknown>): string {
  return [data.kind, data.environment, data.otherEnvironment, data.hostId, data.path].join(' | ');
}

describe.skipIf(noPostgres !== undefined)(`two aggregators on one PostgreSQL database ${noPostgres ?? ''}`, () => {
  let fleet: Fleet;
  const counterPath = (environment: 'staging' | 'production') =>
    factPath('config', 'file', fleet.files[environment], 'COUNTER');

  beforeAll(async () => {
    const postgres = await startPostgres({
      roles: [{ name: 'envparity', password: PASSWORD }],
      databases: [{ name: 'fleet', owner: 'envparity' }],
    });
    const receiver = await startWebhookReceiver();
    const dir = await makeTempDir('envparity-multi-');
    const configFile = join(dir, 'aggregator.yaml');
    await writeFile(
      configFile,
      JSON.stringify({
        store: { url: `postgres://envparity:${PASSWORD}@127.0.0.1:${postgres.port}/fleet` },
        promotion: ['staging', 'production'],
        driftGroupWindow: 1,
        webhooks: [{ url: receiver.url }],
      }),
    );
    // Every aggregator on the database must hash secrets with the same fleet key.
    const start = () => startAggregator({ args: ['--config', configFile], env: { ENVPARITY_FLEET_KEY: FLEET_KEY } });
    const first = await start();
    await first.process.waitForLog((line) => line.msg === LEADS, { timeoutMs: 15_000, what: 'the first to lead' });
    const second = await start();
    const files = {
      staging: join(await makeTempDir('envparity-multi-stg-'), 'app.env'),
      production: join(await makeTempDir('envparity-multi-prod-'), 'app.env'),
    };
    await writeFile(files.staging, 'COUNTER=0\n');
    await writeFile(files.production, 'COUNTER=0\n');
    fleet = { postgres, receiver, first, second, files, agents: new Map() };
    for (const host of HOSTS) {
      const [home, other] = host.home === 'first' ? [first, second] : [second, first];
      const agent = await startAgent({
        aggregatorUrl: home.url,
        args: ['--aggregator', other.url],
        hostId: host.id,
        environment: host.environment,
        config: { watch: { files: [files[host.environment]] } },
        interval: 3600,
      });
      fleet.agents.set(host.id, agent);
    }
    // Each aggregator lists every host with its facts, whichever aggregator the agent is on.
    for (const aggregator of [first, second]) {
      await waitFor(
        async () => {
          for (const host of HOSTS) {
            const detail = await hostOf(aggregator, host.id).catch(() => undefined);
            if (detail?.facts[counterPath(host.environment)] !== '0') return undefined;
          }
          return true;
        },
        { timeoutMs: 45_000, message: `every host on ${aggregator.url}` },
      );
    }
  }, 180_000);

  afterAll(async () => {
    await cleanupProcesses();
    await fleet?.receiver.close();
    await fleet?.postgres.stop();
  });

  it('answers a report through one aggregator from the other within 2 s, and forwards "collect now"', async () => {
    const { first, second } = fleet;
    await writeFile(fleet.files.staging, 'COUNTER=warm\n');
    const seenAt = async (aggregator: AggregatorHandle) =>
      waitFor(
        async () =>
          (await hostOf(aggregator, 'stg-a')).facts[counterPath('staging')] === 'warm' ? Date.now() : undefined,
        { timeoutMs: 20_000, intervalMs: 20, message: `stg-a's change on ${aggregator.url}` },
      );
    // stg-a reports to the first; the second re-reads it when the first's commit is signalled.
    const [onFirst, onSecond] = await Promise.all([seenAt(first), seenAt(second)]);
    console.info(`[multi-aggregator] the second answered ${onSecond - onFirst} ms after the first`);
    expect(onSecond - onFirst).toBeLessThan(2_000);

    // stg-a is connected to the first: asking the second reaches it over NOTIFY.
    const stgA = fleet.agents.get('stg-a') as AgentHandle;
    const mark = stgA.logs.length;
    const response = await second.api('/api/v1/hosts/stg-a/collect', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ categories: ['config'] }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: 'stg-a', requested: true, categories: ['config'] });
    await stgA.process.waitForLog((line) => line.msg === 'the aggregator asked for a collection', {
      from: mark,
      timeoutMs: 10_000,
      what: 'the collect request forwarded to the first aggregator',
    });
    // Only the first leads; the second answers drift from the events the first wrote.
    expect(second.process.jsonLogs().some((line) => line.msg === LEADS)).toBe(false);
  }, 60_000);

  it('loses nothing when the leader is SIGKILLed during a burst: agents, changes and leadership move once', async () => {
    const { first, second, receiver } = fleet;
    // The pair differences (each environment's file is its own path) are open and announced once.
    await waitFor(async () => (receiver.since(0, 'drift.opened').length > 0 ? true : undefined), {
      timeoutMs: 30_000,
      message: 'the drift events opened by the leader',
    });
    const agentMarks = new Map([...fleet.agents].map(([id, agent]) => [id, agent.logs.length]));

    let acknowledged: Map<string, { lastSeq: number; changes: ApiChange[] }> | undefined;
    let killedAt = 0;
    for (let step = 1; step <= BURST; step++) {
      await writeFile(fleet.files.staging, `COUNTER=${step}\n`);
      await writeFile(fleet.files.production, `COUNTER=${step}\n`);
      // Longer than the agent's file-watch debounce (300 ms): each step is a report of its own.
      await new Promise((resolve) => setTimeout(resolve, 450));
      if (step === BURST / 2) {
        // What the first aggregator has committed (and so acknowledged) right before it dies.
        acknowledged = new Map();
        for (const host of HOSTS) {
          const detail = await hostOf(first, host.id);
          acknowledged.set(host.id, { lastSeq: detail.lastSeq, changes: await changesOf(first, host.id) });
        }
        killedAt = Date.now();
        await first.kill('SIGKILL');
      }
    }

    // The snapshot caught the burst in flight: changes of it were acknowledged by the dead aggregator.
    const caught = [...(acknowledged?.values() ?? [])].flatMap(({ changes }) => changes);
    console.info(`[multi-aggregator] caught ${JSON.stringify(caught.map((c) => [c.seq, c.to]))}`);
    expect(caught.some((change) => change.to !== undefined && Number(change.to) >= 1)).toBe(true);

    // Every agent ends on the survivor with the last value.
    for (const host of HOSTS) {
      await waitFor(
        async () =>
          (await hostOf(second, host.id)).facts[counterPath(host.environment)] === String(BURST) ? true : undefined,
        { timeoutMs: 60_000, message: `${host.id} reporting COUNTER=${BURST} to the survivor` },
      );
    }
    for (const host of HOSTS.filter((h) => h.home === 'first')) {
      const agent = fleet.agents.get(host.id) as AgentHandle;
      await agent.process.waitForLog(
        (line) => line.msg === 'connected to the aggregator' && line.aggregator === second.wsUrl,
        { from: agentMarks.get(host.id), timeoutMs: 30_000, what: `${host.id} moving to the survivor` },
      );
    }

    for (const host of HOSTS) {
      const path = counterPath(host.environment);
      const changes = await changesOf(second, host.id);
      const before = acknowledged?.get(host.id);
      // Every change the dead aggregator had acknowledged is there, as it was.
      for (const change of before?.changes ?? []) {
        const kept = changes.find((c) => c.seq === change.seq && c.path === change.path);
        // The leader may have flagged it an emergency since (it reached production before staging).
        const { emergency: _flagged, ...unflagged } = (kept ?? change) as ApiChange & { emergency?: boolean };
        const { emergency: _, ...acked } = change as ApiChange & { emergency?: boolean };
        expect(unflagged, `${host.id} change ${change.seq} ${change.path}`).toEqual(acked);
      }
      expect((await hostOf(second, host.id)).lastSeq).toBeGreaterThanOrEqual(before?.lastSeq ?? 0);
      // Each change once, and the history unbroken: every change starts where the previous one ended.
      const counter = changes.filter((change) => change.path === path).sort((a, b) => a.seq - b.seq);
      expect(new Set(counter.map((change) => change.seq)).size).toBe(counter.length);
      const chain = JSON.stringify(counter.map(({ seq, from, to }) => [seq, from, to]));
      if (counter.some((change, i) => i > 0 && change.from !== counter[i - 1]?.to)) {
        const loud = (lines: Record<string, unknown>[]) =>
          lines.filter(
            (line) => Number(line.level) >= 40 || /report|hello|welcome|resync|connected/.test(String(line.msg)),
          );
        console.info(
          `[multi-aggregator] DEBUG ${host.id} survivor:\n${loud(second.process.jsonLogs())
            .map((l) => JSON.stringify(l))
            .join('\n')}`,
        );
        console.info(
          `[multi-aggregator] DEBUG ${host.id} agent:\n${loud(
            (fleet.agents.get(host.id) as AgentHandle).process.jsonLogs(),
          )
            .map((l) => JSON.stringify(l))
            .join('\n')}`,
        );
      }
      for (let i = 1; i < counter.length; i++)
        expect(counter[i]?.from, `${host.id}: ${chain}`).toBe(counter[i - 1]?.to);
      expect(counter.at(-1)?.to).toBe(String(BURST));
    }

    // The survivor took over the drift engine within 10 s of the kill.
    const took = await second.process.waitForLog((line) => line.msg === LEADS, {
      timeoutMs: 15_000,
      what: 'the survivor to lead',
    });
    const tookAt = typeof took.time === 'number' ? took.time : Date.parse(String(took.time));
    console.info(`[multi-aggregator] the survivor led ${tookAt - killedAt} ms after the SIGKILL`);
    expect(tookAt - killedAt).toBeGreaterThan(0);
    expect(tookAt - killedAt).toBeLessThan(10_000);

    // Let the new leader's passes run past a grouping window, then count: no difference announced twice.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const opened = receiver.since(0, 'drift.opened');
    const ids = opened.map((delivery) => delivery.body.data.id);
    console.info(
      `[multi-aggregator] drift.opened: ${opened.filter((d) => d.receivedAt < killedAt).length} before the kill, ${opened.filter((d) => d.receivedAt >= killedAt).length} after; ${receiver.since(0, 'drift.resolved').length} resolved`,
    );
    expect(new Set(ids).size).toBe(ids.length);
    const openNow = new Map<string, number>();
    for (const delivery of receiver.deliveries) {
      const key = eventKey(delivery.body.data);
      if (delivery.body.type === 'drift.opened') {
        expect(openNow.get(key) ?? 0, `${key} opened while already open`).toBe(0);
        openNow.set(key, 1);
      } else if (delivery.body.type === 'drift.resolved') {
        openNow.set(key, 0);
      }
    }
    const open = await second.json<{ events: { id: string }[] }>('/api/v1/drift?status=open');
    expect(open.events.length).toBeGreaterThan(0);
  }, 180_000);
});
