import { dirname, join } from 'node:path';
import { type FactMap, factPath } from '@envparity/shared';
import { isSingleExecutable } from '../single-executable.js';
import { type HostFs, LOCAL_HOST_FS } from './host-fs.js';
import { pathExists, requireFacts } from './os-files.js';
import {
  cargoVersionFromManifest,
  dotnetInstall,
  goVersionFromRoot,
  javaVersionFromRelease,
  nodePackageVersion,
  perlVersionFromHardlink,
  pipVersionFromSitePackages,
  pythonVersionFromHeaders,
  rubyVersionFromRbconfig,
  rustcVersionFromManifest,
} from './runtime-files.js';
import { collectHostRuntimes } from './runtime-host.js';
import { PathIndex } from './runtime-path.js';
import { probeVersion } from './runtime-probe.js';
import { currentShimEnvironment, resolveExecutable, type ShimEnvironment, safeRealpath } from './runtime-shims.js';
import { matchVersion, VERSION_PATTERNS } from './runtime-versions.js';
import { type Collector, type CollectorContext, hostFsOf } from './types.js';

/** An executable found on PATH, seen through version-manager shims. */
export interface FoundExecutable {
  command: string;
  /** Where PATH found it. */
  path: string;
  /** What actually runs: the shim's target when resolved, else `path`. */
  target: string;
  /** Realpath of `target`. */
  real: string;
  /** A shim or proxy that could not be resolved without running it. */
  opaqueShim: boolean;
}

interface RuntimeSpec {
  /** Fact segment: `runtime.<name>.version`. */
  name: string;
  /** Executables to look for, first found wins (`python3`, then `python`). */
  commands: readonly string[];
  /** Reads the version from the installation's files (host paths read through `fs`), without spawning. */
  fromFiles?: (found: FoundExecutable, shim: ShimEnvironment, fs: HostFs) => Promise<string | undefined>;
  /** Arguments that make the tool print its version; `--version` by default. */
  args?: readonly string[];
  /** Extracts the version from stdout + stderr. */
  pattern: RegExp;
  env?: Record<string, string>;
}

/** Keep corepack shims from downloading a package manager or prompting just to print a version. */
const COREPACK_QUIET = {
  COREPACK_ENABLE_NETWORK: '0',
  COREPACK_ENABLE_DOWNLOAD_PROMPT: '0',
  COREPACK_ENABLE_STRICT: '0',
};

/**
 * The runtimes and package managers looked for. Node itself is handled apart (no spawn). In host
 * mode only `fromFiles` (and the package that installed the file) can answer: runtime-host.ts.
 */
export const RUNTIMES: readonly RuntimeSpec[] = [
  {
    name: 'npm',
    commands: ['npm'],
    fromFiles: (f, _shim, fs) => nodePackageVersion(f.real, ['npm'], fs),
    pattern: VERSION_PATTERNS.plain,
  },
  {
    name: 'yarn',
    commands: ['yarn'],
    fromFiles: (f, _shim, fs) => nodePackageVersion(f.real, ['yarn', '@yarnpkg/cli-dist'], fs),
    pattern: VERSION_PATTERNS.plain,
    env: COREPACK_QUIET,
  },
  {
    name: 'pnpm',
    commands: ['pnpm'],
    fromFiles: (f, _shim, fs) => nodePackageVersion(f.real, ['pnpm'], fs),
    pattern: VERSION_PATTERNS.plain,
    env: COREPACK_QUIET,
  },
  {
    name: 'corepack',
    commands: ['corepack'],
    fromFiles: (f, _shim, fs) => nodePackageVersion(f.real, ['corepack'], fs),
    pattern: VERSION_PATTERNS.plain,
  },
  {
    name: 'python',
    commands: ['python3', 'python'],
    fromFiles: (f, _shim, fs) => pythonVersionFromHeaders(f.real, fs),
    pattern: VERSION_PATTERNS.python,
  },
  {
    name: 'pip',
    commands: ['pip3', 'pip'],
    fromFiles: (f, shim, fs) => pipVersionFromSitePackages(f.target, shim, fs),
    pattern: VERSION_PATTERNS.pip,
  },
  {
    name: 'java',
    commands: ['java'],
    fromFiles: (f, _shim, fs) => javaVersionFromRelease(f.real, fs),
    args: ['-version'],
    pattern: VERSION_PATTERNS.java,
  },
  {
    name: 'go',
    commands: ['go'],
    fromFiles: (f, _shim, fs) => goVersionFromRoot(f.real, fs),
    args: ['version'],
    pattern: VERSION_PATTERNS.go,
  },
  {
    name: 'ruby',
    commands: ['ruby'],
    fromFiles: (f, _shim, fs) => rubyVersionFromRbconfig(f.real, fs),
    pattern: VERSION_PATTERNS.ruby,
  },
  { name: 'php', commands: ['php'], args: ['-n', '--version'], pattern: VERSION_PATTERNS.php },
  {
    name: 'dotnet',
    commands: ['dotnet'],
    fromFiles: async (f, _shim, fs) => (await dotnetInstall(f.real, fs))?.sdks.at(-1),
    pattern: VERSION_PATTERNS.dotnet,
  },
  {
    name: 'rustc',
    commands: ['rustc'],
    fromFiles: (f, _shim, fs) => rustcVersionFromManifest(f.real, fs),
    pattern: VERSION_PATTERNS.rustc,
  },
  {
    name: 'cargo',
    commands: ['cargo'],
    fromFiles: (f, _shim, fs) => cargoVersionFromManifest(f.real, fs),
    pattern: VERSION_PATTERNS.cargo,
  },
  {
    name: 'perl',
    commands: ['perl'],
    fromFiles: (f, shim, fs) => perlVersionFromHardlink(f.real, (dir) => shim.index.list(dir), fs),
    args: ['-e', 'print $^V'],
    pattern: VERSION_PATTERNS.perl,
  },
  { name: 'gcc', commands: ['gcc'], args: ['-dumpfullversion', '-dumpversion'], pattern: VERSION_PATTERNS.gcc },
  { name: 'deno', commands: ['deno'], pattern: VERSION_PATTERNS.deno },
  { name: 'bun', commands: ['bun'], pattern: VERSION_PATTERNS.bun },
];

