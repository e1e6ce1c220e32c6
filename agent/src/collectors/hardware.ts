import { cpus, loadavg } from 'node:os';
import { posix } from 'node:path';
import { type FactMap, factPath } from '@envparity/shared';
import { detectContainer } from './container-detect.js';
import {
  countCpuList,
  isIgnoredBlockDevice,
  parseCpuInfo,
  parseMemInfo,
  storageType,
  vmFromDmi,
} from './hardware-parse.js';
import { createHostFs, type HostFs, readIntegerIn, readTrimmedIn } from './host-fs.js';
import { requireFacts } from './os-files.js';
import { findSystemTool } from './runtime-path.js';
import {
  type CpuFallback,
  cpuFromSystemInformation,
  loadSystemInformation,
  memoryFromSystemInformation,
  type SystemInformationLoader,
} from './system-information.js';
import { type Collector, type CollectorContext, hostFsOf } from './types.js';

const { join } = posix;
const DMI = '/sys/class/dmi/id';
const SYS_CPU = '/sys/devices/system/cpu';
const SYS_BLOCK = '/sys/block';
const DETECT_VIRT_TIMEOUT_MS = 2_000;
const NO_CPU_FALLBACK: CpuFallback = {};

export interface HardwareCollectorOptions {
  /**
   * A directory holding `proc/` and `sys/` in place of this machine's (tests hide or replace the
   * sources with it; not host mode). Default: the context's host files.
   */
  root?: string;
  /** Loads systeminformation, the fallback where /proc/cpuinfo or /proc/meminfo is unreadable. */
  systemInformation?: SystemInformationLoader;
}

/**
 * Hardware facts: CPU (vendor, model, logical and physical cores, sockets, flags, MHz), memory and
 * swap, storage devices from /sys/block, virtualization, and the volatile load averages.
 * Everything comes from /proc and /sys except virtualization, which asks systemd-detect-virt
 * (asynchronously, once per agent process) when it is installed. Where /proc/cpuinfo or
 * /proc/meminfo cannot be read (another OS, a minimal container), systeminformation fills in the
 * CPU and memory facts those files would have given (system-information.ts).
 */
export function createHardwareCollector({
  root,
  systemInformation = loadSystemInformation,
}: HardwareCollectorOptions = {}): Collector {
  const fixed = root === undefined ? undefined : createHostFs(root, { hostMode: false });
  return {
    name: 'hardware',
    collect: (context) => collectHardware(context, fixed ?? hostFsOf(context), systemInformation),
  };
}

export const hardwareCollector: Collector = createHardwareCollector();

/**
 * In host mode every fact comes from the host's /proc and /sys under the root: no
 * systemd-detect-virt (it would judge the agent's container), no node:os or systeminformation
 * fallback (they describe the container); what the files do not say is an error, not a guess.
 */
