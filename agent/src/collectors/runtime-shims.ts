/**
 * Version-manager shims resolved without running them. pyenv/rbenv/nodenv/goenv shims are shell
 * scripts that cost ~300 ms per call, and rustup proxies ~90 ms; reading the same configuration
 * files they read gives the real executable, which is then cheap to inspect or run.
 * Whenever the configuration is not plainly understood, resolution gives up (undefined) and the
 * caller runs the shim itself, so the answer is always the one the shim would give.
 */
import { realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { loadSmolToml } from '../lazy-packages.js';
import { isDirectory, listDir, readText } from './os-files.js';
import { isExecutableFile, type PathIndex } from './runtime-path.js';

export interface ShimEnvironment {
  env: NodeJS.ProcessEnv;
  cwd: string;
  home: string;
  index: PathIndex;
}

export function currentShimEnvironment(index: PathIndex): ShimEnvironment {
  let home = process.env.HOME ?? '';
  try {
    home ||= homedir();
  } catch {
    // no home directory: only the environment variables can point at version managers
  }
  return { env: process.env, cwd: process.cwd(), home, index };
}

interface XenvManager {
  tool: string;
  rootVar: string;
  versionVar: string;
  dirVar: string;
  localFile: string;
  /** pyenv honours every version listed (`3.11.7:3.10.13`); the others take the first word only. */
  multiple: boolean;
}

const XENV_MANAGERS: readonly XenvManager[] = [
  {
    tool: 'pyenv',
    rootVar: 'PYENV_ROOT',
    versionVar: 'PYENV_VERSION',
    dirVar: 'PYENV_DIR',
    localFile: '.python-version',
    multiple: true,
  },
  {
    tool: 'rbenv',
    rootVar: 'RBENV_ROOT',
    versionVar: 'RBENV_VERSION',
    dirVar: 'RBENV_DIR',
    localFile: '.ruby-version',
    multiple: false,
  },
  {
    tool: 'nodenv',
    rootVar: 'NODENV_ROOT',
    versionVar: 'NODENV_VERSION',
    dirVar: 'NODENV_DIR',
    localFile: '.node-version',
    multiple: false,
  },
  {
    tool: 'goenv',
    rootVar: 'GOENV_ROOT',
    versionVar: 'GOENV_VERSION',
    dirVar: 'GOENV_DIR',
    localFile: '.go-version',
    multiple: false,
  },
];

/** Directories from `start` up to `/`. */
export function ancestors(start: string): string[] {
  const dirs: string[] = [];
  let dir = start;
  for (;;) {
    dirs.push(dir);
    const parent = dirname(dir);
    if (parent === dir) return dirs;
    dir = parent;
  }
}

/** Version names of a `.python-version`-style file: words, `#` comments ignored. */
export function parseVersionFile(text: string, multiple: boolean): string[] {
  const words = text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean)
    .flatMap((line) => line.split(/\s+/));
  return multiple ? words : words.slice(0, 1);
}

/** Which manager owns `path`, if it is one of their shims. */
function xenvFor(path: string, shim: ShimEnvironment): { manager: XenvManager; root: string } | undefined {
  const dir = dirname(path);
  for (const manager of XENV_MANAGERS) {
    const roots = [shim.env[manager.rootVar], shim.home ? join(shim.home, `.${manager.tool}`) : undefined];
    for (const root of roots) if (root && join(root, 'shims') === dir) return { manager, root };
  }
  return undefined;
}

async function selectedXenvVersions(manager: XenvManager, root: string, shim: ShimEnvironment): Promise<string[]> {
  const fromEnv = shim.env[manager.versionVar];
  if (fromEnv) return manager.multiple ? fromEnv.split(':').filter(Boolean) : [fromEnv.split(':')[0] as string];
  for (const dir of ancestors(shim.env[manager.dirVar] || shim.cwd)) {
    const text = await readText(join(dir, manager.localFile));
    if (text !== undefined) return parseVersionFile(text, manager.multiple);
  }
  const global = await readText(join(root, 'version'));
  const versions = global === undefined ? [] : parseVersionFile(global, manager.multiple);
  return versions.length > 0 ? versions : ['system'];
}

