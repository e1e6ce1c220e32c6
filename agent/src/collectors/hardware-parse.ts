/** Pure parsers behind the hardware collector: /proc/cpuinfo, /proc/meminfo, CPU lists, DMI strings. */

export interface CpuInfo {
  vendor?: string;
  model?: string;
  /** Logical processors listed. */
  processors: number;
  /** Distinct (physical id, core id) pairs; undefined when the file does not say (most ARM kernels). */
  physicalCores?: number;
  /** Distinct physical ids; undefined when the file does not say. */
  sockets?: number;
  flags: string[];
  mhz?: number;
}

/** ARM `CPU implementer` codes, as lscpu names them. */
const ARM_IMPLEMENTERS: Record<string, string> = {
  '0x41': 'ARM',
  '0x42': 'Broadcom',
  '0x43': 'Cavium',
  '0x46': 'Fujitsu',
  '0x48': 'HiSilicon',
  '0x4e': 'NVIDIA',
  '0x50': 'APM',
  '0x51': 'Qualcomm',
  '0x53': 'Samsung',
  '0x56': 'Marvell',
  '0x61': 'Apple',
  '0x69': 'Intel',
  '0x6d': 'Microsoft',
  '0xc0': 'Ampere',
};

/** Parses /proc/cpuinfo (x86 `vendor_id`/`model name`/`flags`, ARM `CPU implementer`/`Features`). */
export function parseCpuInfo(text: string): CpuInfo {
  const blocks = text
    .split(/\n\s*\n/)
    .map(parseBlock)
    .filter((block) => block.size > 0);
  const processors = blocks.filter((block) => block.has('processor'));
  const first = processors[0] ?? blocks[0] ?? new Map<string, string>();
  const global = blocks.find((block) => !block.has('processor'));
  const pick = (...keys: string[]) => {
    for (const key of keys) {
      const value = first.get(key) ?? global?.get(key);
      if (value) return value;
    }
    return undefined;
  };
  const info: CpuInfo = { processors: processors.length, flags: [] };
  const implementer = pick('CPU implementer')?.toLowerCase();
  const vendor =
    pick('vendor_id', 'vendor') ?? (implementer ? (ARM_IMPLEMENTERS[implementer] ?? implementer) : undefined);
  if (vendor) info.vendor = vendor;
  const model = pick('model name', 'cpu model', 'Processor', 'cpu');
  if (model) info.model = model.replace(/\s+/g, ' ');
  const flags = pick('flags', 'Features');
  if (flags) info.flags = [...new Set(flags.split(/\s+/).filter(Boolean))].sort();
  const mhz = Number(pick('cpu MHz'));
  if (Number.isFinite(mhz) && mhz > 0) info.mhz = mhz;
  if (processors.length > 0 && processors.every((block) => block.has('physical id') && block.has('core id'))) {
    info.physicalCores = new Set(processors.map((b) => `${b.get('physical id')}/${b.get('core id')}`)).size;
    info.sockets = new Set(processors.map((b) => b.get('physical id'))).size;
  }
  return info;
}

function parseBlock(block: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    if (key && !fields.has(key)) fields.set(key, line.slice(colon + 1).trim());
  }
  return fields;
}

/** Parses /proc/meminfo into bytes (`MemTotal: 16318480 kB` -> 16710123520). */
export function parseMemInfo(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([^:]+):\s+(\d+)(?:\s+(kB))?\s*$/.exec(line);
    if (match) values.set(match[1] as string, Number(match[2]) * (match[3] ? 1024 : 1));
  }
  return values;
}

/** Counts the CPUs of a kernel CPU list: `0-3,8,10-11` -> 7. Undefined for malformed text. */
export function countCpuList(text: string): number | undefined {
  const list = text.trim();
  if (!list) return undefined;
  let count = 0;
  for (const part of list.split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!match) return undefined;
    const start = Number(match[1]);
    const end = match[2] === undefined ? start : Number(match[2]);
    if (end < start) return undefined;
    count += end - start + 1;
  }
  return count;
}

/**
 * The virtualization technology that DMI strings reveal, named as systemd-detect-virt names it.
 * Checked in order on sys_vendor, product_name, board_vendor and bios_vendor.
 */
export function vmFromDmi(values: readonly (string | undefined)[]): string | undefined {
  const rules: [RegExp, string][] = [
    [/^KVM|OpenStack|^Nutanix/i, 'kvm'],
    [/^Amazon EC2/i, 'amazon'],
    [/^QEMU/i, 'qemu'],
    [/VMware|VMW/i, 'vmware'],
    [/^innotek GmbH|VirtualBox|^Oracle Corporation/i, 'oracle'],
    [/^Xen/i, 'xen'],
    [/^Bochs/i, 'bochs'],
    [/^Parallels/i, 'parallels'],
    [/^BHYVE/i, 'bhyve'],
    [/^Google/i, 'google'],
    [/^Microsoft Corporation/i, 'microsoft'],
    [/^Apple Virtualization/i, 'apple'],
  ];
  for (const value of values) {
    if (!value) continue;
    for (const [pattern, name] of rules) if (pattern.test(value.trim())) return name;
  }
  return undefined;
}

export type StorageType = 'nvme' | 'virtual' | 'ssd' | 'hdd';

/** Classifies a block device from its name, sysfs path, rotational flag and model. */
export function storageType(device: {
  name: string;
  sysPath?: string;
  rotational?: boolean;
  model?: string;
}): StorageType | undefined {
  if (device.name.startsWith('nvme')) return 'nvme';
  if (
    /^(vd|xvd)/.test(device.name) ||
    device.sysPath?.includes('/virtio') ||
    device.sysPath?.includes('/devices/virtual/') ||
    (device.model && /QEMU|VBOX|Virtual[ _]?disk|PersistentDisk|VMware/i.test(device.model))
  ) {
    return 'virtual';
  }
  if (device.rotational === undefined) return undefined;
  return device.rotational ? 'hdd' : 'ssd';
}

/** Block devices that are not storage hardware: loop, RAM disks, zram, device-mapper, md, optical, floppy, nbd. */
export function isIgnoredBlockDevice(name: string): boolean {
  return /^(loop|ram|zram|dm-|md|sr|fd|nbd|mtdblock|rbd)/.test(name);
}
