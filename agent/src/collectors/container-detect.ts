/** Detects whether the agent runs inside a container, and which runtime started it. Files only. */
import {
  type ContainerRuntime,
  containerFromEnviron,
  parseMountInfo,
  runtimeFromCgroupPath,
} from './container-cgroup.js';
import { type HostFs, LOCAL_HOST_FS, readTrimmedIn } from './host-fs.js';

/** Everything the decision looks at, gathered once so the decision itself is a pure function. */
export interface ContainerSignals {
  dockerEnv: boolean;
  /** /run/.containerenv exists (podman, buildah, toolbox). */
  containerEnvFile: boolean;
  /** `container=` of the agent's environment or of PID 1's. */
  containerVar?: string;
  /** /run/systemd/container, written by systemd when it boots inside a container. */
  systemdContainer?: string;
  kubernetes: boolean;
  /** Cgroup paths of PID 1 and of the agent. */
  cgroupPaths: string[];
  /** Filesystem type of the mount at `/`. */
  rootFsType?: string;
  openvz: boolean;
}

export interface ContainerDetection {
  inside: boolean;
  /** The runtime when it can be told; absent when inside an unrecognised container. */
  runtime?: string;
}

const CONTAINER_VAR_RUNTIMES: Record<string, ContainerRuntime> = {
  docker: 'docker',
  podman: 'podman',
  lxc: 'lxc',
  'lxc-libvirt': 'lxc',
  'systemd-nspawn': 'systemd-nspawn',
  containerd: 'containerd',
};

/** Root filesystems that only container engines put at `/`. */
const CONTAINER_ROOT_FS = new Set(['overlay', 'aufs', 'fuse-overlayfs']);

/** Decides from the signals, most specific first: kubernetes, podman, `container=`, docker, cgroup paths. */
export function decideContainer(signals: ContainerSignals): ContainerDetection {
  const fromCgroup = signals.cgroupPaths.map(runtimeFromCgroupPath).find((runtime) => runtime !== undefined);
  if (signals.kubernetes || fromCgroup === 'kubernetes') return { inside: true, runtime: 'kubernetes' };
  if (signals.containerEnvFile) return { inside: true, runtime: 'podman' };
  const declared = signals.containerVar ?? signals.systemdContainer;
  if (declared) return { inside: true, runtime: CONTAINER_VAR_RUNTIMES[declared] ?? declared };
  if (signals.dockerEnv) return { inside: true, runtime: 'docker' };
  if (fromCgroup) return { inside: true, runtime: fromCgroup };
  if (signals.openvz) return { inside: true, runtime: 'openvz' };
  if (signals.rootFsType && CONTAINER_ROOT_FS.has(signals.rootFsType)) return { inside: true };
  return { inside: false };
}

/**
 * Gathers the signals from the filesystem and the environment; tolerates every file missing. In
 * host mode (`host.hostMode`) they are the host's: its files, its PID 1 (cgroup, environ and
 * mounts), never the agent's environment or own /proc/self, which are its container's.
 */
export async function gatherContainerSignals(host: HostFs = LOCAL_HOST_FS): Promise<ContainerSignals> {
  const self = host.hostMode ? '/proc/1' : '/proc/self';
  const [
    dockerEnv,
    containerEnvFile,
    systemdContainer,
    pid1Environ,
    pid1Cgroup,
    selfCgroup,
    mountInfo,
    k8sDir,
    vz,
    bc,
  ] = await Promise.all([
    host.exists('/.dockerenv'),
    host.exists('/run/.containerenv'),
    readTrimmedIn(host, '/run/systemd/container'),
    host.readText('/proc/1/environ'),
    host.readText('/proc/1/cgroup'),
    host.readText(`${self}/cgroup`),
    host.readText(`${self}/mountinfo`),
    host.exists('/var/run/secrets/kubernetes.io/serviceaccount'),
    host.exists('/proc/vz'),
    host.exists('/proc/bc'),
  ]);
  const cgroupPaths = [pid1Cgroup, selfCgroup]
    .flatMap((text) => (text ? text.split('\n') : []))
    .map((line) => line.split(':').slice(2).join(':'))
    .filter((path) => path && path !== '/');
  const root = mountInfo ? parseMountInfo(mountInfo).findLast((m) => m.mountPoint === '/') : undefined;
  const signals: ContainerSignals = {
    dockerEnv,
    containerEnvFile,
    kubernetes: (!host.hostMode && Boolean(process.env.KUBERNETES_SERVICE_HOST)) || k8sDir,
    cgroupPaths,
    openvz: vz && !bc,
  };
  const containerVar =
    (host.hostMode ? undefined : process.env.container) ||
    (pid1Environ ? containerFromEnviron(pid1Environ) : undefined);
  if (containerVar) signals.containerVar = containerVar;
  if (systemdContainer) signals.systemdContainer = systemdContainer;
  if (root) signals.rootFsType = root.fsType;
  return signals;
}

/** Whether this machine (or in host mode, the host under the root) is a container. */
export async function detectContainer(host: HostFs = LOCAL_HOST_FS): Promise<ContainerDetection> {
  return decideContainer(await gatherContainerSignals(host));
}
