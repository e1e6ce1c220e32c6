/**
 * Audits, promotion tracking and time travel end to end (issue 13 req 8): one aggregator with the
 * promotion order dev -> staging -> production and five real agent processes, each in its own
 * mount namespace so that the watched config file is the same path on every "host" with its own
 * content. The test edits those files as an operator would edit a host's config, and reads what
 * the aggregator makes of it:
 * - a change made in staging waits for production, counts the production hosts that have it,
 *   and leaves the list once production has it;
 * - a production-only hotfix shows as out of order (to apply upstream);
 * - an audit recorded before remediating and justifying, and one after, differ by exactly that;
 * - a compare at an instant before an edit returns the value from before it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { factPath } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AgentHandle,
  type AggregatorHandle,
  cleanupProcesses,
  makeTempDir,
  mountNamespaceSupport,
  startAgent,
  startAggregator,
  waitFor,
} from './helpers/index.js';

const support = mountNamespaceSupport();

interface AppConfig {
  checkout: string;
  ttl: number;
  tls: string;
  region: string;
}

function appYaml({ checkout, ttl, tls, region }: AppConfig): string {
  return `feature:\n  checkout: ${checkout}\ncache:\n  ttl: ${ttl}\ntls:\n  minVersion: "${tls}"\nregion: ${region}\n`;
}

interface PromotionItem {
  path: string;
  value: unknown;
  since: string;
  ageSeconds: number;
  toHosts: number;
  action: string;
}
interface PromotionPair {
  from: string;
  to: string;
  waiting: PromotionItem[];
  outOfOrder: PromotionItem[];
}
interface SinceItem {
  path: string;
  from?: string;
  to?: string;
}
interface AuditSince {
  new: SinceItem[];
  remediated: SinceItem[];
  newlyJustified: SinceItem[];
  stillOpen: SinceItem[];
  counts: { new: number; remediated: number; newlyJustified: number; stillOpen: number };
}

const HOSTS = [
  { id: 'dev-1', environment: 'dev' },
  { id: 'stg-1', environment: 'staging' },
  { id: 'stg-2', environment: 'staging' },
  { id: 'prod-1', environment: 'production' },
  { id: 'prod-2', environment: 'production' },
] as const;
type HostId = (typeof HOSTS)[number]['id'];

describe.skipIf(!support.ok)('audits, promotion and time travel (5 agents, mount namespaces)', () => {
  let aggregator: AggregatorHandle;
  let etcTarget: string;
  const etcOf: Partial<Record<HostId, string>> = {};
  const configOf: Partial<Record<HostId, AppConfig>> = {};
  const agents: AgentHandle[] = [];
  const configPath = (...keys: string[]) => factPath('config', 'file', join(etcTarget, 'app.yaml'), ...keys);

  const hostFact = async (id: HostId, path: string) =>
    (await aggregator.json<{ facts: Record<string, unknown> }>(`/api/v1/hosts/${id}`)).facts[path];

  /** Edits a host's config file and waits until the aggregator holds the new value. */
  async function edit(ids: readonly HostId[], change: Partial<AppConfig>, path: string, value: unknown) {
    for (const id of ids) {
      const next = { ...(configOf[id] as AppConfig), ...change };
      configOf[id] = next;
      await writeFile(join(etcOf[id] as string, 'app.yaml'), appYaml(next));
    }
    await waitFor(async () => (await Promise.all(ids.map((id) => hostFact(id, path)))).every((v) => v === value), {
      timeoutMs: 15_000,
      intervalMs: 100,
      message: `${path} = ${JSON.stringify(value)} on ${ids.join(', ')}`,
    });
  }

  const promotionPair = async (from: string, to: string) => {
    const body = await aggregator.json<{ pairs: PromotionPair[] }>(`/api/v1/promotion?from=${from}&to=${to}`);
    expect(body.pairs).toHaveLength(1);
    return body.pairs[0] as PromotionPair;
  };

  const post = async (path: string, body: unknown) => {
    const response = await aggregator.api(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };

  beforeAll(async () => {
    const configDir = await makeTempDir('envparity-e2e-promotion-config-');
    const configFile = join(configDir, 'aggregator.yaml');
    await writeFile(configFile, 'promotion: [dev, staging, production]\n');
    aggregator = await startAggregator({ args: ['--config', configFile] });
    const base = await makeTempDir('envparity-e2e-promotion-mnt-');
    etcTarget = join(base, 'etc');
    await mkdir(etcTarget);
    await Promise.all(
      HOSTS.map(async (host) => {
        const etc = await makeTempDir(`envparity-e2e-promotion-${host.id}-`);
        etcOf[host.id] = etc;
        // Production starts with a shorter cache TTL than everyone else: drift the first audit sees.
        // Its region differs as intended: the second audit sees it justified.
        const config: AppConfig = {
          checkout: 'v1',
          ttl: host.environment === 'production' ? 30 : 60,
          tls: '1.2',
          region: host.environment === 'production' ? 'eu-west-1' : 'eu-central-1',
        };
        configOf[host.id] = config;
        await writeFile(join(etc, 'app.yaml'), appYaml(config));
        agents.push(
          await startAgent({
            aggregatorUrl: aggregator.url,
            hostId: host.id,
            environment: host.environment,
            interval: 3600,
            config: { watch: { files: [join(etcTarget, 'app.yaml')] } },
            mountNamespace: { binds: [{ source: etc, target: etcTarget }] },
          }),
        );
      }),
    );
    await waitFor(
      async () => {
        const body = await aggregator.json<{ hosts: { fingerprint: string | null; online: boolean }[] }>(
          '/api/v1/hosts',
        );
        return body.hosts.length === HOSTS.length && body.hosts.every((h) => h.online && h.fingerprint !== null);
      },
      { timeoutMs: 60_000, message: 'five hosts online with facts' },
    );
  }, 120_000);

  afterAll(() => cleanupProcesses());

  let firstAudit: number;
  let beforeCheckout: string;

  it('records a first audit: production drifts from staging on the cache TTL and the region', async () => {
    const recorded = await post('/api/v1/audits', {});
    expect(typeof recorded.id).toBe('number');
    expect(recorded.author).toBeTruthy();
    firstAudit = recorded.id as number;
    const audit = await aggregator.json<{
      pairs: { from: string; to: string; differences: { path: string; status: string }[] }[];
    }>(`/api/v1/audits/${firstAudit}`);
    const pair = audit.pairs.find((p) => p.from === 'staging' && p.to === 'production');
    expect(pair?.differences.map((d) => [d.path, d.status]).sort()).toEqual(
      [
        [configPath('cache', 'ttl'), 'drift'],
        [configPath('region'), 'drift'],
      ].sort(),
    );
    // Adjacent pairs of the promotion order come first.
    expect(audit.pairs.slice(0, 2).map((p) => `${p.from}>${p.to}`)).toEqual(['dev>staging', 'staging>production']);
    expect(audit.pairs).toHaveLength(3);
  });

  it('a change made in staging waits for production, counts its hosts, and leaves once production has it', async () => {
    beforeCheckout = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const checkout = configPath('feature', 'checkout');
    await edit(['stg-1', 'stg-2'], { checkout: 'v2' }, checkout, 'v2');
    const waiting = await waitFor(
      async () => (await promotionPair('staging', 'production')).waiting.find((item) => item.path === checkout),
      { timeoutMs: 10_000, message: 'the checkout change waiting for production' },
    );
    expect(waiting).toMatchObject({ value: 'v2', toHosts: 0, action: 'promote' });
    expect(Date.parse(waiting.since)).toBeGreaterThanOrEqual(Date.parse(beforeCheckout) - 1000);
    expect(waiting.ageSeconds).toBeGreaterThanOrEqual(0);

    await edit(['prod-1'], { checkout: 'v2' }, checkout, 'v2');
    const halfway = (await promotionPair('staging', 'production')).waiting.find((item) => item.path === checkout);
    // One production host of two: production's baseline is tied, the change is not there yet.
    expect(halfway?.toHosts).toBe(1);

    await edit(['prod-2'], { checkout: 'v2' }, checkout, 'v2');
    await waitFor(
      async () => !(await promotionPair('staging', 'production')).waiting.some((item) => item.path === checkout),
      { timeoutMs: 10_000, message: 'the checkout change gone from the waiting list' },
    );
  });

  it('a production-only hotfix shows as out of order, to apply upstream', async () => {
    const tls = configPath('tls', 'minVersion');
    await edit(['prod-1', 'prod-2'], { tls: '1.3' }, tls, '1.3');
    const item = await waitFor(
      async () => (await promotionPair('staging', 'production')).outOfOrder.find((entry) => entry.path === tls),
      { timeoutMs: 10_000, message: 'the hotfix in the out-of-order list' },
    );
    expect(item).toMatchObject({ value: '1.3', action: 'apply to upstream' });
    expect((await promotionPair('staging', 'production')).waiting.some((entry) => entry.path === tls)).toBe(false);
    // The default answer holds every adjacent pair of the promotion order.
    const all = await aggregator.json<{ pairs: PromotionPair[] }>('/api/v1/promotion');
    expect(all.pairs.map((p) => `${p.from}>${p.to}`)).toEqual(['dev>staging', 'staging>production']);
  });

  it('a compare at an instant before an edit returns the value from before it', async () => {
    const checkout = configPath('feature', 'checkout');
    type Compare = { differences: { path: string; from?: unknown; to?: unknown; status: string }[] };
    const now = await aggregator.json<Compare>('/api/v1/compare?from=staging&to=production');
    expect(now.differences.some((d) => d.path === checkout)).toBe(false);
    const then = await aggregator.json<Compare>(
      `/api/v1/compare?from=staging&to=production&at=${encodeURIComponent(beforeCheckout)}`,
    );
    expect(then.differences.some((d) => d.path === checkout)).toBe(false); // v1 on both sides then
    // Staging now against production before the edit: v2 against v1.
    const mixed = await aggregator.json<Compare>(
      `/api/v1/compare?from=staging&to=production&toAt=${encodeURIComponent(beforeCheckout)}`,
    );
    expect(mixed.differences.find((d) => d.path === checkout)).toMatchObject({ from: 'v2', to: 'v1' });
    const host = await aggregator.json<{ facts: Record<string, unknown> }>(
      `/api/v1/hosts/stg-1?at=${encodeURIComponent(beforeCheckout)}`,
    );
    expect(host.facts[checkout]).toBe('v1');
    const baseline = await aggregator.json<{ facts: Record<string, unknown> }>(
      `/api/v1/environments/staging/baseline?at=${encodeURIComponent(beforeCheckout)}`,
    );
    expect(baseline.facts[checkout]).toBe('v1');
    // The change feed of staging since then holds both hosts' edits, newest first.
    const feed = await aggregator.json<{ changes: { at: string; hostId: string; path: string; to?: unknown }[] }>(
      `/api/v1/changes?environment=staging&since=${encodeURIComponent(beforeCheckout)}`,
    );
    const edits = feed.changes.filter((c) => c.path === checkout);
    expect(edits.map((c) => c.hostId).sort()).toEqual(['stg-1', 'stg-2']);
    expect(edits.every((c) => c.to === 'v2')).toBe(true);
    const times = feed.changes.map((c) => Date.parse(c.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('a second audit says what was remediated, newly justified and new since the first', async () => {
    await edit(['prod-1', 'prod-2'], { ttl: 60 }, configPath('cache', 'ttl'), 60);
    await post('/api/v1/exceptions', {
      path: configPath('region'),
      environments: ['staging', 'production'],
      reason: 'production runs in its own region',
      owner: 'platform',
    });
    const second = await post('/api/v1/audits', {});
    const answer = await aggregator.json<{ since: AuditSince }>(`/api/v1/audits/${second.id}?since=${firstAudit}`);
    const paths = (items: SinceItem[]) =>
      items.filter((item) => item.from === 'staging' && item.to === 'production').map((item) => item.path);
    expect(paths(answer.since.remediated)).toEqual([configPath('cache', 'ttl')]);
    expect(paths(answer.since.newlyJustified)).toEqual([configPath('region')]);
    expect(paths(answer.since.new)).toEqual([configPath('tls', 'minVersion')]);
    expect(paths(answer.since.stillOpen)).toEqual([]);
    expect(answer.since.counts.remediated).toBe(answer.since.remediated.length);

    // The same recorded audit as Markdown and CSV, for a ticket.
    const markdown = await aggregator.api(`/api/v1/audits/${second.id}?format=markdown`);
    expect(markdown.headers.get('content-type')).toContain('text/markdown');
    // Markdown escapes its own syntax (`[`, `_`, ...) with backslashes; read it as a renderer would.
    const text = (await markdown.text()).replace(/\\(.)/g, '$1');
    expect(text).toContain(configPath('tls', 'minVersion'));
    expect(text).toContain('production runs in its own region');
    const csv = await (await aggregator.api(`/api/v1/audits/${second.id}?format=csv`)).text();
    expect(csv.split('\n')[0]).toMatch(/path/);
    // RFC 4180: the path's own quotes are doubled inside a quoted field.
    expect(csv).toContain(`"${configPath('region').replace(/"/g, '""')}"`);
  });
});
