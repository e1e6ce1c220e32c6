/**
 * The agent channel over real sockets: an aggregator on 127.0.0.1 port 0 with a WAL database file,
 * and real `ws` clients speaking the protocol through the shared encoder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CLOSE_CODES,
  decodeServerMessage,
  encodeMessage,
  type FactMap,
  fingerprintMap,
  MAX_FRAME_BYTES,
  type ProtocolMessage,
  type ServerMessage,
} from '@envparity/shared';
import { pack } from 'msgpackr';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Aggregator, createAggregator } from '../aggregator.js';
import { HOST_RETIRED_CLOSE_CODE } from './close-reason.js';

const ENROLL_SECRET = 'enroll-secret-for-tests';
const ADMIN_TOKEN = 'admin-token-for-tests';
const LIBRARY: FactMap = { 'library.dpkg.openssl': '3.0.11', 'library.dpkg.libc6': '2.36' };

interface Closed {
  code: number;
  reason: string;
}

/** A protocol-speaking test client. */
class TestAgent {
  readonly received: ServerMessage[] = [];
  readonly closed: Promise<Closed>;
  private waiters: { type: string; resolve: (m: ServerMessage) => void }[] = [];
  private cursor = 0;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    ws.on('error', () => {}); // e.g. EPIPE while an oversize frame is still being written
    ws.on('message', (data) => {
      const message = decodeServerMessage(data as Buffer);
      this.received.push(message);
      this.deliver();
    });
  }

  static connect(url: string, options: WebSocket.ClientOptions = {}): Promise<TestAgent> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/agent`, options);
    const agent = new TestAgent(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(agent));
      ws.once('error', reject);
    });
  }

  private deliver(): void {
    for (const waiter of [...this.waiters]) {
      const index = this.received.findIndex((m, i) => i >= this.cursor && m.type === waiter.type);
      if (index === -1) continue;
      this.cursor = index + 1;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(this.received[index] as ServerMessage);
    }
  }

  /** The next message of `type` (after the previously awaited one); fails if the socket closes first. */
  next<T extends ServerMessage['type']>(type: T, timeoutMs = 5000): Promise<Extract<ServerMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type} within ${timeoutMs} ms`)), timeoutMs);
      this.closed.then((closed) =>
        reject(new Error(`closed ${closed.code} ${closed.reason} while waiting for ${type}`)),
      );
      this.waiters.push({
        type,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message as Extract<ServerMessage, { type: T }>);
        },
      });
      this.deliver();
    });
  }

  send(message: ProtocolMessage): void {
    this.ws.send(encodeMessage(message));
  }

  sendRaw(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
  }

  async enroll(hostId: string, environment = 'staging', secret = ENROLL_SECRET): Promise<string> {
    this.send({
      type: 'enroll',
      v: 1,
      enrollSecret: secret,
      hostId,
      environment,
      labels: {},
      agentVersion: '0.1.0-test',
    });
    return (await this.next('enrolled')).token;
  }

  async hello(hostId: string, token: string, fingerprints: Record<string, string> = {}, environment = 'staging') {
    this.send({
      type: 'hello',
      v: 1,
      token,
      hostId,
      environment,
      labels: { service: 'api' },
      agentVersion: '0.1.0-test',
      lastAckedSeq: 0,
      fingerprints,
    });
    return this.next('welcome');
  }

  async report(seq: number, full: Record<string, FactMap>, fingerprints?: Record<string, string>) {
    this.send({ type: 'report', seq, observedAt: Date.now(), full, ...(fingerprints ? { fingerprints } : {}) });
    return this.next('ack');
  }

  close(): void {
    this.ws.close(1000);
  }
}

let dir: string;
let aggregator: Aggregator;
let url: string;
const agents: TestAgent[] = [];

