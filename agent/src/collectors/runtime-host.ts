/**
 * Runtimes in host mode: found on the host's PATH directories under the root (the PATH of the
 * host's /etc/environment, then the standard system directories), and identified from files only:
 * no host binary is ever executed (it may not even run in the agent's container: another libc,
 * another architecture's loader), so `--version` probes are never made.
 *
 * A version comes from the installation's own files first (the same readers as outside host mode:
 * node's node_version.h, npm/yarn/pnpm/corepack package.json, CPython's patchlevel.h, pip's
 * __init__.py, a JDK's `release`, Go's VERSION, rbconfig.rb, perl's versioned hard link, the .NET
 * sdk directories, rustup manifests), else from the OS package that installed the real file
 * (package-owner.ts: a distribution's python3, nodejs, openjdk, gcc, php). A runtime found whose
 * version neither says is listed in the document's errors, and its version is not guessed.
 */
import { basename, dirname, isAbsolute, posix } from 'node:path';
import { type FactMap, factPath } from '@envparity/shared';
import type { HostFs } from './host-fs.js';
import { type PackageOwner, PackageOwners, upstreamVersion } from './package-owner.js';
import type { FoundExecutable } from './runtime.js';
import { RUNTIMES } from './runtime.js';
import { dotnetInstall, nodeVersionFromHeader } from './runtime-files.js';
import { PathIndex } from './runtime-path.js';
import type { ShimEnvironment } from './runtime-shims.js';
import type { CollectorContext } from './types.js';

/** Where a host's programs live when its /etc/environment names no PATH (and after the PATH it names). */
export const HOST_PATH_DIRECTORIES: readonly string[] = [
  '/usr/local/sbin',
  '/usr/local/bin',
  '/usr/sbin',
  '/usr/bin',
  '/sbin',
  '/bin',
  '/snap/bin',
];

/** The host's PATH: its /etc/environment `PATH=` entries (absolute ones), then the standard directories. */
export async function hostPathDirectories(host: HostFs): Promise<string[]> {
  const text = await host.readText('/etc/environment');
  const line = text ? /^\s*(?:export\s+)?PATH=(.*)$/m.exec(text)?.[1] : undefined;
  const declared = (line ?? '')
    .trim()
    .replace(/^(["'])(.*)\1$/, '$2')
    .split(':')
    .filter((dir) => dir && isAbsolute(dir));
  return [...new Set([...declared, ...HOST_PATH_DIRECTORIES])];
}

/** How host mode looks for runtimes: one PATH index and one package-owner index per pass. */
export interface HostRuntimeLookup {
  host: HostFs;
  index: PathIndex;
  /** No user environment in host mode: version managers' selections are not known. */
  shim: ShimEnvironment;
  owners: PackageOwners;
}

export async function hostRuntimeLookup(host: HostFs): Promise<HostRuntimeLookup> {
  const index = new PathIndex(await hostPathDirectories(host), host);
  return { host, index, shim: { env: {}, cwd: '/', home: '', index }, owners: new PackageOwners(host) };
}

/** The first of `commands` on the host's PATH, as a FoundExecutable of host paths. */
export async function findHostExecutable(
  commands: readonly string[],
  lookup: HostRuntimeLookup,
): Promise<FoundExecutable | undefined> {
  for (const command of commands) {
    const path = await lookup.index.find(command);
    if (!path) continue;
    const real = (await lookup.host.realpath(path)) ?? path;
    // A version manager's shim or a rustup proxy answers for a toolchain chosen by a user's settings.
    const opaqueShim =
      basename(dirname(path)) === 'shims' || (/^rustup(-init)?$/.test(basename(real)) && command !== 'rustup');
    return { command, path, target: path, real, opaqueShim };
  }
  return undefined;
}

export type HostVersion = { version: string; from: 'files' | PackageOwner } | { problem: string };

/** The version of a runtime found under the root: its files, else the package that installed it. */
export async function hostRuntimeVersion(
  name: string,
  found: FoundExecutable,
  lookup: HostRuntimeLookup,
): Promise<HostVersion> {
  if (found.opaqueShim) {
    return { problem: `${found.path} is a version manager shim; which version it runs is a user's setting` };
  }
  const fromFiles =
    name === 'node'
      ? await nodeVersionFromHeader(found.real, lookup.host)
      : await RUNTIMES.find((spec) => spec.name === name)?.fromFiles?.(found, lookup.shim, lookup.host);
  if (fromFiles) return { version: fromFiles, from: 'files' };
  const owner = await lookup.owners.ownerOf(found.real);
  if (owner) return { version: upstreamVersion(owner.version), from: owner };
  return {
    problem: `${found.path} found, but none of its files or packages says its version (host mode never runs host programs)`,
  };
}

/** `runtime.<name>.version` facts of the host under the root (see the file comment). */
export async function collectHostRuntimes(
  context: Pick<CollectorContext, 'reportError'>,
  host: HostFs,
): Promise<FactMap> {
  const lookup = await hostRuntimeLookup(host);
  const facts: FactMap = {};
  const names = ['node', ...RUNTIMES.map((spec) => spec.name)];
  const commands = (name: string) =>
    name === 'node' ? ['node', 'nodejs'] : (RUNTIMES.find((spec) => spec.name === name)?.commands ?? []);
  const node = await findHostExecutable(['node', 'nodejs'], lookup);
  const results = await Promise.all(
    names.map(async (name) => {
      let found = name === 'node' ? node : await findHostExecutable(commands(name), lookup);
      if (!found && name === 'npm' && node) found = await npmNextToHostNode(node, lookup);
      return found ? { name, result: await hostRuntimeVersion(name, found, lookup) } : undefined;
    }),
  );
  for (const entry of results) {
    if (!entry) continue;
    if ('version' in entry.result) facts[factPath('runtime', entry.name, 'version')] = entry.result.version;
    else context.reportError?.(`runtime ${entry.name}: ${entry.result.problem}`);
  }
  const dotnet = await findHostExecutable(['dotnet'], lookup);
  const install = dotnet && !dotnet.opaqueShim ? await dotnetInstall(dotnet.real, host) : undefined;
  if (install && install.sdks.length > 0) facts[factPath('runtime', 'dotnet', 'sdks')] = install.sdks;
  if (install && install.runtimes.length > 0) facts[factPath('runtime', 'dotnet', 'runtimes')] = install.runtimes;
  return facts;
}

/** npm bundled with the host's node (`<prefix>/lib/node_modules/npm`) when npm is not on its PATH. */
async function npmNextToHostNode(
  node: FoundExecutable,
  lookup: HostRuntimeLookup,
): Promise<FoundExecutable | undefined> {
  const cli = posix.join(dirname(dirname(node.real)), 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  const real = await lookup.host.realpath(cli);
  return real ? { command: 'npm', path: cli, target: cli, real, opaqueShim: false } : undefined;
}
