/**
 * The daemon against a small fake aggregator: a real `ws` WebSocketServer on 127.0.0.1, speaking
 * the protocol with the shared encode/decode, storing reports the way docs/PROTOCOL.md says.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AgentMessage,
  applyDelta,
  CLOSE_CODES,
  categoryOf,
  decodeAgentMessage,
  encodeMessage,
  type FactMap,
  fingerprintMap,
  type ReportMessage,
  type ServerMessage,
} from '@envparity/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';
import { createConfigCollector } from '../collectors/config.js';
import type { Collector } from '../collectors/types.js';
import { createAgentLogger } from './logger.js';
import { type RunningAgent, type StartAgentOptions, startAgent } from './start-agent.js';

const ENROLL_SECRET = 'enroll-secret-do-not-log';
const FLEET_KEY = 'fleet-key-0123456789';

interface HostRecord {
  lastSeq: number;
  facts: FactMap;
  /** Seqs applied, in order: a seq applied twice would be a duplicate change. */
  applied: number[];
  /** Per-path change count: the same change recorded twice would show here. */
  changes: { seq: number; path: string }[];
}

interface SharedStore {
  tokens: Map<string, string>;
  hosts: Map<string, HostRecord>;
}

/** What the aggregator does, minus the database: enough to check the agent against the contract. */
class FakeAggregator {
  readonly server: WebSocketServer;
  readonly received: { message: AgentMessage; socket: WebSocket }[] = [];
  readonly tokens: Map<string, string>;
  readonly hosts: Map<string, HostRecord>;
  readonly sockets = new Set<WebSocket>();
  enrollSecret = ENROLL_SECRET;
  holdAcks = false;
  need: string[] | undefined;
  connections = 0;

  private constructor(server: WebSocketServer, store: SharedStore) {
    this.server = server;
    this.tokens = store.tokens;
    this.hosts = store.hosts;
    server.on('connection', (socket) => this.onConnection(socket));
  }

