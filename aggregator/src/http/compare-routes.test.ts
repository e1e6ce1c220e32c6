import { compareFacts } from '@envparity/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addHost, PROMOTION, seedFleet, serverFacts } from '../../testing/drift-fleet.js';
import { createTestApi, type TestApi } from '../../testing/test-api.js';

let api: TestApi;
beforeEach(async () => {
  api = createTestApi({ promotion: PROMOTION });
  await seedFleet(api.aggregator.store);
});
afterEach(async () => {
  await api.aggregator.stop();
});

describe('GET /api/v1/compare (environments)', () => {
  it('compares two baselines: drift and scale differences, identity and volatile never, parity of behavior paths', async () => {
    const { status, body } = await api.get('/api/v1/compare?from=staging&to=production');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      from: 'staging',
      to: 'production',
      differences: [
        { path: 'hardware.cpu.cores', category: 'hardware', from: 8, to: 16, status: 'scale' },
        { path: 'library.openssl', category: 'library', from: '3.0.13', to: '3.0.11', status: 'drift' },
      ],
    });
    // 17 behavior paths; openssl differs. Scale does not lower parity.
    expect(body.compared).toBe(17);
    expect(body.parity).toBeCloseTo(16 / 17, 10);
    expect(body.sides.from).toMatchObject({ kind: 'environment', name: 'staging', environment: 'staging', ties: [] });
    expect(JSON.stringify(body)).not.toContain('host.hostname');
    expect(JSON.stringify(body)).not.toContain('os.uptime');
  });

  it('judges exactly like the shared compareFacts on the two baselines', async () => {
    const from = await api.get('/api/v1/environments/dev/baseline');
    const to = await api.get('/api/v1/environments/staging/baseline');
    const expected = compareFacts(from.body.facts, to.body.facts, { fromEnvironment: 'dev', toEnvironment: 'staging' });
    const { body } = await api.get('/api/v1/compare?from=dev&to=staging');
    expect({ parity: body.parity, compared: body.compared, differences: body.differences }).toEqual(expected);
  });

  it('an exception turns drift into justified and raises parity; an expired one stops matching', async () => {
    const created = await api.request('POST', '/api/v1/exceptions', {
      body: {
        path: 'library.*',
        environments: ['production', 'staging'],
        reason: 'production upgrades after the change freeze',
        impact: 'TLS 1.3 ciphers differ',
        owner: 'platform-team',
        expiresAt: new Date(api.clock.now + 3_600_000).toISOString(),
      },
    });
    expect(created.status).toBe(201);
    const justified = await api.get('/api/v1/compare?from=staging&to=production');
    expect(justified.body.parity).toBe(1);
    expect(justified.body.differences).toContainEqual({
      path: 'library.openssl',
      category: 'library',
      from: '3.0.13',
      to: '3.0.11',
      status: 'justified',
      exception: { id: created.body.id, reason: 'production upgrades after the change freeze' },
    });
    // Exceptions never justify scale differences, nor other pairs.
    expect(justified.body.differences).toContainEqual(
      expect.objectContaining({ path: 'hardware.cpu.cores', status: 'scale' }),
    );
    const other = await api.get('/api/v1/compare?from=dev&to=staging');
    expect(other.body.differences).toContainEqual(
      expect.objectContaining({ path: 'library.openssl', status: 'drift' }),
    );

    api.clock.now += 3_600_000;
    const expired = await api.get('/api/v1/compare?from=staging&to=production');
    expect(expired.body.parity).toBeCloseTo(16 / 17, 10);
    expect(expired.body.differences).toContainEqual(
      expect.objectContaining({ path: 'library.openssl', status: 'drift' }),
    );
  });

  it('narrows to categories', async () => {
    const { body } = await api.get('/api/v1/compare?from=staging&to=production&category=hardware');
    expect(body.differences.map((d: { path: string }) => d.path)).toEqual(['hardware.cpu.cores']);
    expect(body.parity).toBe(1);
    const two = await api.get('/api/v1/compare?from=staging&to=production&category=hardware,library');
    expect(two.body.differences).toHaveLength(2);
  });

  it('marks differences on tied baseline paths', async () => {
    await addHost(api.aggregator.store, 'stg-3', 'staging', serverFacts('stg-3', { 'config.env.LOG_LEVEL': 'debug' }));
    await addHost(api.aggregator.store, 'stg-4', 'staging', serverFacts('stg-4', { 'config.env.LOG_LEVEL': 'debug' }));
    const { body } = await api.get('/api/v1/compare?from=staging&to=production');
    expect(body.sides.from.ties).toEqual([
      {
        path: 'config.env.LOG_LEVEL',
        candidates: [
          { value: 'debug', hosts: 2 },
          { value: 'info', hosts: 2 },
        ],
      },
    ]);
    expect(body.differences).toContainEqual({
      path: 'config.env.LOG_LEVEL',
      category: 'config',
      to: 'info',
      status: 'drift',
      tie: true,
    });
  });
});

