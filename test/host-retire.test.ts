/**
 * A retired host stays out (issue 9 req 3): `DELETE /api/v1/hosts/:id` closes the live agent with
 * 4013, and the real agent process stops for good with a one-line reason (exit 2) instead of
 * reconnecting forever; restarted on the same state dir, it is refused again and stops again.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupProcesses, makeTempDir, startAgent, startAggregator } from './helpers/index.js';

afterAll(() => cleanupProcesses());

const EXIT_WITHIN_MS = 15_000;

async function exitWithin(exited: Promise<{ code: number | null }>, ms: number): Promise<number | null | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  const outcome = await Promise.race([exited.then((info) => info.code), timeout]);
  clearTimeout(timer);
  return outcome;
}

describe('a retired host', () => {
  it('makes its agent stop with the reason instead of reconnecting, also after a restart', async () => {
    const aggregator = await startAggregator();
    const agent = await startAgent({ aggregatorUrl: aggregator.url, hostId: 'old-web-1', environment: 'staging' });
    const retired = await aggregator.api('/api/v1/hosts/old-web-1', { method: 'DELETE' });
    expect(retired.status, await retired.clone().text()).toBe(200);

    expect(await exitWithin(agent.process.exited, EXIT_WITHIN_MS)).toBe(2);
    const output = agent.logs.join('\n');
    expect(output).toContain('host retired by the aggregator (4013)');
    expect(output).toMatch(/envparity-agent: the aggregator retired host old-web-1/);
    expect(output).not.toContain('"msg":"reconnecting"');
    expect(output).not.toMatch(/\n\s+at /); // a message, not a stack trace

    // The same state dir (old token) and the enroll secret: refused again, stops again.
    const again = await agent.restart({ waitConnected: false });
    expect(await exitWithin(again.process.exited, EXIT_WITHIN_MS)).toBe(2);
    expect(again.logs.join('\n')).toContain('host retired by the aggregator (4013)');
    const hosts = await aggregator.json<{ hosts: { id: string }[] }>('/api/v1/hosts');
    expect(hosts.hosts.map((h) => h.id)).not.toContain('old-web-1');
  });
});

describe('a host retired for lack of contact', () => {
  it('comes back when its agent reconnects (a machine switched off is not a machine removed)', async () => {
    const dir = await makeTempDir('envparity-e2e-presence-retire-');
    const configFile = join(dir, 'aggregator.yaml');
    await writeFile(configFile, 'presence: { graceSeconds: 1, retireAfter: 2s }\n');
    const aggregator = await startAggregator({ args: ['--config', configFile] });
    const agent = await startAgent({ aggregatorUrl: aggregator.url, hostId: 'laptop-1', environment: 'dev' });
    const listed = async () =>
      (await aggregator.json<{ hosts: { id: string; online: boolean }[] }>('/api/v1/hosts')).hosts;
    expect((await listed()).map((h) => h.id)).toEqual(['laptop-1']);
    await agent.stop();

    // Past retireAfter without contact: out of the lists (the engine's presence pass retires it).
    const deadline = Date.now() + 20_000;
    while ((await listed()).length > 0 && Date.now() < deadline) await sleep(250);
    expect(await listed()).toEqual([]);
    expect((await aggregator.json<{ retiredBy: string | null }>('/api/v1/hosts/laptop-1')).retiredBy).toBe(
      'presence.retireAfter',
    );

    // The same agent, same state dir and token: welcomed back, listed and online again.
    const back = await agent.restart();
    expect(back.logs.join('\n')).not.toContain('4013');
    expect(await listed()).toEqual([expect.objectContaining({ id: 'laptop-1', online: true })]);
    await back.stop();
  });
});
