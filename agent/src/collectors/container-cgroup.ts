/** Pure parsers behind the container collector: mountinfo, /proc/<pid>/cgroup and cgroup limit files. */
import { posix } from 'node:path';

export interface MountEntry {
  /** Root of the mount inside its filesystem (field 4): a cgroup path for cgroup mounts. */
  root: string;
  mountPoint: string;
  fsType: string;
  source: string;
  /** Per-superblock options; for cgroup v1 they name the controllers (`rw,cpu,cpuacct`). */
  superOptions: string[];
}

/** Octal escapes used by the kernel in mountinfo paths (`\040` is a space). */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** Parses /proc/<pid>/mountinfo (proc(5)): `id parent major:minor root mountpoint opts [tags] - fstype source superopts`. */
export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const separator = line.indexOf(' - ');
    if (separator < 0) continue;
    const before = line.slice(0, separator).split(' ');
    const after = line.slice(separator + 3).split(' ');
    if (before.length < 6 || after.length < 2) continue;
    entries.push({
      root: unescapeMountPath(before[3] as string),
      mountPoint: unescapeMountPath(before[4] as string),
      fsType: after[0] as string,
      source: unescapeMountPath(after[1] as string),
      superOptions: (after[2] ?? '').split(','),
    });
  }
  return entries;
}

export interface CgroupMembership {
  /** Hierarchy id; 0 for the cgroup v2 unified hierarchy. */
  hierarchy: number;
  /** v1 controllers of the hierarchy (`cpu`, `cpuacct`, `name=systemd`); empty for v2. */
  controllers: string[];
  path: string;
}

/** Parses /proc/<pid>/cgroup: `hierarchy-id:controller-list:cgroup-path` per line. */
export function parseProcCgroup(text: string): CgroupMembership[] {
  const result: CgroupMembership[] = [];
  for (const line of text.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!match) continue;
    result.push({
      hierarchy: Number(match[1]),
      controllers: match[2] ? (match[2] as string).split(',') : [],
      path: match[3] as string,
    });
  }
  return result;
}

/**
 * The cgroup version that governs resource limits: 2 when the unified hierarchy is mounted and no
 * v1 resource controller is (pure v2), 1 when any v1 controller hierarchy is mounted (legacy and
 * hybrid setups keep their controllers in v1). Undefined when no cgroup filesystem is mounted.
 */
export function cgroupVersion(mounts: readonly MountEntry[]): 1 | 2 | undefined {
  const v1Controllers = mounts.filter(
    (m) => m.fsType === 'cgroup' && m.superOptions.some((o) => V1_RESOURCE_CONTROLLERS.has(o)),
  );
  if (v1Controllers.length > 0) return 1;
  if (mounts.some((m) => m.fsType === 'cgroup2')) return 2;
  if (mounts.some((m) => m.fsType === 'cgroup')) return 1;
  return undefined;
}

const V1_RESOURCE_CONTROLLERS = new Set(['cpu', 'cpuacct', 'cpuset', 'memory', 'blkio', 'pids', 'io']);

/**
 * Directories holding the limits of this process for one controller, from its own cgroup up to the
 * top of the mounted hierarchy (limits of ancestors apply too). `controller` undefined means the
 * v2 unified hierarchy. Empty when the hierarchy is not mounted.
 */
export function cgroupDirectories(
  mounts: readonly MountEntry[],
  memberships: readonly CgroupMembership[],
  controller?: string,
): string[] {
  const mount = controller
    ? mounts.find((m) => m.fsType === 'cgroup' && m.superOptions.includes(controller))
    : mounts.find((m) => m.fsType === 'cgroup2');
  if (!mount) return [];
  const membership = controller
    ? memberships.find((m) => m.hierarchy !== 0 && m.controllers.includes(controller))
    : memberships.find((m) => m.hierarchy === 0 && m.controllers.length === 0);
  let relative = '/';
  if (membership) {
    const path = membership.path;
    // The mount may expose a subtree (a container without its own cgroup namespace sees its root
    // as `/docker/<id>`). Paths outside the mounted subtree cannot be reached: use the mount point.
    if (mount.root === '/') relative = path;
    else if (path === mount.root || path.startsWith(`${mount.root}/`)) relative = path.slice(mount.root.length) || '/';
  }
  const top = stripTrailingSlash(mount.mountPoint);
  const dirs: string[] = [];
  let dir = stripTrailingSlash(posix.join(top, relative));
  while (dir.startsWith(`${top}/`)) {
    dirs.push(dir);
    dir = posix.dirname(dir);
  }
  dirs.push(top);
  return dirs;
}

