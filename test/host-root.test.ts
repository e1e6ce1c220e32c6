/**
 * Host mode end to end (issue 14 req 4): the BUILT bin, `collect --json --host-root DIR`, with DIR
 * a host root built from real files edited to differ from this machine (agent/testing/
 * host-root-fixture.ts). The facts must come from DIR: os, packages of the fixture dpkg and apk
 * databases, memory, CPU, machine id, a watched file, `host.root`; an absolute symlink inside DIR
 * stays inside; no host program is run; a bad DIR exits 2 naming it; flag > config > env. And the
 * daemon, `run --host-root DIR`, reports the same host to a real aggregator.
 */
import { existsSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type FactDocument, factDocumentSchema, factPath } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHostRoot, HOST_ROOT_FIXTURE as F, machineMemTotalKb } from '../agent/testing/host-root-fixture.js';
import {
  type ApiHostDetail,
  cleanupProcesses,
  makeTempDir,
  runAgentCli,
  startAgent,
  startAggregator,
  waitFor,
} from './helpers/index.js';

afterAll(() => cleanupProcesses());

let dir: string;
let root: string;
let marker: string;
let config: string;

beforeAll(async () => {
  dir = await makeTempDir('envparity-e2e-host-root-');
  root = join(dir, 'host');
  marker = join(dir, 'a-host-binary-was-run');
  await mkdir(root);
  await buildHostRoot(root, marker);
  // A watched file that is an absolute symlink inside the root, to a file this machine lacks.
  await mkdir(join(root, 'srv'), { recursive: true });
  await symlink(F.watchedFile, join(root, 'srv/app.yaml'));
  config = join(dir, 'agent.yaml');
  await writeFile(
    config,
    [
      'environment: staging',
      'watch:',
      `  files: [${JSON.stringify(F.watchedFile)}, "/srv/app.yaml"]`,
      '  followSymlinks: true',
      '',
    ].join('\n'),
  );
});

function collect(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const base = { ...process.env };
  delete base.ENVPARITY_HOST_ROOT;
  return runAgentCli(['collect', '--json', '--state-dir', join(dir, 'state'), ...args], { ...base, ...env });
}

