/**
 * What the daemon watches, and which collectors a change there reruns: the config files of
 * `watch.files` and the env files of `watch.envFiles` (config), the OS package databases (library),
 * the lockfiles of `watch.projects` (app), and the processes of `watch.processes` (process), polled
 * every 2 s for a changed signature since /proc announces nothing.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname, posix, resolve } from 'node:path';
import { type AgentConfig, DEFAULT_PROCESS_POLL_MS } from '@envparity/shared';
import { envFileEntry } from '../collectors/env-files.js';
import { type ProcessSignatureOptions, processSignature } from '../collectors/process-signature.js';
import { hostFsFor } from '../host-root.js';
import type { WatchTarget } from './watcher.js';

/** Package databases: a file (its directory is watched, filtered by name) or a directory (any entry). */
export const DEFAULT_PACKAGE_DATABASES: readonly string[] = [
  '/var/lib/dpkg/status',
  '/var/lib/rpm',
  '/usr/lib/sysimage/rpm',
  '/lib/apk/db/installed',
];

/** Lockfile names the app collector reads at the top level of a project folder. */
export const LOCKFILE_NAMES: readonly string[] = [
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'requirements.txt',
  'poetry.lock',
  'Pipfile.lock',
  'go.sum',
  'go.mod',
  'Gemfile.lock',
];

/**
 * Kubernetes mounts ConfigMaps and Secrets as symlinks into a `..data` directory that is swapped
 * atomically on update: a change of `..data` next to a watched file is a change of the file.
 */
const KUBERNETES_ATOMIC_DIR = '..data';

export interface TriggerOptions {
  /** Package database paths to consider (default DEFAULT_PACKAGE_DATABASES); only existing ones are watched. */
  packageDatabases?: readonly string[];
  /** Base for relative paths (default: the working directory, as the collectors read them). */
  cwd?: string;
  /** How often the watched processes are polled (default DEFAULT_PROCESS_POLL_MS). */
  processPollMs?: number;
  /** Where the process poll looks (tests). */
  processes?: ProcessSignatureOptions;
}

/** The watch targets for a config. */
export async function watchTargetsFor(
  config: AgentConfig,
  {
    packageDatabases = DEFAULT_PACKAGE_DATABASES,
    cwd = process.cwd(),
    processPollMs = DEFAULT_PROCESS_POLL_MS,
    processes,
  }: TriggerOptions = {},
): Promise<WatchTarget[]> {
  // Host mode: every watched path is a host path, watched where it is under the host root (its
  // directories resolved inside the root; a directory not there yet is watched where it will be).
  const host = hostFsFor(config);
  const localDir = async (hostDir: string) => host.local(hostDir).catch(() => host.lexical(hostDir));
  const targets: WatchTarget[] = [];
  const envFiles = config.watch.envFiles.map((entry) => envFileEntry(entry).path);
  for (const file of [...config.watch.files, ...envFiles]) {
    const path = host.hostMode ? posix.resolve('/', file) : resolve(cwd, file);
    const dir = host.hostMode ? await localDir(dirname(path)) : dirname(path);
    targets.push({ dir, names: [basename(path), KUBERNETES_ATOMIC_DIR], tags: ['config'] });
  }
  for (const database of packageDatabases) {
    try {
      const local = host.hostMode ? await host.local(database) : database;
      const info = await stat(local);
      if (info.isDirectory()) targets.push({ dir: local, tags: ['library'] });
      else targets.push({ dir: dirname(local), names: [basename(local)], tags: ['library'] });
    } catch {
      // not this distribution's package manager
    }
  }
  for (const project of config.watch.projects) {
    const dir = host.hostMode ? await localDir(posix.resolve('/', project)) : resolve(cwd, project);
    targets.push({ dir, names: LOCKFILE_NAMES, tags: ['app'] });
  }
  const specs = config.watch.processes;
  if (specs.length > 0) {
    const pollOptions: ProcessSignatureOptions = host.hostMode
      ? {
          procRoot: await localDir('/proc'),
          cgroupRoot: await localDir('/sys/fs/cgroup'),
          systemdRunDir: await localDir('/run/systemd/system'),
          host,
          ...processes,
        }
      : (processes ?? {});
    targets.push({ poll: () => processSignature(specs, pollOptions), intervalMs: processPollMs, tags: ['process'] });
  }
  return targets;
}