/** Values at or above this are "no limit" (cgroup v1 writes PAGE_COUNTER_MAX * page size, ~2^63). */
const UNLIMITED_BYTES = 2 ** 62;

export interface CpuLimit {
  /** Microseconds of CPU time per period, or null for no limit. */
  quota: number | null;
  period: number;
}

/** Parses cgroup v2 `cpu.max`: `max 100000` or `50000 100000`. */
export function parseCpuMax(text: string): CpuLimit | undefined {
  const match = /^(max|\d+)\s+(\d+)\s*$/.exec(text.trim());
  if (!match) return undefined;
  const period = Number(match[2]);
  if (!(period > 0)) return undefined;
  return { quota: match[1] === 'max' ? null : Number(match[1]), period };
}

/** Builds a cgroup v1 limit from `cpu.cfs_quota_us` (-1 = none) and `cpu.cfs_period_us`. */
export function cpuLimitV1(quota: number | undefined, period: number | undefined): CpuLimit | undefined {
  if (period === undefined || !(period > 0) || quota === undefined) return undefined;
  return { quota: quota < 0 ? null : quota, period };
}

/** Parses cgroup v2 `memory.max` or v1 `memory.limit_in_bytes`: bytes, or null for no limit. */
export function parseMemoryLimit(text: string): number | null | undefined {
  const value = text.trim();
  if (value === 'max') return null;
  if (!/^\d+$/.test(value)) return undefined;
  const bytes = Number(value);
  return bytes >= UNLIMITED_BYTES ? null : bytes;
}

/** The tightest CPU limit of a cgroup and its ancestors (the lowest quota/period ratio). */
export function tightestCpuLimit(limits: readonly (CpuLimit | undefined)[]): CpuLimit | undefined {
  let best: CpuLimit | undefined;
  for (const limit of limits) {
    if (!limit) continue;
    if (!best) best = limit;
    else if (limit.quota !== null && (best.quota === null || limit.quota / limit.period < best.quota / best.period)) {
      best = limit;
    }
  }
  return best;
}

/** The tightest memory limit of a cgroup and its ancestors: the smallest byte count, null if none. */
export function tightestMemoryLimit(limits: readonly (number | null | undefined)[]): number | null | undefined {
  let best: number | null | undefined;
  for (const limit of limits) {
    if (limit === undefined) continue;
    if (best === undefined || best === null) best = limit;
    else if (limit !== null && limit < best) best = limit;
  }
  return best;
}

export type ContainerRuntime = 'kubernetes' | 'podman' | 'docker' | 'containerd' | 'lxc' | 'systemd-nspawn';

/** The container runtime a cgroup path points at (`/kubepods/...`, `/docker/<id>`, `/machine.slice/libpod-...`). */
export function runtimeFromCgroupPath(path: string): ContainerRuntime | undefined {
  if (/kubepods/.test(path)) return 'kubernetes';
  if (/libpod/.test(path)) return 'podman';
  if (/\/docker[-/]|docker-[0-9a-f]{12,}\.scope/.test(path)) return 'docker';
  if (/containerd/.test(path)) return 'containerd';
  if (/\/lxc[./]|\/lxc\.payload/.test(path)) return 'lxc';
  if (/machine\.slice\/machine-/.test(path)) return 'systemd-nspawn';
  return undefined;
}

/** The value of `container=` in a NUL-separated environ file (/proc/1/environ). */
export function containerFromEnviron(environ: string): string | undefined {
  for (const entry of environ.split('\0')) {
    if (entry.startsWith('container=')) return entry.slice('container='.length) || undefined;
  }
  return undefined;
}

function stripTrailingSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}