async function collectHardware(
  context: CollectorContext,
  root: HostFs,
  systemInformation: SystemInformationLoader,
): Promise<FactMap> {
  const facts: FactMap = {};
  const set = (value: string | number | boolean | string[] | undefined, ...segments: string[]) => {
    if (value !== undefined && value !== '') facts[factPath('hardware', ...segments)] = value;
  };
  const [cpuinfoText, meminfoText, online, dmi, storage, virtualization] = await Promise.all([
    root.readText('/proc/cpuinfo'),
    root.readText('/proc/meminfo'),
    readTrimmedIn(root, join(SYS_CPU, 'online')),
    readDmi(root),
    readStorage(root),
    detectVirtualization(context, root),
  ]);
  const hostMode = root.hostMode;
  if (hostMode) {
    for (const [text, file] of [
      [cpuinfoText, '/proc/cpuinfo'],
      [meminfoText, '/proc/meminfo'],
    ] as const) {
      if (text === undefined) context.reportError?.(`cannot read ${file} under the host root ${root.root}`);
    }
  }
  // Only where a Linux source is missing: the normal path never loads systeminformation.
  const [fallback, fallbackMemory] = await Promise.all([
    cpuinfoText === undefined && !hostMode ? cpuFromSystemInformation(systemInformation) : NO_CPU_FALLBACK,
    meminfoText === undefined && !hostMode ? memoryFromSystemInformation(systemInformation) : undefined,
  ]);

  const cpu = cpuinfoText ? parseCpuInfo(cpuinfoText) : undefined;
  // os.cpus() reads /proc synchronously inside libuv: only a fallback for what cpuinfo lacks.
  let nodeCpus: ReturnType<typeof cpus> | undefined;
  const fallbackCpus = () => {
    nodeCpus ??= hostMode ? [] : safeCpus();
    return nodeCpus;
  };
  set(cpu?.vendor ?? fallback.vendor, 'cpu', 'vendor');
  set(cpu?.model ?? (fallbackCpus()[0]?.model.trim() || fallback.model), 'cpu', 'model');
  const logical =
    (online ? countCpuList(online) : undefined) ??
    (cpu?.processors || fallbackCpus().length || fallback.cores || undefined);
  set(logical, 'cpu', 'cores');
  let physicalCores = cpu?.physicalCores;
  let sockets = cpu?.sockets;
  if (physicalCores === undefined) ({ physicalCores, sockets } = await readTopology(root));
  set(physicalCores ?? fallback.physicalCores, 'cpu', 'physicalCores');
  set(sockets ?? fallback.sockets, 'cpu', 'sockets');
  const flags = cpu && cpu.flags.length > 0 ? cpu.flags : fallback.flags;
  if (flags && flags.length > 0) set(flags, 'cpu', 'flags');
  set(cpu?.mhz ?? (fallbackCpus()[0]?.speed || fallback.mhz || undefined), 'cpu', 'mhz');

  const memory = meminfoText ? parseMemInfo(meminfoText) : (fallbackMemory ?? new Map<string, number>());
  set(memory.get('MemTotal'), 'memory', 'total');
  set(memory.get('MemFree'), 'memory', 'free');
  set(memory.get('MemAvailable'), 'memory', 'available');
  set(memory.get('SwapTotal'), 'swap', 'total');
  set(memory.get('SwapFree'), 'swap', 'free');

  for (const device of storage) {
    set(device.size, 'storage', device.name, 'size');
    set(device.rotational, 'storage', device.name, 'rotational');
    set(device.type, 'storage', device.name, 'type');
    set(device.model, 'storage', device.name, 'model');
  }

  set(dmi.vendor, 'system', 'vendor');
  set(dmi.product, 'system', 'product');
  set(virtualization, 'virtualization');

  const [one, five, fifteen] = loadavg();
  if (process.platform !== 'win32' && one !== undefined && five !== undefined && fifteen !== undefined) {
    set(round2(one), 'load', '1');
    set(round2(five), 'load', '5');
    set(round2(fifteen), 'load', '15');
  }
  return requireFacts('hardware', facts);
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function safeCpus(): ReturnType<typeof cpus> {
  try {
    return cpus();
  } catch {
    return [];
  }
}

/** Physical cores and sockets from sysfs topology, for kernels whose cpuinfo does not say (ARM). */
async function readTopology(root: HostFs): Promise<{ physicalCores?: number; sockets?: number }> {
  const names = (await root.listDir(SYS_CPU)).filter((name) => /^cpu\d+$/.test(name));
  const ids = await Promise.all(
    names.map(async (name) => {
      const [core, pkg] = await Promise.all([
        readIntegerIn(root, join(SYS_CPU, name, 'topology', 'core_id')),
        readIntegerIn(root, join(SYS_CPU, name, 'topology', 'physical_package_id')),
      ]);
      return core === undefined || pkg === undefined ? undefined : { core, pkg };
    }),
  );
  const known = ids.filter((id) => id !== undefined);
  if (known.length === 0) return {};
  return {
    physicalCores: new Set(known.map((id) => `${id.pkg}/${id.core}`)).size,
    sockets: new Set(known.map((id) => id.pkg)).size,
  };
}

interface DmiInfo {
  vendor?: string;
  product?: string;
  boardVendor?: string;
  biosVendor?: string;
}

async function readDmi(root: HostFs): Promise<DmiInfo> {
  const [vendor, product, boardVendor, biosVendor] = await Promise.all(
    ['sys_vendor', 'product_name', 'board_vendor', 'bios_vendor'].map((file) => readTrimmedIn(root, join(DMI, file))),
  );
  const info: DmiInfo = {};
  if (vendor) info.vendor = vendor;
  if (product) info.product = product;
  if (boardVendor) info.boardVendor = boardVendor;
  if (biosVendor) info.biosVendor = biosVendor;
  return info;
}

interface StorageDevice {
  name: string;
  size: number;
  rotational?: boolean;
  type?: string;
  model?: string;
}

/** Disks from /sys/block: no loop/RAM/zram/device-mapper/optical devices, no removable or empty ones. */
async function readStorage(root: HostFs): Promise<StorageDevice[]> {
  const names = (await root.listDir(SYS_BLOCK)).filter((name) => !isIgnoredBlockDevice(name)).sort();
  const devices = await Promise.all(
    names.map(async (name): Promise<StorageDevice | undefined> => {
      const dir = join(SYS_BLOCK, name);
      const [sectors, removable, rotational, model, sysPath] = await Promise.all([
        readIntegerIn(root, join(dir, 'size')),
        readIntegerIn(root, join(dir, 'removable')),
        readIntegerIn(root, join(dir, 'queue', 'rotational')),
        readTrimmedIn(root, join(dir, 'device', 'model')),
        root.readLink(dir),
      ]);
      // /sys/block/<dev>/size is always in 512-byte sectors, whatever the logical block size.
      if (!sectors || removable === 1) return undefined;
      const device: StorageDevice = { name, size: sectors * 512 };
      if (rotational !== undefined) device.rotational = rotational === 1;
      const type = storageType({
        name,
        ...(sysPath ? { sysPath } : {}),
        ...(device.rotational !== undefined ? { rotational: device.rotational } : {}),
        ...(model ? { model } : {}),
      });
      if (type) device.type = type;
      if (model) device.model = model;
      return device;
    }),
  );
  return devices.filter((device) => device !== undefined);
}

/** Virtualization does not change while the agent runs: asked once per process (and root), then reused. */
const cachedVirtualization = new Map<string, string>();

/**
 * systemd-detect-virt's answer (the container technology if any, else the hypervisor, else `none`),
 * or the same guessed from files when it is not installed. In host mode always from the host's
 * files: the tool would describe the agent's container.
 */
async function detectVirtualization(context: CollectorContext, root: HostFs): Promise<string> {
  const cached = cachedVirtualization.get(root.root);
  if (cached) return cached;
  const tool = root.hostMode ? undefined : await findSystemTool('systemd-detect-virt');
  let answer: string | undefined;
  if (tool) {
    try {
      const { stdout, timedOut } = await context.exec(tool, [], { timeoutMs: DETECT_VIRT_TIMEOUT_MS });
      const line = stdout.trim();
      if (!timedOut && /^[a-z0-9-]+$/.test(line)) answer = line;
    } catch {
      // fall back to the files
    }
  }
  answer ??= await guessVirtualization(root);
  cachedVirtualization.set(root.root, answer);
  return answer;
}

/** Without systemd-detect-virt: container markers, then DMI, Xen and device-tree hints, then the CPU flag. */
async function guessVirtualization(root: HostFs): Promise<string> {
  const [container, dmi, xen, deviceTree, cpuinfo] = await Promise.all([
    detectContainer(root.hostMode ? root : undefined),
    readDmi(root),
    readTrimmedIn(root, '/sys/hypervisor/type'),
    root.readText('/proc/device-tree/hypervisor/compatible'),
    root.readText('/proc/cpuinfo'),
  ]);
  let vm = vmFromDmi([dmi.vendor, dmi.product, dmi.boardVendor, dmi.biosVendor]);
  if (!vm && xen === 'xen') vm = 'xen';
  if (!vm && deviceTree?.includes('linux,kvm')) vm = 'kvm';
  if (!vm && deviceTree?.includes('xen')) vm = 'xen';
  if (!vm && cpuinfo && /^flags\s*:.*\bhypervisor\b/m.test(cpuinfo)) vm = 'vm-other';
  if (container.inside) return container.runtime ?? 'container-other';
  return vm ?? 'none';
}
