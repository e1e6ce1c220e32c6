import type { AddressInfo } from 'node:net';
import {
  type AgentMessage,
  applyDelta,
  decodeAgentMessage,
  encodeMessage,
  type FactMap,
  fingerprintMap,
  type ServerMessage,
} from '@envparity/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { type Fleet, startFleet } from './fleet.js';

/** A minimal in-memory aggregator that checks every report against the protocol. */
async function fakeAggregator(secret: string) {
  const hosts = new Map<string, { token: string; lastSeq: number; categories: Record<string, FactMap> }>();
  const problems: string[] = [];
  const counts = { reports: 0, deltas: 0, heartbeats: 0, hellos: 0 };
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (ws) => {
    let hostId: string | undefined;
    let lastSeqOnSocket = 0;
    const send = (m: ServerMessage) => ws.send(encodeMessage(m));
    ws.on('message', (data) => {
      let message: AgentMessage;
      try {
        message = decodeAgentMessage(data as Buffer);
      } catch (error) {
        problems.push(`decode: ${(error as Error).message}`);
        ws.close(4000);
        return;
      }
      if (message.type === 'enroll') {
        if (message.enrollSecret !== secret) return ws.close(4011, 'enroll refused');
        const token = `t-${message.hostId}`;
        hosts.set(message.hostId, { token, lastSeq: 0, categories: {} });
        send({ type: 'enrolled', hostId: message.hostId, token, fleetKey: 'k' });
      } else if (message.type === 'hello') {
        counts.hellos++;
        const host = hosts.get(message.hostId);
        if (!host || host.token !== message.token) return ws.close(4010, 'unauthorized');
        hostId = message.hostId;
        const need = Object.entries(message.fingerprints)
          .filter(([category, fp]) => !host.categories[category] || fingerprintMap(host.categories[category]) !== fp)
          .map(([category]) => category);
        send({ type: 'welcome', lastSeq: host.lastSeq, need, heartbeatSeconds: 1 });
      } else if (message.type === 'report') {
        const host = hostId ? hosts.get(hostId) : undefined;
        if (!host) return ws.close(4004, 'report before hello');
        if (message.seq <= lastSeqOnSocket) problems.push(`out of order ${message.seq}`);
        lastSeqOnSocket = message.seq;
        counts.reports++;
        for (const [category, map] of Object.entries(message.full ?? {})) host.categories[category] = map;
        for (const [category, delta] of Object.entries(message.delta ?? {})) {
          counts.deltas++;
          host.categories[category] = applyDelta(host.categories[category] ?? {}, delta);
        }
        for (const [category, fp] of Object.entries(message.fingerprints ?? {})) {
          if (fingerprintMap(host.categories[category] ?? {}) !== fp)
            problems.push(`fingerprint ${hostId} ${category}`);
        }
        host.lastSeq = Math.max(host.lastSeq, message.seq);
        send({ type: 'ack', seq: message.seq });
      } else {
        counts.heartbeats++;
      }
    });
  });
  await new Promise((resolve) => wss.once('listening', resolve));
  return { wss, hosts, problems, counts };
}