describe('envparity-agent collect --host-root', () => {
  it('reports the host under DIR, not this machine', async () => {
    const result = await collect(['--config', config, '--host-root', root]);
    expect(result.code, result.stderr).toBe(0);
    const document: FactDocument = factDocumentSchema.parse(JSON.parse(result.stdout));
    const facts = document.facts;
    expect(facts['host.root']).toBe(root);
    expect(facts['os.distro.prettyName']).toBe(F.prettyName);
    expect(facts['os.distro.version']).toBe(F.versionId);
    expect(facts[factPath('library', 'dpkg', 'perl-base')]).toBe('5.30.0-9build1');
    expect(facts[factPath('library', 'apk', 'musl')]).toBe('1.1.16-r9');
    expect(await machineMemTotalKb()).not.toBe(F.memTotalKb);
    expect(facts['hardware.memory.total']).toBe(F.memTotalKb * 1024);
    expect(facts['hardware.cpu.model']).toBe(F.cpuModel);
    expect(facts['hardware.cpu.cores']).toBe(F.cores);
    expect(facts['host.machineId']).toBe(F.machineId);
    expect(facts[factPath('config', 'file', F.watchedFile, 'db', 'host')]).toBe(F.watchedDbHost);
    // The absolute link /srv/app.yaml -> /etc/myapp/config.yaml was read inside DIR.
    expect(existsSync(F.watchedFile)).toBe(false);
    expect(facts[factPath('config', 'file', '/srv/app.yaml', 'db', 'host')]).toBe(F.watchedDbHost);
    expect(facts['network.dns.nameservers']).toEqual([F.nameserver]);
    expect(facts['runtime.node.version']).toBe(F.node);
    expect(facts['runtime.java.version']).toBe(F.java);
    // The default host id is the host's name and machine id, not this machine's.
    expect(document.hostId).toMatch(new RegExp(`^${F.hostname}-[0-9a-f]{8}$`));
    // What files cannot say is in errors, never this machine's value instead.
    const messages = document.errors.map((error) => `${error.collector}: ${error.message}`).join('\n');
    expect(messages).toContain('runtime: runtime bun: /usr/bin/bun found');
    expect(messages).toContain('config: config.ulimit:');
    expect(existsSync(marker)).toBe(false);
  });

  it('without host mode the same config reports this machine', async () => {
    const result = await collect(['--config', config]);
    expect(result.code, result.stderr).toBe(0);
    const facts = (JSON.parse(result.stdout) as FactDocument).facts;
    expect(facts['host.root']).toBeUndefined();
    expect(facts['os.distro.prettyName']).not.toBe(F.prettyName);
    expect(facts[factPath('config', 'file', F.watchedFile, '#missing')]).toBe(true);
  });

  it('ENVPARITY_HOST_ROOT turns host mode on; the flag overrides it; a bad DIR exits 2 naming it', async () => {
    const fromEnv = await collect([], { ENVPARITY_HOST_ROOT: root });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    expect((JSON.parse(fromEnv.stdout) as FactDocument).facts['host.root']).toBe(root);

    const missing = join(dir, 'no-such-root');
    const overridden = await collect(['--host-root', root], { ENVPARITY_HOST_ROOT: missing });
    expect(overridden.code, overridden.stderr).toBe(0);

    const bad = await collect(['--host-root', missing]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`--host-root ${missing}: no such directory`);
    const notDir = await collect(['--host-root', config]);
    expect(notDir.code).toBe(2);
    expect(notDir.stderr).toContain(`--host-root ${config}: not a directory`);
  });

  it('config hostRoot is used, and beats the environment', async () => {
    const withRoot = join(dir, 'with-root.yaml');
    await writeFile(withRoot, `hostRoot: ${JSON.stringify(root)}\n`);
    const result = await collect(['--config', withRoot], { ENVPARITY_HOST_ROOT: join(dir, 'no-such-root') });
    expect(result.code, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as FactDocument).facts['host.root']).toBe(root);
  });

  it('verify and baseline take --host-root too (a bad DIR exits 2 before anything else)', async () => {
    const missing = join(dir, 'no-such-root');
    for (const command of ['verify', 'baseline']) {
      const extra = command === 'verify' ? ['--expect', config] : [];
      const result = await runAgentCli([command, ...extra, '--host-root', missing], process.env);
      expect(result.code, `${command}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain(`--host-root ${missing}: no such directory`);
    }
  });
});

describe('envparity-agent run --host-root', () => {
  it("the daemon reports the host under DIR to the aggregator, and a change there as the host's", async () => {
    const aggregator = await startAggregator();
    const agent = await startAgent({
      aggregatorUrl: aggregator.url,
      hostId: 'node-in-host-mode',
      environment: 'staging',
      config: { watch: { files: [F.watchedFile] } },
      args: ['--host-root', root],
    });
    const host = () => aggregator.json<ApiHostDetail>('/api/v1/hosts/node-in-host-mode');
    const first = await waitFor(async () => {
      const detail = await host().catch(() => undefined);
      return detail?.facts['os.distro.prettyName'] !== undefined ? detail : undefined;
    });
    expect(first.facts['host.root']).toBe(root);
    expect(first.facts['os.distro.prettyName']).toBe(F.prettyName);
    expect(first.facts[factPath('library', 'dpkg', 'perl-base')]).toBe('5.30.0-9build1');
    expect(first.facts['hardware.memory.total']).toBe(F.memTotalKb * 1024);
    expect(first.facts['host.machineId']).toBe(F.machineId);
    expect(first.facts[factPath('config', 'file', F.watchedFile, 'db', 'host')]).toBe(F.watchedDbHost);

    // The watched file changes on the host (under DIR): the daemon reports it.
    await writeFile(join(root, F.watchedFile), 'db:\n  host: db-moved.internal\n');
    await waitFor(
      async () => (await host()).facts[factPath('config', 'file', F.watchedFile, 'db', 'host')] === 'db-moved.internal',
    );
    expect(existsSync(marker)).toBe(false);
    await agent.stop();
    await aggregator.stop();
  });
});
