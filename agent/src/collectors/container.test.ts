import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { createTestContext } from '../../testing/collector-context.js';
import { containerCollector } from './container.js';
import {
  cgroupDirectories,
  cgroupVersion,
  containerFromEnviron,
  cpuLimitV1,
  parseCpuMax,
  parseMemoryLimit,
  parseMountInfo,
  parseProcCgroup,
  runtimeFromCgroupPath,
  tightestCpuLimit,
  tightestMemoryLimit,
} from './container-cgroup.js';
import { type ContainerSignals, decideContainer } from './container-detect.js';

const context = createTestContext();

function shell(script: string): string | undefined {
  try {
    return execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

// A cgroup v2 host seen from a container with its own cgroup namespace.
const V2_MOUNTINFO = [
  '620 510 0:55 / / rw,relatime master:246 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/A,upperdir=/u,workdir=/w',
  '626 620 0:60 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro',
  '627 626 0:29 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw,nsdelegate,memory_recursiveprot',
].join('\n');

// This repository's CI box: hybrid (v1 controllers plus a unified mount), no cgroup namespace.
const HYBRID_MOUNTINFO = [
  '26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard',
  '30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
  '40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');

// Docker on cgroup v1 without a cgroup namespace: the mount root is the container's own cgroup.
const V1_DOCKER_MOUNTINFO = [
  '1 0 0:40 / / rw - overlay overlay rw',
  '2 1 0:41 /docker/abc123 /sys/fs/cgroup/cpu,cpuacct ro - cgroup cgroup rw,cpu,cpuacct',
  '3 1 0:42 /docker/abc123 /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory',
  '4 1 0:43 /with\\040space /mnt/a\\040b rw - ext4 /dev/sda1 rw',
].join('\n');

describe('cgroup parsers', () => {
  it('parses mountinfo, including octal escapes', () => {
    const mounts = parseMountInfo(V1_DOCKER_MOUNTINFO);
    expect(mounts).toHaveLength(4);
    expect(mounts[1]).toEqual({
      root: '/docker/abc123',
      mountPoint: '/sys/fs/cgroup/cpu,cpuacct',
      fsType: 'cgroup',
      source: 'cgroup',
      superOptions: ['rw', 'cpu', 'cpuacct'],
    });
    expect(mounts[3]?.mountPoint).toBe('/mnt/a b');
    expect(mounts[3]?.root).toBe('/with space');
  });

  it('tells the cgroup version that governs limits', () => {
    expect(cgroupVersion(parseMountInfo(V2_MOUNTINFO))).toBe(2);
    expect(cgroupVersion(parseMountInfo(HYBRID_MOUNTINFO))).toBe(1);
    expect(cgroupVersion(parseMountInfo(V1_DOCKER_MOUNTINFO))).toBe(1);
    expect(cgroupVersion([])).toBeUndefined();
  });

  it('parses /proc/self/cgroup', () => {
    expect(parseProcCgroup('12:cpu,cpuacct:/docker/abc\n1:name=systemd:/x\n0::/system.slice/a.service\n')).toEqual([
      { hierarchy: 12, controllers: ['cpu', 'cpuacct'], path: '/docker/abc' },
      { hierarchy: 1, controllers: ['name=systemd'], path: '/x' },
      { hierarchy: 0, controllers: [], path: '/system.slice/a.service' },
    ]);
  });

  it('lists the cgroup directories from the own cgroup up to the mount point', () => {
    const v2 = parseMountInfo('1 0 0:29 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n2 0 0:30 / / rw - ext4 /dev/sda1 rw');
    expect(cgroupDirectories(v2, parseProcCgroup('0::/kubepods.slice/pod1/ctr\n'))).toEqual([
      '/sys/fs/cgroup/kubepods.slice/pod1/ctr',
      '/sys/fs/cgroup/kubepods.slice/pod1',
      '/sys/fs/cgroup/kubepods.slice',
      '/sys/fs/cgroup',
    ]);
    expect(cgroupDirectories(parseMountInfo(V2_MOUNTINFO), parseProcCgroup('0::/\n'))).toEqual(['/sys/fs/cgroup']);
    const docker = parseMountInfo(V1_DOCKER_MOUNTINFO);
    const memberships = parseProcCgroup('4:memory:/docker/abc123\n3:cpu,cpuacct:/docker/abc123\n');
    expect(cgroupDirectories(docker, memberships, 'memory')).toEqual(['/sys/fs/cgroup/memory']);
    expect(cgroupDirectories(docker, memberships, 'cpu')).toEqual(['/sys/fs/cgroup/cpu,cpuacct']);
    expect(cgroupDirectories(docker, memberships, 'pids')).toEqual([]);
    expect(
      cgroupDirectories(parseMountInfo(HYBRID_MOUNTINFO), parseProcCgroup('4:memory:/process_api/e5\n'), 'memory'),
    ).toEqual(['/sys/fs/cgroup/memory/process_api/e5', '/sys/fs/cgroup/memory/process_api', '/sys/fs/cgroup/memory']);
  });

  it('parses limit files', () => {
    expect(parseCpuMax('max 100000\n')).toEqual({ quota: null, period: 100_000 });
    expect(parseCpuMax('150000 100000\n')).toEqual({ quota: 150_000, period: 100_000 });
    expect(parseCpuMax('garbage')).toBeUndefined();
    expect(cpuLimitV1(-1, 100_000)).toEqual({ quota: null, period: 100_000 });
    expect(cpuLimitV1(50_000, 100_000)).toEqual({ quota: 50_000, period: 100_000 });
    expect(cpuLimitV1(50_000, undefined)).toBeUndefined();
    expect(parseMemoryLimit('max\n')).toBeNull();
    expect(parseMemoryLimit('9223372036854771712\n')).toBeNull();
    expect(parseMemoryLimit('536870912\n')).toBe(536_870_912);
    expect(parseMemoryLimit('')).toBeUndefined();
  });

  it('keeps the tightest limit of a cgroup and its ancestors', () => {
    expect(
      tightestCpuLimit([
        { quota: null, period: 100_000 },
        { quota: 200_000, period: 100_000 },
        { quota: 50_000, period: 50_000 },
        undefined,
      ]),
    ).toEqual({ quota: 50_000, period: 50_000 });
    expect(tightestCpuLimit([undefined])).toBeUndefined();
    expect(tightestMemoryLimit([null, 2048, undefined, 1024])).toBe(1024);
    expect(tightestMemoryLimit([null, undefined])).toBeNull();
    expect(tightestMemoryLimit([])).toBeUndefined();
  });

  it('recognises runtimes from cgroup paths and environ files', () => {
    expect(runtimeFromCgroupPath('/kubepods/burstable/pod1/abc')).toBe('kubernetes');
    expect(runtimeFromCgroupPath('/docker/0123456789ab')).toBe('docker');
    expect(runtimeFromCgroupPath('/system.slice/docker-0123456789abcdef.scope')).toBe('docker');
    expect(runtimeFromCgroupPath('/machine.slice/libpod-0123.scope')).toBe('podman');
    expect(runtimeFromCgroupPath('/system.slice/containerd.service/ns/abc')).toBe('containerd');
    expect(runtimeFromCgroupPath('/lxc.payload.web/init.scope')).toBe('lxc');
    expect(runtimeFromCgroupPath('/user.slice/user-0.slice/session-1.scope')).toBeUndefined();
    expect(runtimeFromCgroupPath('/system.slice/dockerd.service')).toBeUndefined();
    expect(containerFromEnviron('PATH=/bin\0container=podman\0HOME=/\0')).toBe('podman');
    expect(containerFromEnviron('PATH=/bin\0')).toBeUndefined();
  });
});

describe('decideContainer', () => {
  const host: ContainerSignals = {
    dockerEnv: false,
    containerEnvFile: false,
    kubernetes: false,
    cgroupPaths: ['/init.scope', '/user.slice'],
    rootFsType: 'ext4',
    openvz: false,
  };

  it('says none on a plain host', () => {
    expect(decideContainer(host)).toEqual({ inside: false });
  });

  it('prefers the most specific signal', () => {
    expect(decideContainer({ ...host, dockerEnv: true })).toEqual({ inside: true, runtime: 'docker' });
    expect(decideContainer({ ...host, dockerEnv: true, kubernetes: true })).toEqual({
      inside: true,
      runtime: 'kubernetes',
    });
    expect(decideContainer({ ...host, containerEnvFile: true })).toEqual({ inside: true, runtime: 'podman' });
    expect(decideContainer({ ...host, containerVar: 'lxc-libvirt' })).toEqual({ inside: true, runtime: 'lxc' });
    expect(decideContainer({ ...host, systemdContainer: 'systemd-nspawn' })).toEqual({
      inside: true,
      runtime: 'systemd-nspawn',
    });
    expect(decideContainer({ ...host, cgroupPaths: ['/system.slice/containerd.service/k8s.io/abc'] })).toEqual({
      inside: true,
      runtime: 'containerd',
    });
    expect(decideContainer({ ...host, cgroupPaths: ['/kubepods.slice/x'] })).toEqual({
      inside: true,
      runtime: 'kubernetes',
    });
    expect(decideContainer({ ...host, rootFsType: 'overlay' })).toEqual({ inside: true });
  });
});

describe('containerCollector on this host', async () => {
  const facts = await containerCollector.collect(context);
  const fsType = shell('stat -fc %T /sys/fs/cgroup');

  it('reports whether it runs in a container', () => {
    const marker = existsSync('/.dockerenv') || existsSync('/run/.containerenv');
    if (marker) expect(facts['container.inside']).toBe(true);
    expect(typeof facts['container.inside']).toBe('boolean');
    if (facts['container.inside'] === false) expect(facts['container.runtime']).toBe('none');
    if (existsSync('/.dockerenv') && !existsSync('/run/.containerenv') && !process.env.KUBERNETES_SERVICE_HOST) {
      expect(facts['container.runtime']).toBe('docker');
    }
  });

  it.skipIf(fsType === undefined)('reports the cgroup version that `stat -f /sys/fs/cgroup` implies', () => {
    const controllersOnV1 = shell("grep -c ' - cgroup cgroup .*\\(cpu\\|memory\\)' /proc/self/mountinfo") !== '0';
    expect(facts['container.cgroup.version']).toBe(fsType === 'cgroup2fs' && !controllersOnV1 ? 2 : 1);
  });

  it.skipIf(fsType === undefined)('reports the memory limit of its own cgroup', () => {
    const raw =
      fsType === 'cgroup2fs'
        ? shell('cat /sys/fs/cgroup$(sed -n "s/^0:://p" /proc/self/cgroup)/memory.max')
        : shell('cat /sys/fs/cgroup/memory$(sed -n "s/^[0-9]*:memory://p" /proc/self/cgroup)/memory.limit_in_bytes');
    if (raw === undefined) return;
    const own = raw === 'max' || Number(raw) >= 2 ** 62 ? null : Number(raw);
    const reported = facts['container.cgroup.memory.limit'];
    // The reported limit also honours ancestors, so it can only be tighter than the own cgroup's.
    if (own === null) expect(reported === null || typeof reported === 'number').toBe(true);
    else expect(reported as number).toBeLessThanOrEqual(own);
  });

  it('reports CPU limits consistently', () => {
    const quota = facts['container.cgroup.cpu.quota'];
    const limit = facts['container.cgroup.cpu.limitCores'];
    if (quota === null) expect(limit).toBeNull();
    if (typeof quota === 'number') {
      expect(limit).toBeCloseTo(quota / (facts['container.cgroup.cpu.period'] as number), 3);
    }
    expect(facts['container.cgroup.cpu.available']).toBe(availableParallelism());
    const nproc = shell('nproc');
    if (nproc) expect(facts['container.cgroup.cpu.available']).toBe(Number(nproc));
  });
});