/**
 * Versions of installed runtimes and package managers. Presence is decided by searching PATH
 * (directory listings, no spawn for missing tools); pyenv/rbenv/nodenv/goenv shims and rustup
 * proxies are resolved by reading their configuration; versions come from the installation's own
 * files when possible (package.json, patchlevel.h, JDK `release`, Go `VERSION`, rustup manifest...)
 * and otherwise from `<tool> --version`, run asynchronously in parallel with a short timeout.
 */
export const runtimeCollector: Collector = {
  name: 'runtime',
  async collect(context) {
    const host = hostFsOf(context);
    if (host.hostMode) return collectHostRuntimes(context, host);
    const index = new PathIndex();
    const shim = currentShimEnvironment(index);
    const facts: FactMap = {};
    const [node, versions, dotnet] = await Promise.all([
      nodeVersion(context, index, shim),
      Promise.all(RUNTIMES.map((spec) => runtimeVersion(context, spec, index, shim))),
      dotnetDetails(index, shim),
    ]);
    if (node !== undefined) facts[factPath('runtime', 'node', 'version')] = node;
    RUNTIMES.forEach((spec, i) => {
      const version = versions[i];
      if (version) facts[factPath('runtime', spec.name, 'version')] = version;
    });
    if (dotnet && dotnet.sdks.length > 0) facts[factPath('runtime', 'dotnet', 'sdks')] = dotnet.sdks;
    if (dotnet && dotnet.runtimes.length > 0) facts[factPath('runtime', 'dotnet', 'runtimes')] = dotnet.runtimes;
    // A host with no runtime at all is normal for the single executable (it needs none).
    return (await isSingleExecutable()) ? facts : requireFacts('runtime', facts);
  },
};

/** The first of `commands` on PATH, seen through shims. */
export async function findExecutable(
  commands: readonly string[],
  index: PathIndex,
  shim: ShimEnvironment,
): Promise<FoundExecutable | undefined> {
  for (const command of commands) {
    const path = await index.find(command);
    if (path) return { command, path, ...(await resolveExecutable(command, path, shim)) };
  }
  return undefined;
}

async function runtimeVersion(
  context: CollectorContext,
  spec: RuntimeSpec,
  index: PathIndex,
  shim: ShimEnvironment,
): Promise<string | undefined> {
  let found = await findExecutable(spec.commands, index, shim);
  if (!found && spec.name === 'npm' && !(await isSingleExecutable())) found = await npmNextToNode();
  if (!found) return undefined;
  if (!found.opaqueShim && spec.fromFiles) {
    const version = await spec.fromFiles(found, shim, LOCAL_HOST_FS);
    if (version) return version;
  }
  return probeVersion(
    context,
    found.target,
    spec.args ?? ['--version'],
    (output) => matchVersion(output, spec.pattern),
    { cache: !found.opaqueShim, ...(spec.env ? { env: spec.env } : {}) },
  );
}

/**
 * Node without a spawn: the agent's own `process.version` when the `node` on PATH is the binary the
 * agent runs on (or when there is none on PATH); another `node` on PATH is asked for its version.
 * The single executable's built-in Node is not the host's: there only a `node` on PATH counts.
 */
async function nodeVersion(
  context: CollectorContext,
  index: PathIndex,
  shim: ShimEnvironment,
): Promise<string | undefined> {
  const found = await findExecutable(['node'], index, shim);
  if (await isSingleExecutable()) {
    if (!found) return undefined;
    return probeVersion(context, found.target, ['--version'], (output) => matchVersion(output, VERSION_PATTERNS.node), {
      cache: !found.opaqueShim,
    });
  }
  const own = process.version.replace(/^v/, '');
  if (!found) return own;
  if (!found.opaqueShim && found.real === (await safeRealpath(process.execPath))) return own;
  const other = await probeVersion(
    context,
    found.target,
    ['--version'],
    (output) => matchVersion(output, VERSION_PATTERNS.node),
    { cache: !found.opaqueShim },
  );
  return other ?? own;
}

/** npm bundled with the agent's node (`<prefix>/lib/node_modules/npm`) when npm is not on PATH. */
async function npmNextToNode(): Promise<FoundExecutable | undefined> {
  const cli = join(dirname(dirname(process.execPath)), 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  if (!(await pathExists(cli))) return undefined;
  return { command: 'npm', path: cli, target: cli, real: await safeRealpath(cli), opaqueShim: false };
}

async function dotnetDetails(index: PathIndex, shim: ShimEnvironment) {
  const found = await findExecutable(['dotnet'], index, shim);
  return found && !found.opaqueShim ? dotnetInstall(found.real) : undefined;
}
