/**
 * systeminformation as the fallback of the hardware, os and network collectors where their Linux
 * sources are missing: another OS (macOS, Windows, BSD), or a minimal container without /proc or
 * /sys pieces. It is imported with import() on first use only, so the normal Linux path never
 * loads it (its import alone costs ~40 ms, and many of its calls spawn programs; on Linux its
 * networkInterfaces() runs execSync per interface and osInfo() `hostname -f`, blocking the event
 * loop, which the agent accepts only here, as a fallback). Every helper resolves to what it could learn, never throws:
 * a fact it cannot give stays omitted, as with the direct sources.
 */
import type { DistroInfo } from './os-release.js';

// The fields read here, declared locally: no static import of the package anywhere in src
// (test/collect.test.ts checks), so it can only ever be loaded through import() below.
export interface SystemInformationCpu {
  manufacturer: string;
  brand: string;
  vendor: string;
  /** Logical CPUs. */
  cores: number;
  physicalCores: number;
  /** Sockets. */
  processors: number;
  /** Space-separated feature flags. */
  flags: string;
  /** GHz. */
  speed: number;
}

export interface SystemInformationMemory {
  total: number;
  free: number;
  available: number;
  swaptotal: number;
  swapfree: number;
}

export interface SystemInformationOs {
  distro: string;
  release: string;
  codename: string;
  kernel: string;
}

export interface SystemInformationInterface {
  iface: string;
  mtu: number | null;
  operstate: string;
}

/** The part of systeminformation the collectors use (tests pass a stand-in). */
export interface SystemInformation {
  cpu(): Promise<SystemInformationCpu>;
  mem(): Promise<SystemInformationMemory>;
  osInfo(): Promise<SystemInformationOs>;
  networkInterfaces(): Promise<SystemInformationInterface[] | SystemInformationInterface>;
}

export type SystemInformationLoader = () => Promise<SystemInformation>;

/** Imports systeminformation (a CommonJS package: its exports are the namespace's default). */
export const loadSystemInformation: SystemInformationLoader = async () => (await import('systeminformation')).default;

/** CPU facts as the hardware collector names them; each absent when systeminformation does not say. */
export interface CpuFallback {
  vendor?: string;
  model?: string;
  cores?: number;
  physicalCores?: number;
  sockets?: number;
  flags?: string[];
  mhz?: number;
}

/** CPU facts from systeminformation's cpu(); vendor in its spelling (`Intel`, `AMD`, `Apple`). */
export async function cpuFromSystemInformation(load: SystemInformationLoader): Promise<CpuFallback> {
  const cpu = await attempt(async () => (await load()).cpu());
  if (!cpu) return {};
  const info: CpuFallback = {};
  const vendor = (cpu.vendor || cpu.manufacturer).trim();
  if (vendor) info.vendor = vendor;
  const model = `${cpu.manufacturer} ${cpu.brand}`.replace(/\s+/g, ' ').trim();
  if (model) info.model = model;
  if (isCount(cpu.cores)) info.cores = cpu.cores;
  if (isCount(cpu.physicalCores)) info.physicalCores = cpu.physicalCores;
  if (isCount(cpu.processors)) info.sockets = cpu.processors;
  const flags = [...new Set(cpu.flags.split(/\s+/).filter(Boolean))].sort();
  if (flags.length > 0) info.flags = flags;
  // systeminformation gives GHz; the hardware facts are in MHz like /proc/cpuinfo.
  if (Number.isFinite(cpu.speed) && cpu.speed > 0) info.mhz = Math.round(cpu.speed * 1000);
  return info;
}

/** Memory and swap in bytes from systeminformation's mem(), keyed like /proc/meminfo (`MemTotal`...). */
export async function memoryFromSystemInformation(load: SystemInformationLoader): Promise<Map<string, number>> {
  const memory = new Map<string, number>();
  const mem = await attempt(async () => (await load()).mem());
  if (!mem) return memory;
  const fields: [string, number][] = [
    ['MemTotal', mem.total],
    ['MemFree', mem.free],
    ['MemAvailable', mem.available],
    ['SwapTotal', mem.swaptotal],
    ['SwapFree', mem.swapfree],
  ];
  for (const [key, value] of fields) if (Number.isSafeInteger(value) && value >= 0) memory.set(key, value);
  // A total of 0 means "unknown" (systeminformation's initial value), not a machine without memory.
  if (memory.get('MemTotal') === 0) memory.delete('MemTotal');
  // On Linux systeminformation reads swap from /proc/meminfo too: when that is what we could not
  // read, its 0 is its initial value, not a host without swap.
  if (process.platform === 'linux' && mem.swaptotal === 0) {
    memory.delete('SwapTotal');
    memory.delete('SwapFree');
  }
  return memory;
}

/**
 * The distribution from systeminformation's osInfo(): its name (`Debian GNU/Linux`, `macOS`,
 * `Microsoft Windows 11 Pro`), release (`12`, `14.4.1`) and codename, and the kernel release.
 * It has no os-release `ID`, so `os.distro.id` stays omitted.
 */
export async function distroFromSystemInformation(
  load: SystemInformationLoader,
): Promise<{ distro: DistroInfo; kernel?: string }> {
  const os = await attempt(async () => (await load()).osInfo());
  if (!os) return { distro: {} };
  const distro: DistroInfo = {};
  // 'unknown' is systeminformation's placeholder when it found nothing: the fact stays omitted.
  if (os.distro?.trim() && os.distro !== 'unknown') distro.name = os.distro.trim();
  if (os.release?.trim() && os.release !== 'unknown') distro.version = os.release.trim();
  if (os.codename?.trim()) distro.codename = os.codename.trim();
  const kernel = os.kernel?.trim();
  return kernel ? { distro, kernel } : { distro };
}

/** MTU and operational state per interface name from systeminformation's networkInterfaces(). */
export async function interfacesFromSystemInformation(
  load: SystemInformationLoader,
): Promise<Map<string, { mtu?: number; state?: string }>> {
  const byName = new Map<string, { mtu?: number; state?: string }>();
  const found = await attempt(async () => (await load()).networkInterfaces());
  for (const entry of Array.isArray(found) ? found : found ? [found] : []) {
    if (!entry.iface) continue;
    const info: { mtu?: number; state?: string } = {};
    if (isCount(entry.mtu)) info.mtu = entry.mtu;
    if (entry.operstate) info.state = entry.operstate;
    byName.set(entry.iface, info);
  }
  return byName;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

async function attempt<T>(run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch {
    return undefined;
  }
}