  /** `store`: another fake's tokens and hosts, as aggregators over one database share them. */
  static async start(port = 0, store?: SharedStore): Promise<FakeAggregator> {
    const server = new WebSocketServer({ host: '127.0.0.1', port, path: '/api/v1/agent' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    return new FakeAggregator(server, store ?? { tokens: new Map(), hosts: new Map() });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  host(id: string): HostRecord {
    let record = this.hosts.get(id);
    if (!record) {
      record = { lastSeq: 0, facts: {}, applied: [], changes: [] };
      this.hosts.set(id, record);
    }
    return record;
  }

  messages(type: AgentMessage['type']): AgentMessage[] {
    return this.received.filter((r) => r.message.type === type).map((r) => r.message);
  }

  reports(): ReportMessage[] {
    return this.messages('report') as ReportMessage[];
  }

  send(socket: WebSocket, message: ServerMessage): void {
    socket.send(encodeMessage(message));
  }

  /** Drops every connection without a closing handshake (the aggregator crashed). */
  dropAll(): void {
    for (const socket of this.sockets) socket.terminate();
  }

  closeAll(code: number, reason = ''): void {
    for (const socket of this.sockets) socket.close(code, reason);
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(socket: WebSocket): void {
    this.connections++;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    let hostId: string | undefined;
    let lastSeqOnSocket = 0;
    socket.on('message', (data: Buffer) => {
      const message = decodeAgentMessage(new Uint8Array(data));
      this.received.push({ message, socket });
      switch (message.type) {
        case 'enroll': {
          if (message.enrollSecret !== this.enrollSecret) {
            socket.close(CLOSE_CODES.enrollRefused, 'enroll refused');
            return;
          }
          const token = randomBytes(16).toString('hex');
          this.tokens.set(token, message.hostId);
          this.send(socket, { type: 'enrolled', hostId: message.hostId, token, fleetKey: FLEET_KEY });
          return;
        }
        case 'hello': {
          const owner = this.tokens.get(message.token);
          if (!owner) {
            socket.close(CLOSE_CODES.unauthorized, 'unauthorized');
            return;
          }
          if (owner !== message.hostId) {
            socket.close(CLOSE_CODES.hostMismatch, 'host mismatch');
            return;
          }
          hostId = message.hostId;
          const record = this.host(hostId);
          const ours = fingerprintsOf(record.facts);
          const categories = new Set([...Object.keys(ours), ...Object.keys(message.fingerprints)]);
          const need = this.need ?? [...categories].filter((c) => ours[c] !== message.fingerprints[c]).sort();
          this.send(socket, { type: 'welcome', lastSeq: record.lastSeq, need, heartbeatSeconds: 30 });
          return;
        }
        case 'report': {
          if (!hostId) {
            socket.close(CLOSE_CODES.unexpectedMessage, 'report before hello');
            return;
          }
          if (message.seq <= lastSeqOnSocket) {
            socket.close(CLOSE_CODES.outOfOrder, 'out of order');
            return;
          }
          lastSeqOnSocket = message.seq;
          const record = this.host(hostId);
          if (message.seq > record.lastSeq) {
            const before = record.facts;
            record.facts = applyToStore(before, message);
            record.lastSeq = message.seq;
            record.applied.push(message.seq);
            for (const path of new Set([...Object.keys(before), ...Object.keys(record.facts)])) {
              if (JSON.stringify(before[path]) !== JSON.stringify(record.facts[path])) {
                record.changes.push({ seq: message.seq, path });
              }
            }
            const mismatched = Object.entries(message.fingerprints ?? {})
              .filter(([category, fp]) => fingerprintsOf(record.facts)[category] !== fp && fp !== fingerprintMap({}))
              .map(([category]) => category);
            if (mismatched.length > 0) {
              this.send(socket, { type: 'resync', reason: 'fingerprint mismatch', categories: mismatched });
            }
          }
          if (!this.holdAcks) this.send(socket, { type: 'ack', seq: message.seq });
          return;
        }
        case 'heartbeat':
          return;
      }
    });
  }
}

/** The aggregator's own apply, written independently of the agent's. */
function applyToStore(facts: FactMap, report: ReportMessage): FactMap {
  let next: FactMap = { ...facts };
  for (const [category, full] of Object.entries(report.full ?? {})) {
    next = Object.fromEntries(Object.entries(next).filter(([path]) => categoryOf(path) !== category));
    Object.assign(next, full);
  }
  for (const delta of Object.values(report.delta ?? {})) next = applyDelta(next, delta);
  return next;
}

function fingerprintsOf(facts: FactMap): Record<string, string> {
  const byCategory: Record<string, FactMap> = {};
  for (const [path, value] of Object.entries(facts)) {
    const category = categoryOf(path);
    byCategory[category] ??= {};
    byCategory[category][path] = value;
  }
  return Object.fromEntries(Object.entries(byCategory).map(([c, f]) => [c, fingerprintMap(f)]));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(probe: () => T | undefined | false, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) {
      const tail = logLines.slice(-25).join('');
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; agent log tail:\n${tail}`);
    }
    await sleep(10);
  }
}

/** A collector whose facts the test sets. */
function stub(name: string, facts: { current: FactMap }): Collector {
  return { name, collect: async () => ({ ...facts.current }) };
}

let stateDir: string;
let workDir: string;
let fake: FakeAggregator;
let agents: RunningAgent[];
let logLines: string[];

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'envparity-state-'));
  workDir = await mkdtemp(join(tmpdir(), 'envparity-work-'));
  fake = await FakeAggregator.start();
  agents = [];
  logLines = [];
});

afterEach(async () => {
  for (const agent of agents) await agent.stop();
  await fake.close();
  await rm(stateDir, { recursive: true, force: true });
  await rm(workDir, { recursive: true, force: true });
});

async function start(
  options: Partial<StartAgentOptions> & { collectors: readonly Collector[] },
): Promise<RunningAgent> {
  const agent = await startAgent({
    aggregator: fake.url,
    enrollSecret: ENROLL_SECRET,
    stateDir,
    hostId: 'web-1',
    logger: createAgentLogger('debug', { write: (line: string) => logLines.push(line) }),
    packageDatabases: [],
    backoff: { baseMs: 20, capMs: 100 },
    debounceMs: 50,
    fsync: false,
    drainTimeoutMs: 500,
    ...options,
    config: { environment: 'staging', labels: { service: 'api' }, ...(options.config as object) },
  });
  agents.push(agent);
  return agent;
}

describe('startAgent against a fake aggregator', () => {
  it('enrolls, saves token and fleet key with mode 0600, says hello, sends a full report and empties the spool on ack', async () => {
    const facts = { current: { 'os.release': '12', 'library.dpkg.openssl': '3.0.2' } as FactMap };
    const agent = await start({ collectors: [stub('os', facts)] });
    expect(agent.url).toBe(`ws://127.0.0.1:${fake.port}/api/v1/agent`);

    const report = await until(() => fake.reports()[0], 'the first report');
    const [enroll, hello] = fake.received.map((r) => r.message);
    expect(enroll).toMatchObject({
      type: 'enroll',
      hostId: 'web-1',
      environment: 'staging',
      labels: { service: 'api' },
    });
    expect(hello).toMatchObject({ type: 'hello', hostId: 'web-1', lastAckedSeq: 0, fingerprints: {} });
    // hello went on the same socket as enroll
    expect(fake.received[0]?.socket).toBe(fake.received[1]?.socket);

    for (const file of ['agent-token', 'fleet.key']) {
      expect((await stat(join(stateDir, file))).mode & 0o777).toBe(0o600);
    }
    expect((await readFile(join(stateDir, 'fleet.key'), 'utf8')).trim()).toBe(FLEET_KEY);

    expect(report.seq).toBe(1);
    expect(report.full).toEqual({ library: { 'library.dpkg.openssl': '3.0.2' }, os: { 'os.release': '12' } });
    expect(report.meta?.collectors?.[0]?.name).toBe('os');
    expect(fake.host('web-1').facts).toEqual(facts.current);

    await until(() => agent.status().lastAckedSeq === 1 && agent.status().spooled === 0, 'the ack');
    expect(await readdir(join(stateDir, 'spool'))).toEqual([]);
    expect(JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8'))).toEqual({
      lastAckedSeq: 1,
      nextSeq: 2,
      synced: true,
    });
    // Nothing secret in the logs.
    const logs = logLines.join('');
    expect(logs).not.toContain(ENROLL_SECRET);
    expect(logs).not.toContain(FLEET_KEY);
    expect(logs).not.toContain([...fake.tokens.keys()][0]);
    expect(logs).not.toContain('3.0.2');
    for (const line of logLines) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('sends deltas after the first report and a heartbeat when nothing changed', async () => {
    const facts = {
      current: { 'os.release': '12', 'library.dpkg.openssl': '3.0.2', 'library.dpkg.curl': '8' } as FactMap,
    };
    const agent = await start({ collectors: [stub('os', facts)] });
    await until(() => fake.reports().length === 1 && agent.status().lastAckedSeq === 1, 'the first report');

    facts.current = { 'os.release': '12', 'library.dpkg.openssl': '3.0.13' };
    await agent.collectNow();
    const delta = await until(() => fake.reports()[1], 'the delta');
    expect(delta.full).toBeUndefined();
    expect(delta.delta).toEqual({
      library: { set: { 'library.dpkg.openssl': '3.0.13' }, unset: ['library.dpkg.curl'] },
    });
    expect(delta.fingerprints).toEqual({ library: fingerprintMap({ 'library.dpkg.openssl': '3.0.13' }) });
    expect(fake.host('web-1').facts).toEqual(facts.current);

    const heartbeats = fake.messages('heartbeat').length;
    await agent.collectNow();
    await until(() => fake.messages('heartbeat').length > heartbeats, 'a heartbeat');
    expect(fake.reports()).toHaveLength(2);
    expect(fake.messages('resync' as never)).toHaveLength(0);
  });

  it('honours welcome.need and resync by sending those categories full', async () => {
    const facts = { current: { 'os.release': '12', 'config.a': 1 } as FactMap };
    const agent = await start({ collectors: [stub('os', facts)] });
    await until(() => agent.status().lastAckedSeq === 1, 'the first ack');
    // The aggregator lost its copy of `config`: the next hello is answered with need: [config].
    fake.need = ['config'];
    fake.dropAll();
    const report = await until(() => fake.reports()[1], 'the need report');
    expect(report.full).toEqual({ config: { 'config.a': 1 } });
    expect(report.delta).toBeUndefined();

    const socket = [...fake.sockets][0] as WebSocket;
    fake.send(socket, { type: 'resync', reason: 'test', categories: ['os'] });
    const resync = await until(() => fake.reports()[2], 'the resync report');
    expect(resync.full).toEqual({ os: { 'os.release': '12' } });
  });

  it('collects when the aggregator sends collect', async () => {
    const facts = { current: { 'os.release': '12' } as FactMap };
    const agent = await start({ collectors: [stub('os', facts)] });
    await until(() => agent.status().lastAckedSeq === 1, 'the first ack');
    facts.current = { 'os.release': '13' };
    fake.send([...fake.sockets][0] as WebSocket, { type: 'collect' });
    const report = await until(() => fake.reports()[1], 'the report after collect');
    expect(report.delta?.os?.set).toEqual({ 'os.release': '13' });
  });

  it('reconnects after the server drops, replays what was spooled meanwhile, and deletes it on ack', async () => {
    const facts = { current: { 'os.release': '12' } as FactMap };
    const agent = await start({ collectors: [stub('os', facts)] });
    await until(() => agent.status().lastAckedSeq === 1, 'the first ack');
    const port = fake.port;
    await fake.close();

    // Offline: two changes are spooled with their own observedAt.
    facts.current = { 'os.release': '13' };
    await agent.collectNow();
    facts.current = { 'os.release': '14', 'os.kernel': '6.1' };
    await agent.collectNow();
    expect((await readdir(join(stateDir, 'spool'))).sort()).toEqual([
      '0000000000000002.msgpack',
      '0000000000000003.msgpack',
    ]);

    const tokens = fake.tokens;
    const hosts = fake.hosts;
    fake = await FakeAggregator.start(port);
    for (const [token, host] of tokens) fake.tokens.set(token, host);
    for (const [id, host] of hosts) fake.hosts.set(id, host);
    await until(() => agent.status().lastAckedSeq === 3, 'the replay to be acknowledged', 8000);
    const hello = fake.messages('hello')[0];
    expect(hello).toMatchObject({ lastAckedSeq: 1 });
    expect(fake.messages('enroll')).toHaveLength(0);
    expect(fake.reports().map((r) => r.seq)).toEqual([2, 3]);
    const [second, third] = fake.reports();
    expect(second?.observedAt).toBeLessThan(third?.observedAt as number);
    expect(fake.host('web-1').facts).toEqual(facts.current);
    await until(() => agent.status().spooled === 0, 'the spool to empty');
    expect(await readdir(join(stateDir, 'spool'))).toEqual([]);
  });

  it('compacts a long offline spool and replays it in order, paced, losing no path', async () => {
    const facts = { current: { 'os.release': '12' } as FactMap };
    const agent = await start({
      collectors: [stub('os', facts)],
      spool: { maxReports: 8 },
      maxInFlight: 3,
      sendRate: { perSecond: 200, burst: 4 },
    });
    await until(() => agent.status().lastAckedSeq === 1, 'the first ack');
    const port = fake.port;
    const tokens = fake.tokens;
    const hosts = fake.hosts;
    await fake.close();
    for (let i = 0; i < 30; i++) {
      const next: FactMap = { ...facts.current, 'os.release': `r${i}`, [`library.dpkg.p${i}`]: `${i}` };
      if (i % 4 === 3) delete next[`library.dpkg.p${i - 1}`];
      facts.current = next;
      await agent.collectNow();
    }
    expect(agent.status().spooled).toBeLessThanOrEqual(8);
    expect(agent.status().nextSeq).toBe(32);
    fake = await FakeAggregator.start(port);
    for (const [token, host] of tokens) fake.tokens.set(token, host);
    for (const [id, host] of hosts) fake.hosts.set(id, host);
    await until(() => agent.status().spooled === 0, 'the replay', 8000);
    const seqs = fake.reports().map((r) => r.seq);
    expect(seqs.at(-1)).toBe(31);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(fake.host('web-1').facts).toEqual(facts.current);
    expect(fake.messages('resync' as never)).toHaveLength(0);
  });

  it('reconnects after the aggregator closes the socket (1011), and after 4040 without fighting', async () => {
    const facts = { current: { 'os.release': '12' } as FactMap };
    const agent = await start({ collectors: [stub('os', facts)] });
    await until(() => agent.status().lastAckedSeq === 1, 'the first ack');
    fake.closeAll(CLOSE_CODES.internalError, 'store failed');
    await until(() => fake.connections === 2 && agent.status().phase === 'ready', 'the reconnect');
    fake.closeAll(CLOSE_CODES.replaced, 'replaced');
    await until(() => fake.connections === 3 && agent.status().phase === 'ready', 'the reconnect after 4040');
    expect(logLines.some((line) => line.includes('"code":4040'))).toBe(true);
  });

  it('a restart with the same state dir continues with deltas, with no duplicate change', async () => {
    const facts = { current: { 'os.release': '12', 'os.kernel': '6.1' } as FactMap };
    const first = await start({ collectors: [stub('os', facts)] });
    await until(() => first.status().lastAckedSeq === 1, 'the first ack');
    // A report goes out but its ack is lost: it stays spooled through the restart.
    fake.holdAcks = true;
    facts.current = { 'os.release': '13', 'os.kernel': '6.1' };
    await first.collectNow();
    await until(() => fake.reports().length === 2, 'the unacknowledged report');
    await first.stop();
    expect(await readdir(join(stateDir, 'spool'))).toEqual(['0000000000000002.msgpack']);

    fake.holdAcks = false;
    const second = await start({ collectors: [stub('os', facts)] });
    await until(() => second.status().lastAckedSeq >= 2, 'the lost ack to be recovered from welcome');
    expect(fake.messages('enroll')).toHaveLength(1);
    expect(fake.messages('hello').at(-1)).toMatchObject({ lastAckedSeq: 1 });
    // hello carried the fingerprints of the acknowledged state (seq 1), the aggregator holds seq 2:
    // it needs `os` full once. Same values as stored, so no change is recorded for it.
    const needed = await until(() => fake.reports().find((r) => r.seq === 3), 'the report the welcome needs');
    expect(needed.full).toEqual({ os: { 'os.release': '13', 'os.kernel': '6.1' } });
    await second.collectNow();
    facts.current = { 'os.release': '13', 'os.kernel': '6.2' };
    await second.collectNow();
    const last = await until(() => fake.reports().find((r) => r.seq === 4), 'the next delta');
    expect(last.delta).toEqual({ os: { set: { 'os.kernel': '6.2' }, unset: [] } });
    const record = fake.host('web-1');
    expect(record.applied).toEqual([1, 2, 3, 4]);
    expect(record.changes.map((c) => `${c.seq} ${c.path}`).sort()).toEqual([
      '1 os.kernel',
      '1 os.release',
      '2 os.release',
      '4 os.kernel',
    ]);
    expect(record.facts).toEqual(facts.current);
  });

  it('logs a clear error on a wrong enroll secret (4011), never the secret, and keeps retrying', async () => {
    fake.enrollSecret = 'the-right-one';
    await start({ collectors: [stub('os', { current: { 'os.a': 1 } })] });
    await until(() => fake.connections >= 3, 'retries');
    const errors = logLines.filter((line) => line.includes('"level":50'));
    expect(errors.some((line) => line.includes('enroll secret is wrong'))).toBe(true);
    expect(logLines.join('')).not.toContain(ENROLL_SECRET);
    await expect(stat(join(stateDir, 'agent-token'))).rejects.toThrow();
  });

  it('re-enrolls when its token is revoked (4010) and an enroll secret is available', async () => {
    const facts = { current: { 'os.release': '12' } as FactMap };
    const agent = await start({ collectors: [stub('os', facts)] });
    await until(() => agent.status().lastAckedSeq === 1, 'the first ack');
    const oldToken = (await readFile(join(stateDir, 'agent-token'), 'utf8')).trim();
    fake.tokens.clear();
    fake.dropAll();
    await until(() => fake.messages('enroll').length === 2 && agent.status().phase === 'ready', 're-enrollment');
    const newToken = (await readFile(join(stateDir, 'agent-token'), 'utf8')).trim();
    expect(newToken).not.toBe(oldToken);
    expect(logLines.some((line) => line.includes('4010'))).toBe(true);
  });

  it('fails over to the next aggregator URL over a shared store: same token, spool replayed once, status names the URL', async () => {
    const other = await FakeAggregator.start(0, fake);
    const facts = { current: { 'os.release': '12' } as FactMap };
    const agent = await start({ collectors: [stub('os', facts)], aggregator: [fake.url, other.url] });
    expect(agent.urls).toEqual([
      `${fake.url.replace('http', 'ws')}/api/v1/agent`,
      `${other.url.replace('http', 'ws')}/api/v1/agent`,
    ]);
    await until(() => agent.status().lastAckedSeq === 1, 'the first ack');
    expect(agent.status().aggregator).toBe(agent.urls[0]);

    await fake.close(); // the first aggregator dies
    facts.current = { 'os.release': '13' };
    await agent.collectNow();
    await until(
      () => agent.status().phase === 'ready' && agent.status().lastAckedSeq === 2,
      'the report through the second',
    );
    expect(agent.status().aggregator).toBe(agent.urls[1]);
    expect(other.messages('hello')).toHaveLength(1);
    expect([...fake.messages('enroll'), ...other.messages('enroll')]).toHaveLength(1);
    expect(other.host('web-1')).toMatchObject({ applied: [1, 2], facts: { 'os.release': '13' } });
    expect(
      logLines.some(
        (line) => line.includes('"aggregator":"ws://127.0.0.1:') && line.includes('connected to the aggregator'),
      ),
    ).toBe(true);
    await other.close();
  });

  it('with several URLs, one that rejects the token does not make the agent re-enroll while another knows it', async () => {
    const stranger = await FakeAggregator.start(); // not sharing the store: it knows no token
    const facts = { current: { 'os.release': '12' } as FactMap };
    const first = await start({ collectors: [stub('os', facts)] });
    await until(() => first.status().lastAckedSeq === 1, 'the first ack');
    await first.stop();
    const token = (await readFile(join(stateDir, 'agent-token'), 'utf8')).trim();

    // The stranger first: it refuses the token (4010); the agent moves on and says hello to the one that knows it.
    const agent = await start({
      collectors: [stub('os', facts)],
      aggregator: [stranger.url, fake.url],
      tokenRejectionConfirmMs: 60_000,
    });
    await until(() => agent.status().phase === 'ready', 'welcomed by the aggregator that knows the token');
    expect(agent.status().aggregator).toBe(agent.urls[1]);
    expect(stranger.messages('hello')).toHaveLength(1);
    expect(stranger.messages('enroll')).toHaveLength(0);
    expect(fake.messages('enroll')).toHaveLength(1); // the first run's enrollment only
    expect((await readFile(join(stateDir, 'agent-token'), 'utf8')).trim()).toBe(token);
    await stranger.close();
  });

  it('refuses to start with neither a token nor an enroll secret', async () => {
    await expect(
      startAgent({ aggregator: fake.url, stateDir, hostId: 'web-1', logger: createAgentLogger('silent') }),
    ).rejects.toThrow(/ENVPARITY_ENROLL_SECRET/);
  });

  it('reports a watched file edited in place and replaced by rename within 5 s', async () => {
    const file = join(workDir, 'app.yaml');
    await writeFile(file, 'v1');
    const readsFile: Collector = {
      name: 'config',
      collect: async () => ({ 'config.app': (await readFile(file, 'utf8')).trim() }),
    };
    const others = { current: { 'os.release': '12' } as FactMap };
    const agent = await start({
      collectors: [stub('os', others), readsFile],
      config: { watch: { files: [file] }, interval: 3600 },
    });
    await until(() => agent.status().lastAckedSeq === 1, 'the first ack');

    let started = Date.now();
    await writeFile(file, 'v2');
    const edited = await until(() => fake.reports()[1], 'the report after an in-place edit');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(edited.delta).toEqual({ config: { set: { 'config.app': 'v2' }, unset: [] } });
    // Collector timings follow the volatile-refresh cadence: not on a quick one-path change.
    expect(edited.meta).toBeUndefined();

    started = Date.now();
    await writeFile(`${file}.tmp`, 'v3');
    await rename(`${file}.tmp`, file);
    const replaced = await until(() => fake.reports()[2], 'the report after a replace by rename');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(replaced.delta).toEqual({ config: { set: { 'config.app': 'v3' }, unset: [] } });

    // And the watch still works after the rename.
    await writeFile(file, 'v4');
    const again = await until(() => fake.reports()[3], 'the report after another edit');
    expect(again.delta?.config?.set).toEqual({ 'config.app': 'v4' });
  });

  it('with the real config collector: a watched JSON file, secrets hashed with the fleet key', async () => {
    const file = join(workDir, 'app.json');
    await writeFile(file, JSON.stringify({ db: { host: 'db1', password: 'hunter2' } }));
    const config = createConfigCollector({ env: {}, sysctlNames: [], limitsFile: join(workDir, 'no-limits') });
    const agent = await start({ collectors: [config], config: { watch: { files: [file] } } });
    await until(() => agent.status().lastAckedSeq === 1, 'the first ack');
    const first = fake.reports()[0] as ReportMessage;
    const facts = first.full?.config ?? {};
    const hostPath = Object.keys(facts).find((path) => path.endsWith('.db.host'));
    const passwordPath = Object.keys(facts).find((path) => path.endsWith('.db.password'));
    expect(hostPath && facts[hostPath]).toBe('db1');
    const expectedHash = `hmac-sha256:${createHmac('sha256', FLEET_KEY).update('hunter2').digest('hex')}`;
    expect(passwordPath && facts[passwordPath]).toBe(expectedHash);

    await writeFile(file, JSON.stringify({ db: { host: 'db2', password: 'hunter2' } }));
    const change = await until(() => fake.reports()[1], 'the change of the watched file');
    expect(change.delta?.config).toEqual({ set: { [hostPath as string]: 'db2' }, unset: [] });
    expect(logLines.join('')).not.toContain('hunter2');
  });

  it('stops cleanly: closes the socket with 1000 and leaves a consistent state dir', async () => {
    const agent = await start({ collectors: [stub('os', { current: { 'os.release': '12' } })] });
    await until(() => agent.status().lastAckedSeq === 1, 'the first ack');
    const socket = [...fake.sockets][0] as WebSocket;
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await agent.stop();
    expect(await closed).toBe(1000);
    expect(JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8'))).toMatchObject({ lastAckedSeq: 1 });
    await agent.stop(); // idempotent
  });
});