async function connect(options?: WebSocket.ClientOptions): Promise<TestAgent> {
  const agent = await TestAgent.connect(url, options);
  agents.push(agent);
  return agent;
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function metricsText(): Promise<string> {
  return (await aggregator.app.request('/metrics')).text();
}

async function metric(name: string, labels: string): Promise<number> {
  const line = (await metricsText()).split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

function rejected(reason: string): Promise<number> {
  return metric('envparity_ingest_rejected_total', `reason="${reason}"`);
}

async function hostCount(): Promise<number> {
  const res = await aggregator.app.request('/api/v1/hosts', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  return ((await res.json()) as { hosts: unknown[] }).hosts.length;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'envparity-gateway-'));
  aggregator = createAggregator({
    dbPath: join(dir, 'envparity.db'),
    host: '127.0.0.1',
    port: 0,
    enrollSecret: ENROLL_SECRET,
    adminToken: ADMIN_TOKEN,
    fleetKey: 'fleet-key-for-tests',
    heartbeatSeconds: 30,
    rateLimit: { perSecond: 50, burst: 200 },
    flushIntervalMs: 10,
  });
  ({ url } = await aggregator.start());
});

afterAll(async () => {
  await aggregator.stop();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  for (const agent of agents.splice(0)) agent.ws.terminate();
});

