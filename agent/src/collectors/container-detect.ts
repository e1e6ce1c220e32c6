/** Detects whether the agent runs inside a container, and which runtime started it. Files only. */
import {
  type ContainerRuntime,
  containerFromEnviron,
  parseMountInfo,
  runtimeFromCgroupPath,
} from './container-cgroup.js';
import { pathExists, readText, readTrimmed } from './os-files.js';

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

/** Gathers the signals from the filesystem and the environment; tolerates every file missing. */
export async function gatherContainerSignals(): Promise<ContainerSignals> {
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
    pathExists('/.dockerenv'),
    pathExists('/run/.containerenv'),
    readTrimmed('/run/systemd/container'),
    readText('/proc/1/environ'),
    readText('/proc/1/cgroup'),
    readText('/proc/self/cgroup'),
    readText('/proc/self/mountinfo'),
    pathExists('/var/run/secrets/kubernetes.io/serviceaccount'),
    pathExists('/proc/vz'),
    pathExists('/proc/bc'),
  ]);
  const cgroupPaths = [pid1Cgroup, selfCgroup]
    .flatMap((text) => (text ? text.split('\n') : []))
    .map((line) => line.split(':').slice(2).join(':'))
    .filter((path) => path && path !== '/');
  const root = mountInfo ? parseMountInfo(mountInfo).findLast((m) => m.mountPoint === '/') : undefined;
  const signals: ContainerSignals = {
    dockerEnv,
    containerEnvFile,
    kubernetes: Boolean(process.env.KUBERNETES_SERVICE_HOST) || k8sDir,
    cgroupPaths,
    openvz: vz && !bc,
  };
  const containerVar = process.env.container || (pid1Environ ? containerFromEnviron(pid1Environ) : undefined);
  if (containerVar) signals.containerVar = containerVar;
  if (systemdContainer) signals.systemdContainer = systemdContainer;
  if (root) signals.rootFsType = root.fsType;
  return signals;
}

export async function detectContainer(): Promise<ContainerDetection> {
  return decideContainer(await gatherContainerSignals());
}
