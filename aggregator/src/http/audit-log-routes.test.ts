import { decodeServerMessage, encodeMessage, type ServerMessage } from '@envparity/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PROMOTION, seedFleet } from '../../testing/drift-fleet.js';
import { ADMIN_TOKEN, createTestApi, type TestApi } from '../../testing/test-api.js';
import { createAggregator } from '../aggregator.js';
import type { SqliteFactStore } from '../store/sqlite-fact-store.js';
import { hashToken } from '../token-hash.js';

let api: TestApi;
const READ = 'read-token';

beforeEach(async () => {
  api = createTestApi({ promotion: PROMOTION });
  await seedFleet(api.aggregator.store);
  await api.aggregator.store.createApiToken({ name: 'dashboard', scope: 'read', tokenHash: hashToken(READ), at: 0 });
});
afterEach(async () => {
  await api.aggregator.stop();
});

function rawRows(store: unknown): Record<string, unknown>[] {
  return (store as SqliteFactStore).db.prepare('SELECT * FROM audit_log ORDER BY id').all() as Record<
    string,
    unknown
  >[];
}

describe('GET /api/v1/audit-log', () => {
  it('records token, exception and host admin actions with the actor, newest first, never a token', async () => {
    const seeded = (await api.get('/api/v1/audit-log')).body.entries;
    // seedFleet enrolled its hosts through the store: one `host.enrolled` each, by the enroll secret.
    expect(seeded.length).toBeGreaterThan(0);
    expect(seeded.every((entry: { action: string; actor: string }) => entry.action === 'host.enrolled')).toBe(true);
    expect(seeded[0]).toMatchObject({ actor: 'enroll-secret', source: null, details: { hostId: expect.any(String) } });

    api.clock.now += 1000;
    const created = await api.request('POST', '/api/v1/tokens', { body: { name: 'ci', scope: 'admin' } });
    expect(created.status).toBe(201);
    // The new admin token acts under its own id.
    api.clock.now += 1000;
    const exception = await api.request('POST', '/api/v1/exceptions', {
      token: created.body.token,
      body: { path: 'library.openssl', environments: ['staging', 'production'], reason: 'freeze' },
    });
    expect(exception.status).toBe(201);
    api.clock.now += 1000;
    expect((await api.request('DELETE', `/api/v1/exceptions/${exception.body.id}`)).status).toBe(200);
    const hostId = seeded[0].details.hostId as string;
    api.clock.now += 1000;
    expect((await api.request('DELETE', `/api/v1/hosts/${encodeURIComponent(hostId)}`)).status).toBe(200);
    api.clock.now += 1000;
    expect((await api.request('DELETE', `/api/v1/tokens/${created.body.id}`)).status).toBe(200);

    const { status, body } = await api.get('/api/v1/audit-log?limit=5');
    expect(status).toBe(200);
    const at = (ms: number) => new Date(ms).toISOString();
    expect(body.entries).toEqual([
      {
        id: expect.any(Number),
        at: at(api.clock.now),
        actor: 'bootstrap',
        action: 'token.revoked',
        source: null,
        details: { id: created.body.id },
      },
      {
        id: expect.any(Number),
        at: at(api.clock.now - 1000),
        actor: 'bootstrap',
        action: 'host.retired',
        source: null,
        details: { hostId, environment: expect.any(String) },
      },
      {
        id: expect.any(Number),
        at: at(api.clock.now - 2000),
        actor: 'bootstrap',
        action: 'exception.deleted',
        source: null,
        details: { id: exception.body.id, path: 'library.openssl', environments: ['staging', 'production'] },
      },
      {
        id: expect.any(Number),
        at: at(api.clock.now - 3000),
        actor: created.body.id,
        action: 'exception.created',
        source: null,
        details: {
          id: exception.body.id,
          path: 'library.openssl',
          environments: ['staging', 'production'],
          reason: 'freeze',
          expiresAt: null,
        },
      },
      {
        id: expect.any(Number),
        at: at(api.clock.now - 4000),
        actor: 'bootstrap',
        action: 'token.created',
        source: null,
        details: { id: created.body.id, name: 'ci', scope: 'admin' },
      },
    ]);
    expect(body.truncated).toBe(true);
    // Canaries: neither the created token nor the bootstrap one is anywhere in the log, API or table.
    const everything = JSON.stringify((await api.get('/api/v1/audit-log?limit=1000')).body);
    const table = JSON.stringify(rawRows(api.aggregator.store));
    for (const secret of [created.body.token as string, ADMIN_TOKEN, READ]) {
      expect(everything).not.toContain(secret);
      expect(table).not.toContain(secret);
    }
  });

  it('pages with limit and before, newest first', async () => {
    for (let i = 0; i < 7; i++) {
      api.clock.now += 1000;
      await api.request('POST', '/api/v1/tokens', { body: { name: `t${i}`, scope: 'read' } });
    }
    const all = (await api.get('/api/v1/audit-log?limit=1000')).body.entries as { id: number }[];
    const ids = all.map((entry) => entry.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    const first = await api.get('/api/v1/audit-log?limit=3');
    expect(first.body.entries.map((e: { id: number }) => e.id)).toEqual(ids.slice(0, 3));
    expect(first.body.truncated).toBe(true);
    const second = await api.get(`/api/v1/audit-log?limit=3&before=${ids[2]}`);
    expect(second.body.entries.map((e: { id: number }) => e.id)).toEqual(ids.slice(3, 6));
    const last = await api.get(`/api/v1/audit-log?limit=1000&before=${ids.at(-1)}`);
    expect(last.body).toEqual({ entries: [], truncated: false });
  });

  it('is admin only, validates its query and appears in the OpenAPI document', async () => {
    expect((await api.get('/api/v1/audit-log', null)).status).toBe(401);
    expect((await api.get('/api/v1/audit-log', READ)).status).toBe(403);
    for (const query of ['limit=0', 'limit=1001', 'limit=x', 'before=-1', 'since=1']) {
      const res = await api.get(`/api/v1/audit-log?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe('INVALID_REQUEST');
    }
    const doc = (await api.get('/api/v1/openapi.json')).body;
    expect(doc.paths['/api/v1/audit-log'].get.operationId).toBe('getAuditLog');
  });

  it('is append-only in the database', async () => {
    await api.request('POST', '/api/v1/tokens', { body: { name: 'x', scope: 'read' } });
    const { db } = api.aggregator.store as SqliteFactStore;
    expect(() => db.prepare("UPDATE audit_log SET actor = 'someone-else'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
  });
});

describe('audit log over real sockets', () => {
  const ENROLL_SECRET = 'canary-enroll-secret-0123456789';
  const FLEET_KEY = 'canary-fleet-key-abcdefghijklmnop';
  const BOOTSTRAP = 'canary-admin-token-zyxwvutsrq';

  it('records the remote address of HTTP requests and enrollments, and no secret', async () => {
    const aggregator = createAggregator({
      port: 0,
      host: '127.0.0.1',
      enrollSecret: ENROLL_SECRET,
      fleetKey: FLEET_KEY,
      adminToken: BOOTSTRAP,
      flushIntervalMs: 5,
    });
    try {
      const { url } = await aggregator.start();
      const created = await fetch(`${url}/api/v1/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${BOOTSTRAP}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'grafana', scope: 'read' }),
      });
      expect(created.status).toBe(201);
      const { token: apiToken } = (await created.json()) as { token: string };

      const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/agent`);
      const enrolled = await new Promise<Extract<ServerMessage, { type: 'enrolled' }>>((resolve, reject) => {
        ws.on('message', (data) => {
          const message = decodeServerMessage(data as Buffer);
          if (message.type === 'enrolled') resolve(message);
        });
        ws.on('close', (code, reason) => reject(new Error(`closed ${code} ${reason.toString()}`)));
        ws.on('error', reject);
        ws.on('open', () =>
          ws.send(
            encodeMessage({
              type: 'enroll',
              v: 1,
              enrollSecret: ENROLL_SECRET,
              hostId: 'web-1',
              environment: 'staging',
              labels: { service: 'api' },
              agentVersion: '0.1.0-test',
            }),
          ),
        );
      });
      ws.close();
      expect(enrolled.fleetKey).toBe(FLEET_KEY);

      const answer = await fetch(`${url}/api/v1/audit-log`, { headers: { authorization: `Bearer ${BOOTSTRAP}` } });
      const body = (await answer.json()) as { entries: Record<string, unknown>[] };
      expect(body.entries).toEqual([
        {
          id: expect.any(Number),
          at: expect.any(String),
          actor: 'enroll-secret',
          action: 'host.enrolled',
          source: '127.0.0.1',
          details: { hostId: 'web-1', environment: 'staging', agentVersion: '0.1.0-test' },
        },
        {
          id: expect.any(Number),
          at: expect.any(String),
          actor: 'bootstrap',
          action: 'token.created',
          source: '127.0.0.1',
          details: { id: expect.any(String), name: 'grafana', scope: 'read' },
        },
      ]);
      const table = JSON.stringify(rawRows(aggregator.store));
      for (const secret of [ENROLL_SECRET, FLEET_KEY, BOOTSTRAP, apiToken, enrolled.token]) {
        expect(JSON.stringify(body)).not.toContain(secret);
        expect(table).not.toContain(secret);
      }
    } finally {
      await aggregator.stop();
    }
  });
});