const waitFor = async (condition: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('startFleet against a protocol-checking aggregator', () => {
  let fleet: Fleet | undefined;
  let server: Awaited<ReturnType<typeof fakeAggregator>> | undefined;
  afterEach(async () => {
    await fleet?.stop(1000);
    await new Promise((r) => server?.wss.close(r));
  });

  it('enrolls, reports in full, sends heartbeats and consistent one-path deltas, and reconnects', async () => {
    server = await fakeAggregator('s3cret');
    const { port } = server.wss.address() as AddressInfo;
    fleet = startFleet({
      url: `ws://127.0.0.1:${port}/api/v1/agent`,
      agents: 25,
      enrollSecret: 's3cret',
      intervalSeconds: 0.3,
      changeRatePerMinute: 100, // every interval is a change (probability capped at 1)
      rampSeconds: 0.2,
      reconnectBaseMs: 50,
      seed: 3,
    });
    await waitFor(() => fleet?.stats().stormMs !== null);
    await waitFor(() => (fleet?.stats().deltaReportsSent ?? 0) >= 50 && (fleet?.stats().deltaRtt.count ?? 0) >= 50);
    expect(server.hosts.size).toBe(25);
    expect(server.counts.deltas).toBeGreaterThanOrEqual(50);

    // Drop every socket as a crashing aggregator would: agents come back with hello, nothing needed in full.
    const fullBefore = fleet.stats().fullReportsSent;
    for (const client of server.wss.clients) client.close(1011, 'internal error');
    await waitFor(() => fleet?.stats().connected === 25 && (server?.counts.hellos ?? 0) >= 50);
    await waitFor(() => (fleet?.stats().deltaRtt.count ?? 0) >= 100);
    const stats = await fleet.stop(2000);
    expect(server.problems).toEqual([]);
    expect(stats.errors).toEqual({});
    expect(stats.enrolled).toBe(25);
    expect(stats.fullAcked).toBe(25);
    expect(stats.resyncs).toBe(0);
    expect(stats.closes['1011 internal error']).toBe(25);
    // Unacked deltas at the drop may legitimately come back as a full category; never everything.
    expect(stats.fullReportsSent - fullBefore).toBeLessThanOrEqual(25);
    expect(stats.fullRtt.count).toBe(25);
  });

  it('with a low change rate sends mostly heartbeats', async () => {
    server = await fakeAggregator('s3cret');
    const { port } = server.wss.address() as AddressInfo;
    fleet = startFleet({
      url: `ws://127.0.0.1:${port}/api/v1/agent`,
      agents: 10,
      enrollSecret: 's3cret',
      intervalSeconds: 0.2,
      changeRatePerMinute: 0,
    });
    await waitFor(() => (server?.counts.heartbeats ?? 0) >= 30);
    const stats = await fleet.stop(1000);
    expect(stats.deltaReportsSent).toBe(0);
    expect(stats.fullReportsSent).toBe(10);
    expect(server.problems).toEqual([]);
  });

  it('sends a planted change (setFact) as one delta after the first report, and keeps it', async () => {
    server = await fakeAggregator('s3cret');
    const { port } = server.wss.address() as AddressInfo;
    fleet = startFleet({
      url: `ws://127.0.0.1:${port}/api/v1/agent`,
      agents: 4,
      enrollSecret: 's3cret',
      intervalSeconds: 0.2,
      changeRatePerMinute: 0,
      firstIndex: 10,
    });
    const path = 'config.env.FEATURE_RATE_LIMIT';
    // Asked before the host has even connected: it must not become part of the first report.
    expect(fleet.setFact(11, path, 'false')).toBe(true);
    expect(fleet.setFact(3, path, 'false')).toBe(false);
    expect(fleet.pendingFacts()).toBe(1);
    await waitFor(() => fleet?.stats().stormMs !== null && fleet?.pendingFacts() === 0);
    await waitFor(() => server?.counts.deltas === 1);
    const changed = [...server.hosts.entries()].filter(([, h]) => h.categories.config?.[path] === 'false');
    expect(changed.map(([id]) => id)).toEqual([expect.stringMatching(/-00011$/)]);
    expect(fleet.stats().deltaReportsSent).toBe(1);
    // A reconnect says hello with the changed fingerprint: nothing is owed in full.
    for (const client of server.wss.clients) client.close(1011, 'internal error');
    await waitFor(() => fleet?.stats().connected === 4 && (server?.counts.hellos ?? 0) >= 8);
    await new Promise((r) => setTimeout(r, 300));
    const stats = await fleet.stop(1000);
    expect(stats.fullReportsSent).toBe(4);
    expect(server.problems).toEqual([]);
  });

  it('stops retrying a refused enrollment', async () => {
    server = await fakeAggregator('right');
    const { port } = server.wss.address() as AddressInfo;
    fleet = startFleet({ url: `ws://127.0.0.1:${port}/`, agents: 3, enrollSecret: 'wrong', reconnectBaseMs: 10 });
    await waitFor(() => fleet?.stats().closes['4011 enroll refused'] === 3);
    await new Promise((r) => setTimeout(r, 100));
    expect(fleet.stats().connectAttempts).toBe(3);
  });
});
