/**
 * Issue 10, requirement 4: enrollment control against the real aggregator and agent processes.
 * A short enroll secret is refused at start; guessing secrets locks an address out; an enrollment
 * storm is told when to come back and a real agent waits that long; approval mode keeps new hosts
 * out of the fleet until an admin approves them; caps bound pending hosts and environments; an
 * admin rotates an agent token and the agent carries on with the new one.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AGGREGATOR_BIN,
  type AggregatorHandle,
  cleanupProcesses,
  makeTempDir,
  spawnManaged,
  startAgent,
  startAggregator,
  TEST_ENROLL_SECRET,
} from '../helpers/index.js';
import { RawAgent } from './raw-agent.js';

afterEach(() => cleanupProcesses());

const identity = (hostId: string, environment = 'staging') => ({
  v: 1,
  hostId,
  environment,
  labels: {},
  agentVersion: '0.0.0-test',
});

async function withConfig(yaml: string): Promise<AggregatorHandle> {
  const dir = await makeTempDir('envparity-e2e-enrollment-');
  const file = join(dir, 'aggregator.yaml');
  await writeFile(file, yaml);
  return startAggregator({ args: ['--config', file] });
}

async function rawEnroll(aggregator: AggregatorHandle, hostId: string, secret: string, environment = 'staging') {
  const agent = await RawAgent.connect(aggregator.wsUrl);
  agent.send({ type: 'enroll', ...identity(hostId, environment), enrollSecret: secret });
  return agent;
}

async function auditActions(aggregator: AggregatorHandle): Promise<string[]> {
  const log = await aggregator.json<{ entries: { action: string; details: Record<string, unknown> }[] }>(
    '/api/v1/audit-log',
  );
  return log.entries.map((entry) => entry.action);
}

describe('the enroll secret', () => {
  it('is refused at start when shorter than 16 characters, unless --insecure-dev', async () => {
    const dir = await makeTempDir('envparity-e2e-weak-');
    const env = { ...process.env, ENVPARITY_ENROLL_SECRET: 'short-secret', ENVPARITY_ADMIN_TOKEN: 'x'.repeat(32) };
    const refused = spawnManaged(
      process.execPath,
      [AGGREGATOR_BIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--data', dir],
      { env, name: 'aggregator short secret' },
    );
    const exit = await refused.exited;
    expect(exit.code).toBe(2);
    const output = refused.logs.join('\n');
    expect(output).toContain('the enroll secret is 12 characters; at least 16 are required');
    expect(output).not.toContain('short-secret'); // the value itself is never printed
    expect(output).not.toContain('"msg":"listening"');

    const dev = await startAggregator({ env: { ENVPARITY_ENROLL_SECRET: 'short-secret' }, args: ['--insecure-dev'] });
    expect(dev.logs.join('\n')).toContain('insecure dev mode');
    const agent = await rawEnroll(dev, 'dev-1', 'short-secret');
    expect((await agent.next('enrolled')).hostId).toBe('dev-1');
  });
});

describe('enrollment rate limits', () => {
  it('locks out an address after repeated wrong secrets, even for the right one', async () => {
    const aggregator = await withConfig('enrollment: { maxFailures: 3, failureWindow: 60s, lockout: 120s }\n');
    for (let attempt = 0; attempt < 3; attempt++) {
      const guess = await rawEnroll(aggregator, 'guesser', `wrong-guess-number-${attempt}`);
      expect(await guess.waitClosed()).toMatchObject({ code: 4011, reason: 'enroll refused' });
    }
    const locked = await rawEnroll(aggregator, 'guesser', TEST_ENROLL_SECRET);
    const closed = await locked.waitClosed();
    expect(closed.code).toBe(4029);
    expect(closed.reason).toMatch(/^retry after (11\d|120) s: too many failed enrollments from this address/);
    const metrics = await aggregator.metrics();
    expect(metrics).toMatch(/envparity_ingest_rejected_total\{reason="enroll_refused"\} 3/);
  });

  it('tells a storm when to come back, and a real agent waits at least that long', async () => {
    const aggregator = await withConfig('enrollment: { perSecond: 0.05, burst: 2 }\n');
    for (const hostId of ['storm-1', 'storm-2']) {
      const agent = await rawEnroll(aggregator, hostId, TEST_ENROLL_SECRET);
      expect((await agent.next('enrolled')).hostId).toBe(hostId);
    }
    const third = await rawEnroll(aggregator, 'storm-3', TEST_ENROLL_SECRET);
    const closed = await third.waitClosed();
    expect(closed.code).toBe(4029);
    const seconds = Number(/^retry after (\d+) s: enrollment storm/.exec(closed.reason)?.[1]);
    expect(seconds).toBeGreaterThanOrEqual(10);

    const agent = await startAgent({
      aggregatorUrl: aggregator.url,
      hostId: 'storm-4',
      environment: 'staging',
      waitConnected: false,
    });
    const reconnecting = await agent.process.waitForLog((line) => line.msg === 'reconnecting', {
      what: 'the agent backing off after 4029',
    });
    expect(agent.logs.join('\n')).toContain('rate limited by the aggregator (4029)');
    // Its own backoff starts near 1 s: only the retry-after makes it wait this long.
    expect(Number(reconnecting.delayMs)).toBeGreaterThanOrEqual(10_000);
  });
});

describe('approval mode', () => {
  it('keeps a new host out of the fleet until an admin approves it, then it reports', async () => {
    const aggregator = await withConfig('enrollment: { mode: approve, maxPending: 1, pendingRetry: 3s }\n');
    const agent = await startAgent({
      aggregatorUrl: aggregator.url,
      hostId: 'new-web-1',
      environment: 'production',
      waitConnected: false,
    });
    await agent.process.waitForLog((line) => String(line.msg).includes('awaiting approval by an admin (4014)'), {
      what: 'the agent told to wait for approval',
    });
    const pending = await aggregator.json<{ hosts: { id: string; environment: string; reenroll: boolean }[] }>(
      '/api/v1/pending-hosts',
    );
    expect(pending.hosts).toEqual([
      expect.objectContaining({ id: 'new-web-1', environment: 'production', reenroll: false }),
    ]);
    // Not in the fleet: no host, no environment, nothing counted.
    const hosts = await aggregator.json<{ hosts: { id: string }[] }>('/api/v1/hosts');
    expect(hosts.hosts).toEqual([]);
    expect((await aggregator.api('/api/v1/hosts/new-web-1')).status).toBe(404);
    // The pending token does not authenticate on its own: a raw hello with another host's
    // enrollment cannot report either.
    expect(agent.logs.join('\n')).not.toContain('connected to the aggregator');

    // The pending queue is full (maxPending 1): a second new host is told to come back later.
    const second = await rawEnroll(aggregator, 'new-web-2', TEST_ENROLL_SECRET);
    const full = await second.waitClosed();
    expect(full.code).toBe(4029);
    expect(full.reason).toContain('1 hosts await approval (enrollment.maxPending)');

    const approve = await aggregator.api('/api/v1/hosts/new-web-1/approve', { method: 'POST' });
    expect(approve.status, await approve.clone().text()).toBe(200);
    expect(await approve.json()).toMatchObject({ id: 'new-web-1', approved: true, environment: 'production' });
    // The agent asks again every `pendingRetry` (3 s here): it is connected and has reported soon after.
    expect(agent.logs.join('\n')).toMatch(/retry after 3 s: awaiting approval/);
    await agent.process.waitForLog((line) => line.msg === 'approved by an admin: token and fleet key saved', {
      timeoutMs: 20_000,
      what: 'the agent approved',
    });
    await agent.process.waitForLog((line) => line.msg === 'connected to the aggregator', { timeoutMs: 10_000 });
    const deadline = Date.now() + 15_000;
    let facts: Record<string, unknown> = {};
    while (Date.now() < deadline) {
      const response = await aggregator.api('/api/v1/hosts/new-web-1');
      if (response.ok) facts = ((await response.json()) as { facts: Record<string, unknown> }).facts;
      if (Object.keys(facts).some((path) => path.startsWith('os.'))) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(Object.keys(facts).some((path) => path.startsWith('os.'))).toBe(true);
    expect((await readFile(join(agent.stateDir, 'fleet.key'), 'utf8')).trim().length).toBeGreaterThan(16);
    expect((await aggregator.json<{ hosts: unknown[] }>('/api/v1/pending-hosts')).hosts).toEqual([]);

    const actions = await auditActions(aggregator);
    expect(actions).toEqual(expect.arrayContaining(['host.approval-requested', 'host.enrolled', 'host.approved']));
    // Approving twice: nothing is waiting any more.
    expect((await aggregator.api('/api/v1/hosts/new-web-1/approve', { method: 'POST' })).status).toBe(404);
  }, 60_000);

  it('rejects a waiting host: its token dies and a new enrollment waits again', async () => {
    const aggregator = await withConfig('enrollment: { mode: approve }\n');
    const agent = await rawEnroll(aggregator, 'intruder-1', TEST_ENROLL_SECRET);
    const enrolled = await agent.next('enrolled');
    expect(enrolled).toMatchObject({ pending: true });
    expect(enrolled.fleetKey).toBeUndefined(); // the fleet key is for approved hosts only
    agent.send({ type: 'hello', ...identity('intruder-1'), token: enrolled.token, lastAckedSeq: 0, fingerprints: {} });
    expect((await agent.waitClosed()).code).toBe(4014);

    const reject = await aggregator.api('/api/v1/hosts/intruder-1/reject', { method: 'POST' });
    expect(reject.status).toBe(200);
    const after = await RawAgent.connect(aggregator.wsUrl);
    after.send({ type: 'hello', ...identity('intruder-1'), token: enrolled.token, lastAckedSeq: 0, fingerprints: {} });
    expect((await after.waitClosed()).code).toBe(4010);
    expect(await auditActions(aggregator)).toContain('host.rejected');
  });
});

describe('environment cap', () => {
  it('refuses a host that would create one environment too many, naming the limit', async () => {
    const aggregator = await withConfig('enrollment: { maxEnvironments: 2 }\n');
    for (const [hostId, environment] of [
      ['a-1', 'pr-1'],
      ['b-1', 'pr-2'],
      ['c-1', 'pr-2'],
    ] as const) {
      const agent = await rawEnroll(aggregator, hostId, TEST_ENROLL_SECRET, environment);
      expect((await agent.next('enrolled')).hostId).toBe(hostId);
    }
    const third = await rawEnroll(aggregator, 'd-1', TEST_ENROLL_SECRET, 'pr-3');
    const closed = await third.waitClosed();
    expect(closed.code).toBe(4011);
    expect(closed.reason).toContain('environment limit: 2 environments exist (enrollment.maxEnvironments 2)');
  });
});

describe('agent token rotation', () => {
  it('hands a connected agent a new token; the old one stops working once the new one is used', async () => {
    const aggregator = await startAggregator();
    const agent = await startAgent({ aggregatorUrl: aggregator.url, hostId: 'rotate-1', environment: 'staging' });
    const tokenFile = join(agent.stateDir, 'agent-token');
    const oldToken = (await readFile(tokenFile, 'utf8')).trim();
    const from = agent.logs.length;

    const rotate = await aggregator.api('/api/v1/hosts/rotate-1/rotate-token', { method: 'POST' });
    expect(rotate.status, await rotate.clone().text()).toBe(200);
    expect(await rotate.json()).toMatchObject({ id: 'rotate-1', connected: true });
    await agent.process.waitForLog((line) => line.msg === 'agent token rotated: new token saved', {
      from,
      what: 'the agent saving its rotated token',
    });
    const newToken = (await readFile(tokenFile, 'utf8')).trim();
    expect(newToken).not.toBe(oldToken);
    expect(newToken.length).toBeGreaterThanOrEqual(32);

    // The next hello uses the new token and ends the rotation; the old token is refused from then on.
    await agent.stop();
    const again = await agent.restart();
    expect(again.logs.join('\n')).toContain('connected to the aggregator');
    const stale = await RawAgent.connect(aggregator.wsUrl);
    stale.send({ type: 'hello', ...identity('rotate-1'), token: oldToken, lastAckedSeq: 0, fingerprints: {} });
    expect((await stale.waitClosed()).code).toBe(4010);
    // Neither token is in the logs, the audit log or the database.
    const audit = JSON.stringify(await aggregator.json('/api/v1/audit-log'));
    expect(audit).toContain('host.token-rotated');
    const database = await readFile(aggregator.dbPath);
    for (const token of [oldToken, newToken]) {
      expect(aggregator.logs.join('\n')).not.toContain(token);
      expect(again.logs.join('\n')).not.toContain(token);
      expect(audit).not.toContain(token);
      expect(database.includes(Buffer.from(token))).toBe(false);
    }
  }, 60_000);

  it('rotates an offline host at its next hello, and an agent that lost the new token is not locked out', async () => {
    const aggregator = await startAggregator();
    const raw = await rawEnroll(aggregator, 'rotate-2', TEST_ENROLL_SECRET);
    const original = (await raw.next('enrolled')).token;
    raw.socket.close();
    const rotate = await aggregator.api('/api/v1/hosts/rotate-2/rotate-token', { method: 'POST' });
    expect(await rotate.json()).toMatchObject({ id: 'rotate-2', connected: false });

    const hello = async (token: string) => {
      const agent = await RawAgent.connect(aggregator.wsUrl);
      agent.send({ type: 'hello', ...identity('rotate-2'), token, lastAckedSeq: 0, fingerprints: {} });
      return agent;
    };
    const first = await (await hello(original)).next('welcome');
    expect(first.token).toBeDefined();
    // The agent "crashed" before saving it: the original token still works and gets another one.
    const second = await (await hello(original)).next('welcome');
    expect(second.token).toBeDefined();
    expect(second.token).not.toBe(first.token);
    // The newest token ends the rotation: no new token, and both older ones are refused.
    const done = await (await hello(second.token as string)).next('welcome');
    expect(done.token).toBeUndefined();
    for (const stale of [original, first.token as string]) {
      expect((await (await hello(stale)).waitClosed()).code).toBe(4010);
    }
  });
});
