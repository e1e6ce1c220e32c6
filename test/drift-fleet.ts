/**
 * A small real fleet for the presence and webhook-grouping tests: one aggregator process (config:
 * promotion staging -> production, one webhook to a local receiver), one staging and three
 * production agents. Every agent watches the same config-file path, `app.yaml`, which each sees
 * through its own mount namespace (as on real servers, where the path is the same everywhere), so
 * a test changes a host's facts by editing that host's file: the agent's watch reports the change
 * within a second or two.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { factPath } from '@envparity/shared';
import {
  type AgentHandle,
  type AggregatorHandle,
  makeTempDir,
  startAgent,
  startAggregator,
  waitFor,
} from './helpers/index.js';

export interface Delivery {
  type: string;
  headers: IncomingHttpHeaders;
  body: { id: string; type: string; at: string; text: string; data: Record<string, unknown> };
}

/** A webhook receiver on 127.0.0.1 recording every delivery (answers 204). */
export async function startReceiver(): Promise<{ url: string; deliveries: Delivery[]; close(): Promise<void> }> {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Delivery['body'];
      deliveries.push({ type: body.type, headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    deliveries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface FleetHost {
  id: string;
  environment: 'staging' | 'production';
  /** The host's app.yaml settings. */
  settings: Record<string, string | number>;
}

export interface DriftRecord {
  id: string;
  kind: string;
  environment: string;
  otherEnvironment?: string;
  hostId?: string;
  path: string;
  status: 'open' | 'resolved';
  hosts?: string[];
  emergency?: boolean;
  resolution?: string;
}

export interface Fleet {
  aggregator: AggregatorHandle;
  agents: Map<string, AgentHandle>;
  /** The fact path of an app.yaml key. */
  setting(key: string): string;
  /** Rewrites a host's app.yaml (its agent sees the edit). */
  edit(hostId: string, settings: Record<string, string | number>): Promise<void>;
  drift(query?: string): Promise<DriftRecord[]>;
  hosts(): Promise<{ id: string; online: boolean; presence?: string; fingerprint: string | null }[]>;
}

function appYaml(settings: Record<string, string | number>): string {
  return `${Object.entries(settings)
    .map(([key, value]) => `${key}: ${value}`)
    .join('\n')}\n`;
}

export async function startFleet(hosts: readonly FleetHost[], webhookUrl: string): Promise<Fleet> {
  const configDir = await makeTempDir('envparity-e2e-fleet-config-');
  const configFile = join(configDir, 'aggregator.yaml');
  await writeFile(
    configFile,
    JSON.stringify({
      promotion: ['staging', 'production'],
      webhooks: [{ url: webhookUrl }],
      presence: { graceSeconds: 900 },
    }),
  );
  const aggregator = await startAggregator({ args: ['--config', configFile] });
  const mountPoint = join(await makeTempDir('envparity-e2e-fleet-mnt-'), 'etc');
  await mkdir(mountPoint);
  const sources = new Map<string, string>();
  const agents = new Map<string, AgentHandle>();
  await Promise.all(
    hosts.map(async (host) => {
      const source = await makeTempDir(`envparity-e2e-fleet-${host.id}-`);
      await writeFile(join(source, 'app.yaml'), appYaml(host.settings));
      sources.set(host.id, source);
      agents.set(
        host.id,
        await startAgent({
          aggregatorUrl: aggregator.url,
          hostId: host.id,
          environment: host.environment,
          interval: 3600,
          logLevel: 'info',
          config: { labels: { service: 'shop' }, watch: { files: [join(mountPoint, 'app.yaml')] } },
          mountNamespace: { binds: [{ source, target: mountPoint }] },
        }),
      );
    }),
  );
  const fleet: Fleet = {
    aggregator,
    agents,
    setting: (key) => factPath('config', 'file', join(mountPoint, 'app.yaml'), key),
    async edit(hostId, settings) {
      await writeFile(join(sources.get(hostId) as string, 'app.yaml'), appYaml(settings));
    },
    async drift(query = '') {
      return (await aggregator.json<{ events: DriftRecord[] }>(`/api/v1/drift${query}`)).events;
    },
    async hosts() {
      return (await aggregator.json<{ hosts: Awaited<ReturnType<Fleet['hosts']>> }>('/api/v1/hosts')).hosts;
    },
  };
  await waitFor(
    async () => {
      const listed = await fleet.hosts();
      return listed.length === hosts.length && listed.every((host) => host.online && host.fingerprint !== null);
    },
    { timeoutMs: 45_000, message: `${hosts.length} hosts online with facts` },
  );
  return fleet;
}
