import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, networkInterfaces, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type { FactMap } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestContext } from '../../testing/collector-context.js';
import { createHardwareCollector, hardwareCollector } from './hardware.js';
import { parseCpuInfo } from './hardware-parse.js';
import { collectInterfaceFacts } from './network-interfaces.js';
import { createOsCollector, osCollector } from './os.js';
import { parseKeyValueText } from './os-files.js';
import {
  cpuFromSystemInformation,
  distroFromSystemInformation,
  interfacesFromSystemInformation,
  memoryFromSystemInformation,
  type SystemInformation,
  type SystemInformationCpu,
  type SystemInformationInterface,
  type SystemInformationMemory,
  type SystemInformationOs,
} from './system-information.js';

// Counts the times systeminformation itself is loaded (the factory runs on its first import only).
const imports = vi.hoisted(() => ({ count: 0 }));
vi.mock('systeminformation', async (importOriginal) => {
  imports.count++;
  return await importOriginal();
});

const context = createTestContext();
const readable = (path: string) => {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
};
const linuxSources =
  process.platform === 'linux' &&
  readable('/proc/cpuinfo') &&
  readable('/proc/meminfo') &&
  (readable('/etc/os-release') || readable('/usr/lib/os-release')) &&
  existsSync('/sys/class/net');

/** A stand-in that fails the test if anything asks for systeminformation. */
const forbidden = vi.fn(async (): Promise<SystemInformation> => {
  throw new Error('systeminformation was loaded on the normal path');
});

// First, before anything loads it: the normal Linux path never imports systeminformation.
describe.runIf(linuxSources)('collectors with their Linux sources present', () => {
  it('never load systeminformation', async () => {
    const facts = await Promise.all([
      hardwareCollector.collect(context),
      osCollector.collect(context),
      collectInterfaceFacts(),
      createHardwareCollector({ systemInformation: forbidden }).collect(context),
      createOsCollector({ systemInformation: forbidden }).collect(context),
      collectInterfaceFacts({ systemInformation: forbidden }),
    ]);
    for (const map of facts) expect(Object.keys(map).length).toBeGreaterThan(0);
    expect(forbidden).not.toHaveBeenCalled();
    expect(imports.count).toBe(0);
  });
});

describe.runIf(process.platform === 'linux')('collectors with their Linux sources hidden (an empty root)', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'envparity-no-proc-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('hardware: without systeminformation the CPU and memory facts of /proc are missing', async () => {
    const unavailable = async (): Promise<SystemInformation> => {
      throw new Error('not installed');
    };
    const facts = await createHardwareCollector({ root, systemInformation: unavailable }).collect(context);
    expect(facts['hardware.memory.total']).toBeUndefined();
    expect(facts['hardware.cpu.vendor']).toBeUndefined();
    expect(facts['hardware.cpu.physicalCores']).toBeUndefined();
  });

  it('hardware: systeminformation gives the CPU and memory facts, matching this machine', async () => {
    const facts: FactMap = await createHardwareCollector({ root }).collect(context);
    expect(imports.count).toBe(1);
    expect(facts['hardware.memory.total']).toBe(totalmem());
    const cores = cpus().length;
    expect(facts['hardware.cpu.cores']).toBe(cores);
    expect(facts['hardware.cpu.model']).toBe(cpus()[0]?.model.trim());
    const physical = facts['hardware.cpu.physicalCores'] as number;
    expect(physical).toBeGreaterThanOrEqual(1);
    expect(physical).toBeLessThanOrEqual(cores);
    expect(facts['hardware.cpu.sockets']).toBeGreaterThanOrEqual(1);
    for (const key of ['memory.free', 'memory.available']) {
      expect(facts[`hardware.${key}`]).toBeGreaterThan(0);
      expect(facts[`hardware.${key}`]).toBeLessThanOrEqual(totalmem());
    }
    // On Linux a swap total of 0 from systeminformation is indistinguishable from "could not read
    // /proc/meminfo", so it is omitted; a real swap total is what /proc/meminfo says.
    const swapKb = readable('/proc/meminfo')
      ? Number(/^SwapTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0)
      : 0;
    if (swapKb > 0) expect(facts['hardware.swap.total']).toBe(swapKb * 1024);
    else expect(facts['hardware.swap.total']).toBeUndefined();
    if (readable('/proc/cpuinfo')) {
      const real = parseCpuInfo(readFileSync('/proc/cpuinfo', 'utf8'));
      // systeminformation names the vendor (`AMD`), cpuinfo gives the CPUID string (`AuthenticAMD`).
      if (real.vendor) expect(real.vendor.toLowerCase()).toContain(String(facts['hardware.cpu.vendor']).toLowerCase());
      if (real.flags.length > 0) expect(facts['hardware.cpu.flags']).toEqual(real.flags);
    }
  });

  it('os: systeminformation names the distribution; the kernel still comes from node:os', async () => {
    const facts = await createOsCollector({ root }).collect(context);
    expect(facts['os.platform']).toBe('linux');
    expect(facts['os.kernel.release']).toBeTruthy();
    const text = ['/etc/os-release', '/usr/lib/os-release'].find(readable);
    if (text) {
      const release = parseKeyValueText(readFileSync(text, 'utf8'));
      const lsb = readable('/etc/lsb-release') ? parseKeyValueText(readFileSync('/etc/lsb-release', 'utf8')) : {};
      expect([release.NAME, lsb.DISTRIB_ID].filter(Boolean)).toContain(facts['os.distro.name']);
      if (release.VERSION_ID) expect(String(facts['os.distro.version'])).toMatch(new RegExp(`^${release.VERSION_ID}`));
    }
    // os-release alone gives the ID: without it, it stays omitted rather than guessed.
    expect(facts['os.distro.id']).toBeUndefined();
  });

  it.runIf(existsSync('/sys/class/net'))(
    'network: systeminformation gives MTU and state of the interfaces with an address',
    async () => {
      const facts = await collectInterfaceFacts({ sysClassNet: join(root, 'sys/class/net') });
      // systeminformation lists the interfaces node:os knows (those with an address), like `ip -br addr`.
      const names = Object.keys(networkInterfaces()).filter((name) => readdirSync('/sys/class/net').includes(name));
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) {
        const mtu = Number(readFileSync(join('/sys/class/net', name, 'mtu'), 'utf8').trim());
        const state = readFileSync(join('/sys/class/net', name, 'operstate'), 'utf8').trim();
        expect(facts[`network.interface.${name}.mtu`], name).toBe(mtu);
        expect(facts[`network.interface.${name}.state`], name).toBe(state);
        expect(Array.isArray(facts[`network.interface.${name}.addresses`])).toBe(true);
      }
    },
  );
});

