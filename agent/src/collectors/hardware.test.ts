import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { createTestContext } from '../../testing/collector-context.js';
import { hardwareCollector } from './hardware.js';
import { countCpuList, parseCpuInfo, parseMemInfo, storageType, vmFromDmi } from './hardware-parse.js';

const context = createTestContext();

function tool(file: string, args: string[]): string | undefined {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch (error) {
    // systemd-detect-virt exits 1 when it prints "none".
    const stdout = (error as { stdout?: string }).stdout;
    return typeof stdout === 'string' && stdout.trim() ? stdout.trim() : undefined;
  }
}

const X86_CPUINFO = `processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R)   CPU @ 2.20GHz
cpu MHz\t\t: 2200.000
physical id\t: 0
core id\t\t: 0
flags\t\t: sse2 fpu avx fpu

processor\t: 1
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R)   CPU @ 2.20GHz
cpu MHz\t\t: 2199.998
physical id\t: 0
core id\t\t: 0
flags\t\t: sse2 fpu avx

processor\t: 2
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R)   CPU @ 2.20GHz
physical id\t: 1
core id\t\t: 0
flags\t\t: sse2 fpu avx
`;

const ARM_CPUINFO = `processor\t: 0
BogoMIPS\t: 243.75
Features\t: fp asimd evtstrm aes
CPU implementer\t: 0x41
CPU architecture: 8

processor\t: 1
BogoMIPS\t: 243.75
Features\t: fp asimd evtstrm aes
CPU implementer\t: 0x41
CPU architecture: 8
`;

describe('hardware parsers', () => {
  it('parses x86 cpuinfo', () => {
    expect(parseCpuInfo(X86_CPUINFO)).toEqual({
      vendor: 'GenuineIntel',
      model: 'Intel(R) Xeon(R) CPU @ 2.20GHz',
      processors: 3,
      physicalCores: 2,
      sockets: 2,
      flags: ['avx', 'fpu', 'sse2'],
      mhz: 2200,
    });
  });

  it('parses ARM cpuinfo, which has no model, socket or core ids', () => {
    expect(parseCpuInfo(ARM_CPUINFO)).toEqual({
      vendor: 'ARM',
      processors: 2,
      flags: ['aes', 'asimd', 'evtstrm', 'fp'],
    });
  });

  it('parses meminfo into bytes', () => {
    const info = parseMemInfo('MemTotal:       24683620 kB\nHugePages_Total:       0\nSwapTotal: 0 kB\n');
    expect(info.get('MemTotal')).toBe(24_683_620 * 1024);
    expect(info.get('HugePages_Total')).toBe(0);
    expect(info.get('SwapTotal')).toBe(0);
  });

  it('counts CPU lists', () => {
    expect(countCpuList('0-3,8,10-11\n')).toBe(7);
    expect(countCpuList('0')).toBe(1);
    expect(countCpuList('')).toBeUndefined();
    expect(countCpuList('3-1')).toBeUndefined();
  });

  it('names hypervisors from DMI strings and classifies disks', () => {
    expect(vmFromDmi([undefined, 'Amazon EC2'])).toBe('amazon');
    expect(vmFromDmi(['QEMU', 'Standard PC (Q35 + ICH9, 2009)'])).toBe('qemu');
    expect(vmFromDmi(['Dell Inc.', 'PowerEdge R640'])).toBeUndefined();
    expect(storageType({ name: 'nvme0n1', rotational: false })).toBe('nvme');
    expect(storageType({ name: 'vda', rotational: true })).toBe('virtual');
    expect(storageType({ name: 'sda', rotational: true, model: 'QEMU HARDDISK' })).toBe('virtual');
    expect(storageType({ name: 'sda', rotational: true, model: 'ST4000DM004' })).toBe('hdd');
    expect(storageType({ name: 'sdb', rotational: false, model: 'Samsung SSD 870' })).toBe('ssd');
    expect(storageType({ name: 'sdc' })).toBeUndefined();
  });
});