describe('enrollment and hello', () => {
  it('enrolls, says hello, stores a report and acknowledges it after the commit', async () => {
    const agent = await connect();
    const token = await agent.enroll('enroll-1');
    expect(agent.received[0]).toMatchObject({ type: 'enrolled', hostId: 'enroll-1', fleetKey: 'fleet-key-for-tests' });
    const welcome = await agent.hello('enroll-1', token);
    expect(welcome).toEqual({
      type: 'welcome',
      lastSeq: 0,
      need: [],
      heartbeatSeconds: 30,
      fleetKey: 'fleet-key-for-tests',
    });
    expect(aggregator.gateway.isOnline('enroll-1')).toBe(true);

    const ack = await agent.report(1, { library: LIBRARY }, { library: fingerprintMap(LIBRARY) });
    expect(ack.seq).toBe(1);
    expect(aggregator.store.getHostFacts('enroll-1')).toEqual(LIBRARY);
    expect(aggregator.store.getHost('enroll-1')).toMatchObject({ environment: 'staging', labels: { service: 'api' } });
    expect(await metric('envparity_ingest_messages_total', 'type="report"')).toBeGreaterThanOrEqual(1);
    expect(await metricsText()).toMatch(/^envparity_ingest_latency_seconds_count [1-9]/m);
    expect(await metricsText()).toMatch(/^envparity_agents_connected [1-9]/m);

    // Reconnect with the token: the welcome tells the last seq and what differs.
    agent.close();
    const again = await connect();
    const second = await again.hello('enroll-1', token, { library: 'ep1:stale', os: fingerprintMap({}) });
    expect(second).toMatchObject({ lastSeq: 1, need: ['library'] });
    // A replay of an acknowledged seq is acknowledged again and not applied.
    const replay = await again.report(1, { library: { 'library.dpkg.other': '1' } });
    expect(replay.seq).toBe(1);
    expect(aggregator.store.getHostFacts('enroll-1')).toEqual(LIBRARY);
  });

  it('announces presence changes, and the baseline follows the live hosts', async () => {
    const changes: string[] = [];
    const unsubscribe = aggregator.gateway.onPresenceChange((hostId, online) => {
      if (hostId.startsWith('presence-')) changes.push(`${hostId}:${online}`);
    });
    try {
      const agent = await connect();
      const token = await agent.enroll('presence-1', 'presence-env');
      await agent.hello('presence-1', token, {}, 'presence-env');
      await agent.report(1, { library: LIBRARY }, { library: fingerprintMap(LIBRARY) });
      const replacing = await connect();
      await replacing.hello('presence-1', token, { library: fingerprintMap(LIBRARY) }, 'presence-env');
      expect(changes).toEqual(['presence-1:true']);
      const res = await aggregator.app.request('/api/v1/environments/presence-env/baseline', {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(await res.json()).toMatchObject({ hosts: 1, stale: false, facts: LIBRARY });
      replacing.close();
      await until(() => changes.length === 2);
      expect(changes).toEqual(['presence-1:true', 'presence-1:false']);
      expect(aggregator.drift.state('presence-env').baseline).toMatchObject({ hosts: 1, stale: true });
    } finally {
      unsubscribe();
    }
  });

  it('refuses a wrong enroll secret with 4011 and stores nothing', async () => {
    const before = await rejected('enroll_refused');
    const hosts = await hostCount();
    const agent = await connect();
    agent.send({ type: 'enroll', v: 1, enrollSecret: 'wrong', hostId: 'intruder', labels: {}, agentVersion: '0' });
    expect(await agent.closed).toEqual({ code: CLOSE_CODES.enrollRefused, reason: 'enroll refused' });
    expect(await rejected('enroll_refused')).toBe(before + 1);
    expect(await hostCount()).toBe(hosts);
    expect(aggregator.store.getHost('intruder')).toBeUndefined();
  });

  it('binds tokens to their host: 4012 for another host id, 4010 for an unknown token', async () => {
    const enroller = await connect();
    const token = await enroller.enroll('bound-1');
    enroller.close();

    const thief = await connect();
    thief.send({
      type: 'hello',
      v: 1,
      token,
      hostId: 'bound-2',
      labels: {},
      agentVersion: '0',
      lastAckedSeq: 0,
      fingerprints: {},
    });
    expect((await thief.closed).code).toBe(CLOSE_CODES.hostMismatch);

    const stranger = await connect();
    stranger.send({
      type: 'hello',
      v: 1,
      token: 'no-such-token',
      hostId: 'bound-1',
      labels: {},
      agentVersion: '0',
      lastAckedSeq: 0,
      fingerprints: {},
    });
    expect((await stranger.closed).code).toBe(CLOSE_CODES.unauthorized);
    expect(await rejected('host_mismatch')).toBeGreaterThanOrEqual(1);
    expect(await rejected('unauthorized')).toBeGreaterThanOrEqual(1);
  });

  it('revokes the old token on re-enrollment', async () => {
    const first = await connect();
    const oldToken = await first.enroll('reenroll-1');
    first.close();
    const second = await connect();
    const newToken = await second.enroll('reenroll-1');
    expect(newToken).not.toBe(oldToken);
    second.close();
    const stale = await connect();
    stale.send({
      type: 'hello',
      v: 1,
      token: oldToken,
      hostId: 'reenroll-1',
      labels: {},
      agentVersion: '0',
      lastAckedSeq: 0,
      fingerprints: {},
    });
    expect((await stale.closed).code).toBe(CLOSE_CODES.unauthorized);
  });

  it('cuts a live socket whose token was revoked by a re-enrollment (4010)', async () => {
    const live = await connect();
    const token = await live.enroll('reenroll-live');
    await live.hello('reenroll-live', token);
    const again = await connect();
    const fresh = await again.enroll('reenroll-live');
    expect((await live.closed).code).toBe(CLOSE_CODES.unauthorized);
    expect((await again.hello('reenroll-live', fresh)).lastSeq).toBe(0);
  });

  it('a retired host is cut off (4013), refused on reconnect with its old token and on re-enrollment', async () => {
    const live = await connect();
    const token = await live.enroll('retire-1');
    await live.hello('retire-1', token);
    expect((await live.report(1, { library: LIBRARY })).seq).toBe(1);
    const res = await aggregator.app.request('/api/v1/hosts/retire-1', {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    const cut = await live.closed;
    expect(cut.code).toBe(HOST_RETIRED_CLOSE_CODE);
    expect(cut.reason).toMatch(
      /^host retired: retire-1 was removed on \d{4}-\d\d-\d\dT.*; enroll under a new host id$/,
    );
    await until(() => !aggregator.gateway.isOnline('retire-1'));

    const back = await connect();
    back.send({
      type: 'hello',
      v: 1,
      token,
      hostId: 'retire-1',
      labels: {},
      agentVersion: '0',
      lastAckedSeq: 1,
      fingerprints: {},
    });
    const refused = await back.closed;
    expect(refused.code).toBe(HOST_RETIRED_CLOSE_CODE);
    expect(refused.reason).toContain('host retired');

    const reenroll = await connect();
    reenroll.send({
      type: 'enroll',
      v: 1,
      enrollSecret: ENROLL_SECRET,
      hostId: 'retire-1',
      environment: 'staging',
      labels: {},
      agentVersion: '0.1.0-test',
    });
    expect((await reenroll.closed).code).toBe(HOST_RETIRED_CLOSE_CODE);
    expect(aggregator.store.getHost('retire-1')?.retiredAt).not.toBeNull();
    expect(aggregator.store.listHosts().map((host) => host.id)).not.toContain('retire-1');
    // A new host id for the same machine enrolls normally.
    const fresh = await connect();
    await fresh.hello('retire-2', await fresh.enroll('retire-2'));
  });

  it('replaces an older connection of the same host (4040)', async () => {
    const first = await connect();
    const token = await first.enroll('replace-1');
    await first.hello('replace-1', token);
    const second = await connect();
    await second.hello('replace-1', token);
    expect((await first.closed).code).toBe(CLOSE_CODES.replaced);
    expect(aggregator.gateway.isOnline('replace-1')).toBe(true);
    expect((await second.report(1, { library: LIBRARY })).seq).toBe(1);
  });

  it('pipelines many reports on one socket and acknowledges them in order', async () => {
    const agent = await connect();
    const token = await agent.enroll('pipeline-1');
    await agent.hello('pipeline-1', token);
    const count = 150; // more than MAX_INFLIGHT_REPORTS: the socket is paused and resumed on the way
    // Real times: an observedAt outside server time ± 1 day would be clamped (issue 10).
    const base = Date.now();
    for (let seq = 1; seq <= count; seq++) {
      agent.send({
        type: 'report',
        seq,
        observedAt: base + seq,
        delta: { library: { set: { 'library.dpkg.counter': String(seq) }, unset: [] } },
      });
    }
    const acks: number[] = [];
    for (let i = 0; i < count; i++) acks.push((await agent.next('ack')).seq);
    expect(acks).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    expect(aggregator.store.getHostFacts('pipeline-1')).toEqual({ 'library.dpkg.counter': String(count) });
    // Report 1 is the host's initial state, not a change: reports 2..count are.
    const changes = await aggregator.store.listChanges('pipeline-1', { limit: 1000 });
    expect(changes).toHaveLength(count - 1);
    expect(changes[count - 2]).toMatchObject({
      seq: count,
      at: base + count,
      from: String(count - 1),
      to: String(count),
    });
  });

  it('asks for a resync when the report fingerprint does not match', async () => {
    const agent = await connect();
    const token = await agent.enroll('resync-1');
    await agent.hello('resync-1', token);
    await agent.report(1, { library: LIBRARY }, { library: 'ep1:something-else' });
    expect(await agent.next('resync')).toMatchObject({ categories: ['library'] });
  });

  it('closes 4004 for a report before hello', async () => {
    const agent = await connect();
    agent.send({ type: 'report', seq: 1, observedAt: Date.now(), full: { os: {} } });
    expect((await agent.closed).code).toBe(CLOSE_CODES.unexpectedMessage);
  });
});

describe('bad input closes only the offending socket', () => {
  let bystander: TestAgent;
  let bystanderSeq = 0;

  beforeEach(async () => {
    // A well-behaved agent, connected throughout each case, must keep working.
    bystander = await connect();
    const token = await bystander.enroll(`bystander-${bystanderSeq}`);
    await bystander.hello(`bystander-${bystanderSeq}`, token);
  });

  async function expectHealthy(): Promise<void> {
    bystanderSeq++;
    const ack = await bystander.report(bystanderSeq, { library: { 'library.dpkg.n': String(bystanderSeq) } });
    expect(ack.seq).toBe(bystanderSeq);
    expect(bystander.ws.readyState).toBe(WebSocket.OPEN);
    expect((await aggregator.app.request('/healthz')).status).toBe(200);
    expect(await aggregator.store.integrityCheck()).toBe('ok');
  }

  async function helloed(hostId: string): Promise<TestAgent> {
    const agent = await connect();
    const token = await agent.enroll(hostId);
    await agent.hello(hostId, token);
    return agent;
  }

  it('oversize frame: 1009, counted as too_big', async () => {
    const before = await rejected('too_big');
    const agent = await connect();
    agent.sendRaw(new Uint8Array(MAX_FRAME_BYTES + 1));
    expect((await agent.closed).code).toBe(CLOSE_CODES.tooBig);
    expect(await rejected('too_big')).toBe(before + 1);
    await expectHealthy();
  });

  it('malformed msgpack: 4000', async () => {
    const before = await rejected('malformed');
    const agent = await helloed('bad-malformed');
    agent.sendRaw(Uint8Array.of(0xc1, 0xff, 0x00));
    expect((await agent.closed).code).toBe(CLOSE_CODES.malformed);
    expect(await rejected('malformed')).toBe(before + 1);
    await expectHealthy();
  });

  it('text frame: 4000', async () => {
    const before = await rejected('malformed');
    const agent = await connect();
    agent.sendRaw('{"type":"heartbeat"}');
    expect((await agent.closed).code).toBe(CLOSE_CODES.malformed);
    expect(await rejected('malformed')).toBe(before + 1);
    await expectHealthy();
  });

  it('schema violation: 4002 with a reason naming the field', async () => {
    const before = await rejected('schema_violation');
    const agent = await helloed('bad-schema');
    agent.sendRaw(pack({ type: 'report', seq: 'one', observedAt: 1, full: {} }));
    const closed = await agent.closed;
    expect(closed.code).toBe(CLOSE_CODES.schemaViolation);
    expect(closed.reason).toContain('seq');
    expect(await rejected('schema_violation')).toBe(before + 1);
    await expectHealthy();
  });

  it('a path filed under the wrong category: 4002, nothing stored', async () => {
    const agent = await helloed('bad-path');
    agent.send({ type: 'report', seq: 1, observedAt: 1, full: { os: { 'library.dpkg.x': '1' } } });
    expect((await agent.closed).code).toBe(CLOSE_CODES.schemaViolation);
    expect(aggregator.store.getHost('bad-path')?.lastSeq).toBe(0);
    await expectHealthy();
  });

  it('unknown type: 4001', async () => {
    const before = await rejected('unknown_type');
    const agent = await helloed('bad-type');
    agent.sendRaw(pack({ type: 'exploit', payload: 1 }));
    expect((await agent.closed).code).toBe(CLOSE_CODES.unknownType);
    expect(await rejected('unknown_type')).toBe(before + 1);
    await expectHealthy();
  });

  it('out-of-order seq on one socket: 4020', async () => {
    const before = await rejected('out_of_order');
    const agent = await helloed('bad-order');
    await agent.report(5, { library: LIBRARY });
    agent.send({ type: 'report', seq: 4, observedAt: Date.now(), full: { library: {} } });
    expect((await agent.closed).code).toBe(CLOSE_CODES.outOfOrder);
    expect(await rejected('out_of_order')).toBe(before + 1);
    expect(aggregator.store.getHostFacts('bad-order')).toEqual(LIBRARY);
    await expectHealthy();
  });

  it('flood: 4029', async () => {
    const before = await rejected('rate_limited');
    const agent = await helloed('bad-flood');
    for (let i = 0; i < 400; i++) agent.send({ type: 'heartbeat' });
    expect((await agent.closed).code).toBe(CLOSE_CODES.rateLimited);
    expect(await rejected('rate_limited')).toBe(before + 1);
    await expectHealthy();
  });

  it('a second hello on one socket: 4004', async () => {
    const agent = await connect();
    const token = await agent.enroll('bad-hello');
    await agent.hello('bad-hello', token);
    agent.send({
      type: 'hello',
      v: 1,
      token,
      hostId: 'bad-hello',
      labels: {},
      agentVersion: '0',
      lastAckedSeq: 0,
      fingerprints: {},
    });
    expect((await agent.closed).code).toBe(CLOSE_CODES.unexpectedMessage);
    await expectHealthy();
  });
});

describe('liveness', () => {
  it('terminates a socket that does not answer pings, and marks the host offline', async () => {
    const agent = await connect({ autoPong: false });
    const token = await agent.enroll('silent-1');
    await agent.hello('silent-1', token);
    const before = await rejected('heartbeat_timeout');
    aggregator.gateway.sweep(); // ping
    aggregator.gateway.sweep(); // no pong since: terminate
    expect((await agent.closed).code).toBe(1006);
    expect(await rejected('heartbeat_timeout')).toBe(before + 1);
    expect(aggregator.gateway.isOnline('silent-1')).toBe(false);
  });

  it('keeps a socket that answers pings', async () => {
    const agent = await connect();
    const token = await agent.enroll('pong-1');
    await agent.hello('pong-1', token);
    const pinged = new Promise((resolve) => agent.ws.once('ping', resolve));
    aggregator.gateway.sweep();
    await pinged; // the client answers with a pong at once
    await new Promise((resolve) => setTimeout(resolve, 200));
    aggregator.gateway.sweep();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(agent.ws.readyState).toBe(WebSocket.OPEN);
    expect(aggregator.gateway.isOnline('pong-1')).toBe(true);
  });

  it('refuses upgrades on other paths', async () => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/elsewhere`);
    const error = await new Promise<Error>((resolve) => ws.once('error', resolve));
    expect(error.message).toContain('404');
  });
});

describe('hello timeout', () => {
  it('closes a socket that does not authenticate in time', async () => {
    const local = createAggregator({ port: 0, enrollSecret: ENROLL_SECRET, helloTimeoutMs: 1000 });
    try {
      const started = await local.start();
      const idle = await TestAgent.connect(started.url);
      expect((await idle.closed).code).toBe(CLOSE_CODES.unexpectedMessage);
      const quick = await TestAgent.connect(started.url);
      const token = await quick.enroll('quick-1');
      await quick.hello('quick-1', token);
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expect(quick.ws.readyState).toBe(WebSocket.OPEN);
      quick.close();
    } finally {
      await local.stop();
    }
  });
});

describe('shutdown', () => {
  it('closes agent sockets with 1001 and flushes', async () => {
    const localDir = mkdtempSync(join(tmpdir(), 'envparity-shutdown-'));
    const local = createAggregator({
      dbPath: join(localDir, 'envparity.db'),
      port: 0,
      enrollSecret: ENROLL_SECRET,
      flushIntervalMs: 10_000,
    });
    try {
      const started = await local.start();
      const agent = await TestAgent.connect(started.url);
      const token = await agent.enroll('shutdown-1');
      await agent.hello('shutdown-1', token);
      agent.send({ type: 'report', seq: 1, observedAt: 1, full: { library: LIBRARY } });
      await until(
        async () =>
          (await local.metrics.messages.get()).values.find((sample) => sample.labels.type === 'report')?.value === 1,
      );
      const stopping = local.stop();
      expect((await agent.closed).code).toBe(CLOSE_CODES.goingAway);
      await stopping;
      // The buffered report was committed before the database closed.
      const reopened = createAggregator({ dbPath: join(localDir, 'envparity.db') });
      expect(reopened.store.getHostFacts('shutdown-1')).toEqual(LIBRARY);
      await reopened.stop();
    } finally {
      await local.stop();
      rmSync(localDir, { recursive: true, force: true });
    }
  });
});