describe('systeminformation mapping', () => {
  const stand = (data: Partial<Record<keyof SystemInformation, unknown>>): (() => Promise<SystemInformation>) => {
    const call = (key: keyof SystemInformation) => async () => {
      const value = data[key];
      if (value instanceof Error) throw value;
      return value;
    };
    return async () =>
      ({
        cpu: call('cpu'),
        mem: call('mem'),
        osInfo: call('osInfo'),
        networkInterfaces: call('networkInterfaces'),
      }) as SystemInformation;
  };

  it('CPU: vendor (else manufacturer), model, counts, sorted unique flags, GHz as MHz', async () => {
    const cpu = {
      vendor: '',
      manufacturer: 'Apple',
      brand: 'M2  Pro',
      cores: 12,
      physicalCores: 12,
      processors: 1,
      flags: 'neon fp neon',
      speed: 3.5,
    } satisfies SystemInformationCpu;
    expect(await cpuFromSystemInformation(stand({ cpu }))).toEqual({
      vendor: 'Apple',
      model: 'Apple M2 Pro',
      cores: 12,
      physicalCores: 12,
      sockets: 1,
      flags: ['fp', 'neon'],
      mhz: 3500,
    });
  });

  it('memory keyed like /proc/meminfo; a total of 0 is unknown, and so is a swap of 0 on Linux', async () => {
    const mem: SystemInformationMemory = { total: 1024, free: 100, available: 200, swaptotal: 512, swapfree: 256 };
    expect([...(await memoryFromSystemInformation(stand({ mem })))]).toEqual([
      ['MemTotal', 1024],
      ['MemFree', 100],
      ['MemAvailable', 200],
      ['SwapTotal', 512],
      ['SwapFree', 256],
    ]);
    const unknown: SystemInformationMemory = { ...mem, total: 0 };
    expect((await memoryFromSystemInformation(stand({ mem: unknown }))).has('MemTotal')).toBe(false);
    const noSwap = await memoryFromSystemInformation(stand({ mem: { ...mem, swaptotal: 0, swapfree: 0 } }));
    expect(noSwap.has('SwapTotal')).toBe(process.platform !== 'linux');
    expect(noSwap.has('SwapFree')).toBe(process.platform !== 'linux');
  });

  it('distribution and kernel; interfaces from a list or a single entry', async () => {
    const osInfo = {
      distro: 'macOS',
      release: '14.4.1',
      codename: 'Sonoma',
      kernel: '23.4.0',
    } satisfies SystemInformationOs;
    expect(await distroFromSystemInformation(stand({ osInfo }))).toEqual({
      distro: { name: 'macOS', version: '14.4.1', codename: 'Sonoma' },
      kernel: '23.4.0',
    });
    // What it answers when it found nothing is no fact at all.
    const nothing = { distro: 'unknown', release: 'unknown', codename: '', kernel: '6.1.0' };
    expect(await distroFromSystemInformation(stand({ osInfo: nothing }))).toEqual({ distro: {}, kernel: '6.1.0' });
    const en0: SystemInformationInterface = { iface: 'en0', mtu: 1500, operstate: 'up' };
    const lo0: SystemInformationInterface = { iface: 'lo0', mtu: 16384, operstate: '' };
    expect(await interfacesFromSystemInformation(stand({ networkInterfaces: [en0, lo0] }))).toEqual(
      new Map([
        ['en0', { mtu: 1500, state: 'up' }],
        ['lo0', { mtu: 16384 }],
      ]),
    );
    expect(await interfacesFromSystemInformation(stand({ networkInterfaces: en0 }))).toEqual(
      new Map([['en0', { mtu: 1500, state: 'up' }]]),
    );
  });

  it('a failing systeminformation call or load gives nothing, never an error', async () => {
    const failing = stand({
      cpu: new Error('x'),
      mem: new Error('x'),
      osInfo: new Error('x'),
      networkInterfaces: new Error('x'),
    });
    expect(await cpuFromSystemInformation(failing)).toEqual({});
    expect((await memoryFromSystemInformation(failing)).size).toBe(0);
    expect(await distroFromSystemInformation(failing)).toEqual({ distro: {} });
    expect((await interfacesFromSystemInformation(failing)).size).toBe(0);
    const unloadable = async (): Promise<SystemInformation> => {
      throw new Error('Cannot find package');
    };
    expect(await cpuFromSystemInformation(unloadable)).toEqual({});
  });
});