describe('GET /api/v1/compare (hosts)', () => {
  it('compares two hosts with fromHost/toHost or host:ID', async () => {
    const a = await api.get('/api/v1/compare?fromHost=prod-1&toHost=prod-3');
    const b = await api.get('/api/v1/compare?from=host:prod-1&to=host:prod-3');
    expect(a.status).toBe(200);
    expect(a.body).toEqual(b.body);
    expect(a.body).toMatchObject({
      from: 'host:prod-1',
      to: 'host:prod-3',
      differences: [{ path: 'config.env.LOG_LEVEL', from: 'info', to: 'warn', status: 'drift' }],
      sides: { from: { kind: 'host', name: 'prod-1', environment: 'production' } },
    });
  });

  it('compares a host with an environment, as verify --against does', async () => {
    const { body } = await api.get('/api/v1/compare?from=staging&toHost=prod-1');
    expect(body.from).toBe('staging');
    expect(body.to).toBe('host:prod-1');
    expect(body.differences.map((d: { path: string; status: string }) => `${d.path}:${d.status}`)).toEqual([
      'hardware.cpu.cores:scale',
      'library.openssl:drift',
    ]);
  });
});

describe('GET /api/v1/compare errors', () => {
  it('answers 400 naming the missing or conflicting side', async () => {
    for (const [query, field] of [
      ['to=production', 'from'],
      ['from=staging', 'to'],
      ['from=staging&fromHost=stg-1&to=production', 'fromHost'],
      ['from=no%20spaces&to=production', 'from'],
      ['from=staging&to=production&category=kernel', 'category'],
      ['from=staging&to=production&colour=red', 'colour'],
    ]) {
      const { status, body } = await api.get(`/api/v1/compare?${query}`);
      expect(status, query).toBe(400);
      expect(body.error.code).toBe('INVALID_REQUEST');
      expect(body.error.message, query).toContain(field);
    }
  });

  it('answers 404 for an unknown environment or host', async () => {
    const env = await api.get('/api/v1/compare?from=staging&to=prod');
    expect(env.status).toBe(404);
    expect(env.body.error.message).toContain('"prod"');
    const host = await api.get('/api/v1/compare?from=staging&toHost=ghost');
    expect(host.status).toBe(404);
    expect(host.body.error.message).toContain('"ghost"');
  });

  it('answers 401 without a token', async () => {
    expect((await api.get('/api/v1/compare?from=staging&to=production', null)).status).toBe(401);
  });
});

describe('GET /api/v1/compare with the config secretPolicy', () => {
  const hash = (c: string) => `hmac-sha256:${c.repeat(64)}`;
  it('shows secret-policy findings and counts them like drift; different hashes under `differ` are no difference', async () => {
    const policyApi = createTestApi({
      promotion: ['staging', 'production'],
      secretPolicy: [
        { glob: 'config.env.DB_PASSWORD', expect: 'differ' },
        { glob: 'config.env.API_KEY', expect: 'differ' },
      ],
    });
    try {
      const secrets = (db: string, api: string) => ({
        'config.env.DB_PASSWORD': hash(db),
        'config.env.API_KEY': hash(api),
      });
      await addHost(policyApi.aggregator.store, 'stg-1', 'staging', serverFacts('stg-1', secrets('a', 'b')));
      await addHost(policyApi.aggregator.store, 'prod-1', 'production', serverFacts('prod-1', secrets('a', 'c')));
      const { status, body } = await policyApi.get('/api/v1/compare?from=staging&to=production');
      expect(status).toBe(200);
      expect(body.differences).toEqual([
        {
          path: 'config.env.DB_PASSWORD',
          category: 'config',
          from: hash('a'),
          to: hash('a'),
          status: 'secret-policy',
          secretPolicy: 'differ',
        },
      ]);
      expect(body.parity).toBeLessThan(1);
      expect(body.parity).toBeCloseTo((body.compared - 1) / body.compared);
      // The baseline publishes the policy, so verify --against judges secrets the same way.
      expect((await policyApi.get('/api/v1/environments/production/baseline')).body.secretPolicy).toEqual([
        { glob: 'config.env.DB_PASSWORD', expect: 'differ' },
        { glob: 'config.env.API_KEY', expect: 'differ' },
      ]);
      // Without the policy the same fleet shows API_KEY as drift and DB_PASSWORD as equal.
      const plain = await api.get('/api/v1/compare?from=staging&to=production');
      expect(plain.body.differences.map((d: { status: string }) => d.status)).not.toContain('secret-policy');
    } finally {
      await policyApi.aggregator.stop();
    }
  });
});