async function resolveXenv(
  command: string,
  path: string,
  manager: XenvManager,
  root: string,
  shim: ShimEnvironment,
): Promise<string | undefined> {
  for (const version of await selectedXenvVersions(manager, root, shim)) {
    if (version === 'system') {
      const shims = dirname(path);
      const found = await shim.index.find(
        command,
        shim.index.directories.filter((dir) => dir !== shims),
      );
      if (found) return found;
      continue;
    }
    // `3.11.7/envs/web` (pyenv-virtualenv) is fine; anything escaping the versions dir is not.
    if (version.startsWith('/') || version.split('/').includes('..')) return undefined;
    const versionDir = join(root, 'versions', version);
    // A version that is not installed as such may be a prefix (`3.11`) the manager expands: ask it.
    if (!(await isDirectory(versionDir))) return undefined;
    const candidate = join(versionDir, 'bin', command);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** The host triple of a rustup toolchain directory name: `stable-x86_64-unknown-linux-gnu`. */
const TRIPLE_SUFFIX = /-(x86_64|i686|aarch64|arm|armv7|powerpc64le|riscv64gc|s390x|loongarch64)[a-z0-9_]*-.+$/;

interface RustupSettings {
  defaultToolchain?: string;
  overrides: Record<string, string>;
}

async function readRustupSettings(rustupHome: string): Promise<RustupSettings | undefined> {
  const text = await readText(join(rustupHome, 'settings.toml'));
  if (text === undefined) return { overrides: {} };
  try {
    const parsed = loadSmolToml().parse(text) as { default_toolchain?: unknown; overrides?: unknown };
    const settings: RustupSettings = { overrides: {} };
    if (typeof parsed.default_toolchain === 'string') settings.defaultToolchain = parsed.default_toolchain;
    if (parsed.overrides && typeof parsed.overrides === 'object') {
      for (const [dir, toolchain] of Object.entries(parsed.overrides)) {
        if (typeof toolchain === 'string') settings.overrides[dir] = toolchain;
      }
    }
    return settings;
  } catch {
    return undefined;
  }
}

/** The channel of a rust-toolchain(.toml) file; undefined when it uses features beyond a plain channel. */
export function parseRustToolchainFile(text: string, legacyName: boolean): string | undefined {
  const trimmed = text.trim();
  if (legacyName && /^[A-Za-z0-9._-]+$/.test(trimmed)) return trimmed;
  try {
    const parsed = loadSmolToml().parse(trimmed) as { toolchain?: { channel?: unknown; path?: unknown } };
    const channel = parsed.toolchain?.channel;
    if (parsed.toolchain?.path !== undefined || typeof channel !== 'string') return undefined;
    return channel;
  } catch {
    return undefined;
  }
}

/**
 * The toolchain rustup would pick: RUSTUP_TOOLCHAIN, then per directory from the cwd up a
 * `rustup override` entry or a rust-toolchain(.toml) file, then the default toolchain.
 */
async function selectedRustToolchain(rustupHome: string, shim: ShimEnvironment): Promise<string | undefined> {
  if (shim.env.RUSTUP_TOOLCHAIN) return shim.env.RUSTUP_TOOLCHAIN;
  const settings = await readRustupSettings(rustupHome);
  if (!settings) return undefined;
  for (const dir of ancestors(shim.cwd)) {
    const override = settings.overrides[dir];
    if (override) return override;
    const toml = await readText(join(dir, 'rust-toolchain.toml'));
    if (toml !== undefined) return parseRustToolchainFile(toml, false);
    const legacy = await readText(join(dir, 'rust-toolchain'));
    if (legacy !== undefined) return parseRustToolchainFile(legacy, true);
  }
  return settings.defaultToolchain;
}

async function resolveRustup(command: string, shim: ShimEnvironment): Promise<string | undefined> {
  const rustupHome = shim.env.RUSTUP_HOME || (shim.home ? join(shim.home, '.rustup') : undefined);
  if (!rustupHome) return undefined;
  const toolchain = await selectedRustToolchain(rustupHome, shim);
  if (!toolchain || toolchain.includes('/')) return undefined;
  const installed = await listDir(join(rustupHome, 'toolchains'));
  const matches = installed.filter(
    (name) =>
      name === toolchain || (name.startsWith(`${toolchain}-`) && TRIPLE_SUFFIX.test(name.slice(toolchain.length))),
  );
  const chosen = matches.includes(toolchain) ? toolchain : matches.length === 1 ? matches[0] : undefined;
  if (!chosen) return undefined;
  const candidate = join(rustupHome, 'toolchains', chosen, 'bin', command);
  return (await isExecutableFile(candidate)) ? candidate : undefined;
}

export interface ResolvedExecutable {
  /** The executable to inspect or run: the shim's target when it was resolved, else `path`. */
  target: string;
  /** Realpath of `target`. */
  real: string;
  /** True when `path` is a shim or proxy that could not be resolved: only running it tells the version. */
  opaqueShim: boolean;
}

/** Sees through pyenv-style shims and rustup proxies; other executables are returned as they are. */
export async function resolveExecutable(
  command: string,
  path: string,
  shim: ShimEnvironment,
): Promise<ResolvedExecutable> {
  const real = await safeRealpath(path);
  const xenv = xenvFor(path, shim);
  let target: string | undefined;
  let isShim = false;
  if (xenv) {
    isShim = true;
    target = await resolveXenv(command, path, xenv.manager, xenv.root, shim);
  } else if (/^rustup(-init)?$/.test(basename(real)) && command !== 'rustup') {
    isShim = true;
    target = await resolveRustup(command, shim);
  }
  if (!target) return { target: path, real, opaqueShim: isShim };
  return { target, real: await safeRealpath(target), opaqueShim: false };
}

export async function safeRealpath(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return path;
  }
}
