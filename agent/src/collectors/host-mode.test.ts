/**
 * Host mode (`hostRoot`): every collector reads the host's files under the root, symlinks resolved
 * inside it, and says in errors what it cannot know from files. The root is built from real files
 * (agent/testing/host-root-fixture.ts) edited to differ from this machine, so each fact equal to
 * the fixture's value came from the root.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FactMap, factPath, validateAgentConfig } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext } from '../../testing/collector-context.js';
import { buildHostRoot, HOST_ROOT_FIXTURE as F, machineMemTotalKb } from '../../testing/host-root-fixture.js';
import { appCollector } from './app.js';
import { configCollector } from './config.js';
import { containerCollector } from './container.js';
import { createHardwareCollector } from './hardware.js';
import { hostCollector } from './host.js';
import { createHostFs, type HostFs, resolveInRoot } from './host-fs.js';
import { libraryCollector } from './library.js';
import { networkCollector } from './network.js';
import { createOsCollector } from './os.js';
import { probeCollector } from './probe.js';
import { runtimeCollector } from './runtime.js';
import type { SystemInformation } from './system-information.js';
import type { Collector, CollectorContext } from './types.js';

let root: string;
let marker: string;
let host: HostFs;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'envparity-host-mode-'));
  root = join(dir, 'host');
  marker = join(dir, 'a-host-binary-was-run');
  await mkdir(root);
  await buildHostRoot(root, marker);
  host = createHostFs(root);
});
afterAll(async () => {
  await rm(join(root, '..'), { recursive: true, force: true });
});

function hostContext(config: Record<string, unknown> = {}): { context: CollectorContext; errors: string[] } {
  const errors: string[] = [];
  const context: CollectorContext = {
    ...createTestContext(),
    config: validateAgentConfig(config),
    host,
    reportError: (message) => errors.push(message),
  };
  return { context, errors };
}

async function collect(collector: Collector, config: Record<string, unknown> = {}) {
  const { context, errors } = hostContext(config);
  const facts: FactMap = await collector.collect(context);
  return { facts, errors };
}

const forbiddenSystemInformation = async (): Promise<SystemInformation> => {
  throw new Error('systeminformation must not be loaded in host mode');
};

describe('resolveInRoot: symlinks stay inside the root', () => {
  it('an absolute symlink target restarts at the root, not at this machine', async () => {
    expect(await resolveInRoot(root, '/etc/os-release')).toBe('/usr/lib/os-release');
    expect(await host.local('/etc/os-release')).toBe(join(root, 'usr/lib/os-release'));
    expect(await host.readText('/etc/os-release')).toContain(F.prettyName);
  });

  it('`..` stops at the root; a loop is ELOOP; a missing component is ENOENT', async () => {
    await symlink('../../../../../../../etc/hostname', join(root, 'etc/escape'));
    expect(await host.readText('/etc/escape')).toBe(`${F.hostname}\n`);
    expect(await resolveInRoot(root, '/../../etc/../etc/hostname')).toBe('/etc/hostname');
    await symlink('loop-b', join(root, 'etc/loop-a'));
    await symlink('loop-a', join(root, 'etc/loop-b'));
    await expect(resolveInRoot(root, '/etc/loop-a')).rejects.toMatchObject({ code: 'ELOOP' });
    await expect(resolveInRoot(root, '/nowhere/file')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await host.readText('/etc/loop-a')).toBeUndefined();
  });

  it('a symlink in a directory component is resolved inside the root too', async () => {
    await symlink('/usr/lib', join(root, 'etc/lib-link'));
    expect(await host.readText('/etc/lib-link/os-release')).toContain(F.prettyName);
    expect(await host.realpath('/etc/lib-link/os-release')).toBe('/usr/lib/os-release');
  });
});

describe('collectors in host mode read the root, not this machine', () => {
  it('os: the distribution from the root (through the absolute os-release link), the zone from its files', async () => {
    const { facts } = await collect(createOsCollector({ systemInformation: forbiddenSystemInformation }));
    expect(facts['os.distro.prettyName']).toBe(F.prettyName);
    expect(facts['os.distro.version']).toBe(F.versionId);
    expect(facts['os.timezone']).toBe(F.timezone);
  });

  it('os: without an os-release in the root, an error instead of systeminformation', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'envparity-empty-root-'));
    try {
      const errors: string[] = [];
      const context = {
        ...hostContext().context,
        host: createHostFs(empty),
        reportError: (m: string) => errors.push(m),
      };
      const facts = await createOsCollector({ systemInformation: forbiddenSystemInformation }).collect(context);
      expect(facts['os.distro.name']).toBeUndefined();
      expect(errors.join('\n')).toContain('no /etc/os-release');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('hardware: memory and CPU from the root /proc and /sys, never systeminformation', async () => {
    expect(await machineMemTotalKb()).not.toBe(F.memTotalKb);
    const { facts } = await collect(createHardwareCollector({ systemInformation: forbiddenSystemInformation }));
    expect(facts['hardware.memory.total']).toBe(F.memTotalKb * 1024);
    expect(facts['hardware.cpu.model']).toBe(F.cpuModel);
    expect(facts['hardware.cpu.cores']).toBe(F.cores);
  });

  it('library: dpkg and apk packages from the fixture databases; musl from the apk database', async () => {
    const { facts } = await collect(libraryCollector);
    expect(facts[factPath('library', 'dpkg', 'perl-base')]).toBe('5.30.0-9build1');
    expect(facts[factPath('library', 'dpkg', 'libc6:armhf')]).toMatch(/^2\.31-/);
    expect(facts[factPath('library', 'apk', 'musl')]).toBe('1.1.16-r9');
    expect(facts[factPath('library', 'apk', 'busybox')]).toBe('1.26.2-r5');
    expect(facts[factPath('library', 'musl', 'version')]).toBe(F.musl);
    // The agent's own node and its OpenSSL are not the host's.
    expect(facts[factPath('library', 'openssl', 'node')]).toBeUndefined();
    expect(facts[factPath('library', 'glibc', 'version')]).toBeUndefined();
  });

  it('host: host.root, the machine id and hostname of the root; addresses not guessed', async () => {
    const { facts, errors } = await collect(hostCollector);
    expect(facts['host.root']).toBe(root);
    expect(facts['host.machineId']).toBe(F.machineId);
    expect(facts['host.hostname']).toBe(hostname() === F.hostname ? hostname() : F.hostname);
    expect(facts['host.addresses']).toBeUndefined();
    expect(errors.join('\n')).toContain('network namespace');
  });

  it('host: addresses are reported when the agent shares the host network namespace', async () => {
    const own = await import('node:fs/promises').then((fs) => fs.readlink('/proc/self/ns/net').catch(() => undefined));
    if (!own) return;
    const shared = await mkdtemp(join(tmpdir(), 'envparity-shared-net-'));
    try {
      await mkdir(join(shared, 'proc/1/ns'), { recursive: true });
      await symlink(own, join(shared, 'proc/1/ns/net'));
      const context = { ...hostContext().context, host: createHostFs(shared) };
      const facts = await hostCollector.collect(context);
      expect(Array.isArray(facts['host.addresses'])).toBe(true);
    } finally {
      await rm(shared, { recursive: true, force: true });
    }
  });

  it('config: a watched file and sysctls from the root; net.*, env and ulimits not taken from the container', async () => {
    const { facts, errors } = await collect(configCollector, {
      watch: { files: [F.watchedFile], envVars: ['PATH'] },
    });
    expect(facts[factPath('config', 'file', F.watchedFile, 'db', 'host')]).toBe(F.watchedDbHost);
    expect(facts[factPath('config', 'sysctl', 'kernel.pid_max')]).toBe(F.pidMax);
    expect(facts[factPath('config', 'sysctl', 'net.core.somaxconn')]).toBeUndefined();
    expect(facts['config.env.PATH']).toBeUndefined();
    expect(Object.keys(facts).some((path) => path.startsWith('config.ulimit.'))).toBe(false);
    expect(errors.join('\n')).toMatch(/config\.env:.*config\.ulimit:|config\.ulimit:[\s\S]*config\.env:/s);
  });

  it('config: a watched file that is an absolute symlink is read inside the root (followSymlinks)', async () => {
    await mkdir(join(root, 'srv'), { recursive: true });
    await symlink('/etc/myapp/config.yaml', join(root, 'srv/app.yaml'));
    // This machine has no /etc/myapp/config.yaml: reading it outside the root would say #missing.
    expect(existsSync('/etc/myapp/config.yaml')).toBe(false);
    const { facts } = await collect(configCollector, { watch: { files: ['/srv/app.yaml'], followSymlinks: true } });
    expect(facts[factPath('config', 'file', '/srv/app.yaml', 'db', 'host')]).toBe(F.watchedDbHost);
    const unfollowed = await collect(configCollector, { watch: { files: ['/srv/app.yaml'] } });
    expect(unfollowed.facts[factPath('config', 'file', '/srv/app.yaml', '#error')]).toMatch(/symlink not followed/);
  });

  it('network: resolv.conf through its absolute link, /etc/hosts of the root', async () => {
    const { facts } = await collect(networkCollector);
    expect(facts['network.dns.nameservers']).toEqual([F.nameserver]);
    expect(facts['network.dns.search']).toEqual(['fixture.internal']);
    expect(facts[factPath('network', 'hosts', F.hostsName)]).toEqual([F.hostsAddress]);
  });

  it('runtime: versions from the root files and packages; no host binary is ever run', async () => {
    const { facts, errors } = await collect(runtimeCollector);
    expect(facts['runtime.python.version']).toBe(F.python);
    expect(facts['runtime.node.version']).toBe(F.node);
    expect(facts['runtime.java.version']).toBe(F.java);
    expect(facts['runtime.perl.version']).toBe(F.perl);
    expect(facts['runtime.bun.version']).toBeUndefined();
    expect(errors.join('\n')).toContain('runtime bun: /usr/bin/bun found');
    expect(existsSync(marker)).toBe(false);
  });

  it('container: the host is judged from its own files (no container markers), not the agent', async () => {
    const { facts } = await collect(containerCollector);
    expect(facts['container.inside']).toBe(false);
    expect(facts['container.cgroup.cpu.available']).toBe(F.cores);
  });

  it('app: a project folder is a host path under the root', async () => {
    await mkdir(join(root, 'srv/shop'), { recursive: true });
    await writeFile(join(root, 'srv/shop/requirements.txt'), 'flask==3.0.3\n');
    const { facts } = await collect(appCollector, { watch: { projects: ['/srv/shop'] } });
    expect(facts[factPath('app', '/srv/shop', 'pypi', 'flask')]).toBe('3.0.3');
  });

  it('probe: not run in host mode, said in errors', async () => {
    const { facts, errors } = await collect(probeCollector, {
      watch: { probes: [{ name: 'touch', command: `touch ${JSON.stringify(marker)}`, timeout: 5 }] },
    });
    expect(facts['probe.touch.error']).toMatch(/not run in host mode/);
    expect(errors[0]).toMatch(/^probe touch: not run in host mode/);
    expect(existsSync(marker)).toBe(false);
  });
});
