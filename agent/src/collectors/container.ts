import { availableParallelism } from 'node:os';
import { posix } from 'node:path';
import { type FactMap, factPath } from '@envparity/shared';
import {
  type CpuLimit,
  cgroupDirectories,
  cgroupVersion,
  cpuLimitV1,
  parseCpuMax,
  parseMemoryLimit,
  parseMountInfo,
  parseProcCgroup,
  tightestCpuLimit,
  tightestMemoryLimit,
} from './container-cgroup.js';
import { detectContainer } from './container-detect.js';
import { countCpuList } from './hardware-parse.js';
import { type HostFs, readIntegerIn, readTrimmedIn } from './host-fs.js';
import { type Collector, hostFsOf } from './types.js';

const { join } = posix;

/**
 * Container facts: whether the agent runs in a container and under which runtime, the cgroup
 * version, and the CPU and memory limits of the agent's own cgroup (the tightest of it and its
 * ancestors, so a pod-level limit counts). Reads files only. In host mode they describe the host
 * (its PID 1's cgroup, its container markers), not the agent's container, and the CPUs available
 * are the host's online CPUs.
 */
export const containerCollector: Collector = {
  name: 'container',
  async collect(context) {
    const host = hostFsOf(context);
    const facts: FactMap = {};
    const [detection, cgroup] = await Promise.all([detectContainer(host), readCgroupLimits(host)]);
    facts[factPath('container', 'inside')] = detection.inside;
    if (detection.runtime) facts[factPath('container', 'runtime')] = detection.runtime;
    else if (!detection.inside) facts[factPath('container', 'runtime')] = 'none';
    if (cgroup.version !== undefined) facts[factPath('container', 'cgroup', 'version')] = cgroup.version;
    if (cgroup.cpu) {
      const { quota, period } = cgroup.cpu;
      facts[factPath('container', 'cgroup', 'cpu', 'quota')] = quota;
      if (period !== undefined) facts[factPath('container', 'cgroup', 'cpu', 'period')] = period;
      facts[factPath('container', 'cgroup', 'cpu', 'limitCores')] =
        quota === null || period === undefined ? null : Math.round((quota / period) * 1000) / 1000;
    }
    if (host.hostMode) {
      const online = await readTrimmedIn(host, '/sys/devices/system/cpu/online');
      const count = online ? countCpuList(online) : undefined;
      if (count !== undefined) facts[factPath('container', 'cgroup', 'cpu', 'available')] = count;
    } else {
      try {
        facts[factPath('container', 'cgroup', 'cpu', 'available')] = availableParallelism();
      } catch {
        // not available on this runtime
      }
    }
    if (cgroup.memory !== undefined) facts[factPath('container', 'cgroup', 'memory', 'limit')] = cgroup.memory;
    return facts;
  },
};

interface CgroupLimits {
  version?: 1 | 2;
  /** Period undefined: no `cpu.max` anywhere up the tree, so no CPU limit applies. */
  cpu?: { quota: number | null; period?: number };
  memory?: number | null;
}

async function readCgroupLimits(host: HostFs): Promise<CgroupLimits> {
  const self = host.hostMode ? '/proc/1' : '/proc/self';
  const readText = (path: string) => host.readText(path);
  const readInteger = (path: string) => readIntegerIn(host, path);
  const [mountInfo, procCgroup] = await Promise.all([readText(`${self}/mountinfo`), readText(`${self}/cgroup`)]);
  if (!mountInfo || !procCgroup) return {};
  const mounts = parseMountInfo(mountInfo);
  const memberships = parseProcCgroup(procCgroup);
  const version = cgroupVersion(mounts);
  if (version === undefined) return {};
  if (version === 2) {
    const dirs = cgroupDirectories(mounts, memberships);
    const [cpu, memory] = await Promise.all([
      Promise.all(dirs.map(async (dir) => parseOptional(await readText(join(dir, 'cpu.max')), parseCpuMax))),
      Promise.all(dirs.map(async (dir) => parseOptional(await readText(join(dir, 'memory.max')), parseMemoryLimit))),
    ]);
    return withLimits(version, tightestCpuLimit(cpu), tightestMemoryLimit(memory), dirs.length > 0);
  }
  const cpuDirs = cgroupDirectories(mounts, memberships, 'cpu');
  const memoryDirs = cgroupDirectories(mounts, memberships, 'memory');
  const [cpu, memory] = await Promise.all([
    Promise.all(
      cpuDirs.map(async (dir) => {
        const [quota, period] = await Promise.all([
          readInteger(join(dir, 'cpu.cfs_quota_us')),
          readInteger(join(dir, 'cpu.cfs_period_us')),
        ]);
        return cpuLimitV1(quota, period);
      }),
    ),
    Promise.all(
      memoryDirs.map(async (dir) =>
        parseOptional(await readText(join(dir, 'memory.limit_in_bytes')), parseMemoryLimit),
      ),
    ),
  ]);
  return withLimits(version, tightestCpuLimit(cpu), tightestMemoryLimit(memory), false);
}

/**
 * Under cgroup v2 the root cgroup has no `cpu.max`/`memory.max`: a process that sees only the root
 * (its own cgroup namespace, no limit files anywhere) is unlimited, which is reported as null.
 */
function withLimits(
  version: 1 | 2,
  cpu: CpuLimit | undefined,
  memory: number | null | undefined,
  rootMeansUnlimited: boolean,
): CgroupLimits {
  const limits: CgroupLimits = { version };
  if (cpu) limits.cpu = cpu;
  else if (rootMeansUnlimited) limits.cpu = { quota: null };
  if (memory !== undefined) limits.memory = memory;
  else if (rootMeansUnlimited) limits.memory = null;
  return limits;
}

function parseOptional<T>(text: string | undefined, parse: (text: string) => T | undefined): T | undefined {
  return text === undefined ? undefined : parse(text);
}
