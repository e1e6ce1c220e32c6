/**
 * Issue 10, failure 5: a category of more than 65,535 paths could not be encoded (msgpack map16),
 * and the size estimate threw before any splitting, so a host with a huge lockfile reported no
 * categories at all. Real agent and aggregator bins: a 70k-package package-lock.json arrives whole.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ApiHostDetail,
  cleanupProcesses,
  makeTempDir,
  startAgent,
  startAggregator,
  waitFor,
} from '../helpers/index.js';
import { minimalAgentConfig } from './fake-aggregator.js';

afterEach(() => cleanupProcesses());

const PACKAGES = 70_000;

describe('a category over 65,535 paths', () => {
  it('reaches the aggregator whole (no map16 overflow, no empty host)', async () => {
    const dir = await makeTempDir('envparity-security-biglock-');
    const project = join(dir, 'proj');
    await mkdir(project);
    const packages: Record<string, { version: string }> = { '': { version: '1.0.0' } };
    for (let i = 0; i < PACKAGES; i++) packages[`node_modules/pkg-${i}`] = { version: `1.0.${i}` };
    await writeFile(
      join(project, 'package-lock.json'),
      JSON.stringify({ name: 'big', version: '1.0.0', lockfileVersion: 3, requires: true, packages }),
    );
    const aggregator = await startAggregator();
    const agent = await startAgent({
      aggregatorUrl: aggregator.url,
      hostId: 'biglock-1',
      environment: 'test',
      config: minimalAgentConfig({ watch: { projects: [project] } }),
      env: { ENVPARITY_SECURITY_TEST: 'on' },
      logLevel: 'info',
      interval: 3600,
    });
    const host = await waitFor(
      async () => {
        const detail = await aggregator.json<ApiHostDetail>('/api/v1/hosts/biglock-1');
        const appPaths = Object.keys(detail.facts).filter((path) => path.startsWith('app.')).length;
        const configPaths = Object.keys(detail.facts).filter((path) => path.startsWith('config.')).length;
        return appPaths > PACKAGES && configPaths > 0 ? detail : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1_000, message: `more than ${PACKAGES} app paths at the aggregator` },
    );
    expect(host.facts['app.pkg-69999'] ?? Object.keys(host.facts).find((p) => p.includes('pkg-69999'))).toBeDefined();
    expect(agent.process.jsonLogs().some((line) => String(line.msg).includes('cannot encode'))).toBe(false);
  }, 120_000);
});