describe('hardwareCollector on this host', async () => {
  const facts = await hardwareCollector.collect(context);
  const meminfo = existsSync('/proc/meminfo') ? readFileSync('/proc/meminfo', 'utf8') : '';
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(meminfo)?.[1]) * 1024;

  it.skipIf(tool('getconf', ['_NPROCESSORS_ONLN']) === undefined)('counts online logical CPUs', () => {
    expect(facts['hardware.cpu.cores']).toBe(Number(tool('getconf', ['_NPROCESSORS_ONLN'])));
  });

  it.skipIf(tool('nproc', []) === undefined)('matches nproc when no affinity or cpuset restricts the agent', () => {
    const nproc = Number(tool('nproc', []));
    expect(nproc).toBe(availableParallelism());
    if (availableParallelism() === facts['hardware.cpu.cores']) expect(facts['hardware.cpu.cores']).toBe(nproc);
    else expect(facts['hardware.cpu.cores'] as number).toBeGreaterThan(nproc);
  });

  it.skipIf(!meminfo)('reports memory and swap totals from /proc/meminfo', () => {
    expect(facts['hardware.memory.total']).toBe(kb('MemTotal'));
    expect(facts['hardware.swap.total']).toBe(kb('SwapTotal'));
    expect(typeof facts['hardware.memory.available']).toBe('number');
    expect(facts['hardware.memory.free'] as number).toBeLessThanOrEqual(kb('MemTotal'));
  });

  it.skipIf(tool('lscpu', []) === undefined)('agrees with lscpu on flags, vendor, sockets and physical cores', () => {
    const lscpu = tool('lscpu', []) ?? '';
    const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(lscpu)?.[1]?.trim();
    const flags = field('Flags');
    if (flags) expect(facts['hardware.cpu.flags']).toEqual([...new Set(flags.split(/\s+/))].sort());
    const vendor = field('Vendor ID');
    if (vendor) expect(facts['hardware.cpu.vendor']).toBe(vendor);
    const model = field('Model name');
    if (model && model !== '-') expect(facts['hardware.cpu.model']).toBe(model.replace(/\s+/g, ' '));
    const topology = (tool('lscpu', ['-p=core,socket']) ?? '').split('\n').filter((line) => !line.startsWith('#'));
    expect(facts['hardware.cpu.physicalCores']).toBe(new Set(topology).size);
    expect(facts['hardware.cpu.sockets']).toBe(new Set(topology.map((line) => line.split(',')[1])).size);
  });

  it.skipIf(tool('lsblk', ['--version']) === undefined)('reports disk sizes and rotation as lsblk does', () => {
    const rows = (tool('lsblk', ['-b', '-d', '-n', '-o', 'NAME,SIZE,ROTA,RM']) ?? '').split('\n');
    let checked = 0;
    for (const row of rows) {
      const [name, size, rota, removable] = row.trim().split(/\s+/);
      if (!name || /^(loop|ram|zram|dm-|md|sr|fd|nbd)/.test(name) || size === '0' || removable === '1') continue;
      expect(facts[`hardware.storage.${name}.size`]).toBe(Number(size));
      expect(facts[`hardware.storage.${name}.rotational`]).toBe(rota === '1');
      checked++;
    }
    const reported = Object.keys(facts).filter((path) => /^hardware\.storage\.[^.]+\.size$/.test(path));
    expect(reported).toHaveLength(checked);
  });

  it.skipIf(tool('systemd-detect-virt', []) === undefined)('reports what systemd-detect-virt says', () => {
    expect(facts['hardware.virtualization']).toBe(tool('systemd-detect-virt', []));
  });

  it('reports load averages as numbers', () => {
    for (const window of ['1', '5', '15']) expect(typeof facts[`hardware.load.${window}`]).toBe('number');
  });
});
