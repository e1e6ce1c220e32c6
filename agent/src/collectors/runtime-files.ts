/**
 * Versions read from the files an installation ships, so that most runtimes need no process at
 * all. Each reader returns undefined when its file is not where it expects it; the runtime
 * collector then falls back to running `<tool> --version`.
 */
import { basename, dirname, join } from 'node:path';
import { type HostFs, LOCAL_HOST_FS } from './host-fs.js';
import type { ShimEnvironment } from './runtime-shims.js';
import {
  cargoReleaseVersion,
  compareVersions,
  parseGoVersionFile,
  parseJavaRelease,
  parseNodeVersionHeader,
  parsePatchlevel,
  parsePythonDunderVersion,
  parseRbconfigVersion,
  parseRustupManifest,
  parseShebangInterpreter,
} from './runtime-versions.js';

/**
 * The version in the package.json of the npm package an executable belongs to (npm, yarn, pnpm,
 * corepack): the nearest package.json above the real file, if its name is one of `names`.
 */
export async function nodePackageVersion(
  real: string,
  names: readonly string[],
  fs: HostFs = LOCAL_HOST_FS,
): Promise<string | undefined> {
  let dir = dirname(real);
  for (let depth = 0; depth < 4; depth++) {
    const text = await fs.readText(join(dir, 'package.json'));
    if (text !== undefined) {
      try {
        const pkg = JSON.parse(text) as { name?: unknown; version?: unknown };
        return typeof pkg.name === 'string' && names.includes(pkg.name) && typeof pkg.version === 'string'
          ? pkg.version
          : undefined;
      } catch {
        return undefined;
      }
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

/**
 * Node's version from `<prefix>/include/node/node_version.h` next to the real `<prefix>/bin/node`
 * (installed by the official tarballs, nodesource packages and most source builds).
 */
export async function nodeVersionFromHeader(real: string, fs: HostFs = LOCAL_HOST_FS): Promise<string | undefined> {
  const text = await fs.readText(join(dirname(dirname(real)), 'include', 'node', 'node_version.h'));
  return text ? parseNodeVersionHeader(text) : undefined;
}

/** `python3.11` -> `3.11`. */
function pythonMinor(real: string): string | undefined {
  return /^python(\d+\.\d+)$/.exec(basename(real))?.[1];
}

/**
 * CPython's version from `<prefix>/include/pythonX.Y/patchlevel.h`, next to the real interpreter
 * `<prefix>/bin/pythonX.Y` (installed by source builds, pyenv, and the -dev packages of distros).
 */
export async function pythonVersionFromHeaders(real: string, fs: HostFs = LOCAL_HOST_FS): Promise<string | undefined> {
  const minor = pythonMinor(real);
  if (!minor) return undefined;
  const prefix = dirname(dirname(real));
  const text = await fs.readText(join(prefix, 'include', `python${minor}`, 'patchlevel.h'));
  const version = text ? parsePatchlevel(text) : undefined;
  return version?.startsWith(`${minor}.`) ? version : undefined;
}

/**
 * pip's version without starting Python (~1 s through a pyenv shim): the interpreter comes from the
 * pip script's shebang, then the directories of that interpreter's sys.path are searched in order
 * (user site, the prefix's site-packages, Debian's dist-packages) for the first `pip` package, and
 * its `__version__` is read. Undefined when PYTHONPATH or an unusual layout makes this uncertain.
 */
export async function pipVersionFromSitePackages(
  script: string,
  shim: ShimEnvironment,
  fs: HostFs = LOCAL_HOST_FS,
): Promise<string | undefined> {
  if (shim.env.PYTHONPATH || shim.env.PYTHONHOME || shim.env.PYTHONUSERBASE) return undefined;
  const head = await readHead(script, fs);
  const interpreter = head ? parseShebangInterpreter(head) : undefined;
  if (!interpreter) return undefined;
  const minor = pythonMinor((await fs.realpath(interpreter)) ?? interpreter);
  if (!minor) return undefined;
  for (const dir of await sitePackagesDirs(interpreter, minor, shim, fs)) {
    const init = await fs.readText(join(dir, 'pip', '__init__.py'));
    if (init !== undefined) return parsePythonDunderVersion(init);
  }
  return undefined;
}

async function readHead(file: string, fs: HostFs): Promise<string | undefined> {
  const text = await fs.readText(file);
  return text?.slice(0, 4096);
}

/** The site directories of an interpreter in sys.path order. */
async function sitePackagesDirs(
  interpreter: string,
  minor: string,
  shim: ShimEnvironment,
  fs: HostFs,
): Promise<string[]> {
  const prefix = dirname(dirname(interpreter));
  const venvConfig = await fs.readText(join(prefix, 'pyvenv.cfg'));
  const dirs: string[] = [];
  const prefixDirs = (root: string) => [
    join(root, 'local', 'lib', `python${minor}`, 'dist-packages'),
    join(root, 'lib', `python${minor}`, 'site-packages'),
    join(root, 'lib', 'python3', 'dist-packages'),
    join(root, 'lib', `python${minor}`, 'dist-packages'),
  ];
  const userSite = shim.home ? join(shim.home, '.local', 'lib', `python${minor}`, 'site-packages') : undefined;
  const userSiteEnabled = !shim.env.PYTHONNOUSERSITE && userSite !== undefined;
  if (venvConfig !== undefined) {
    const includeSystem = /^include-system-site-packages\s*=\s*true\s*$/im.test(venvConfig);
    dirs.push(join(prefix, 'lib', `python${minor}`, 'site-packages'));
    if (includeSystem) {
      const home = /^home\s*=\s*(.+)$/m.exec(venvConfig)?.[1]?.trim();
      if (!home) return [];
      if (userSiteEnabled) dirs.unshift(userSite);
      dirs.push(...prefixDirs(dirname(home)));
    }
    return dirs;
  }
  if (userSiteEnabled) dirs.push(userSite);
  // Debian's python3 (prefix /usr) searches /usr/local/lib/python3.X/dist-packages first.
  if (prefix === '/usr') dirs.push(join('/usr/local/lib', `python${minor}`, 'dist-packages'));
  dirs.push(...prefixDirs(prefix).filter((dir) => !(prefix === '/usr' && dir.startsWith('/usr/local/'))));
  return dirs;
}

/** `JAVA_VERSION` from the `release` file of the JDK (or JRE) the real `java` belongs to. */
export async function javaVersionFromRelease(real: string, fs: HostFs = LOCAL_HOST_FS): Promise<string | undefined> {
  const home = dirname(dirname(real));
  for (const dir of [home, dirname(home)]) {
    const text = await fs.readText(join(dir, 'release'));
    const version = text ? parseJavaRelease(text) : undefined;
    if (version) return version;
  }
  return undefined;
}

/** Go's `VERSION` file at the root of the GOROOT the real `go` belongs to. */
export async function goVersionFromRoot(real: string, fs: HostFs = LOCAL_HOST_FS): Promise<string | undefined> {
  const text = await fs.readText(join(dirname(dirname(real)), 'VERSION'));
  return text ? parseGoVersionFile(text) : undefined;
}

/**
 * Perl installs `perl5.36.0` as a hard link of `perl`: the same inode names the version. `list`
 * lists a directory (the PATH index's cached listing, since perl's directory is usually on PATH).
 */
export async function perlVersionFromHardlink(
  real: string,
  list?: (dir: string) => Promise<Iterable<string>>,
  fs: HostFs = LOCAL_HOST_FS,
): Promise<string | undefined> {
  try {
    const dir = dirname(real);
    const own = await fs.stat(real);
    if (!own) return undefined;
    for (const name of await (list ?? ((path: string) => fs.listDir(path)))(dir)) {
      const match = /^perl(5\.\d+\.\d+)$/.exec(name);
      if (!match) continue;
      const other = await fs.stat(join(dir, name));
      if (other && other.ino === own.ino && other.dev === own.dev) return match[1];
    }
  } catch {
    // fall back to running perl
  }
  return undefined;
}

/** Versions already read from rustup manifests, by file identity: the manifest is ~1 MB. */
const manifestVersions = new Map<string, string | undefined>();

/**
 * `[pkg.<pkg>]` version from the channel manifest of the rustup toolchain a real binary lives in.
 * The file is searched as bytes and only the matching section is decoded.
 */
async function rustupManifestVersion(real: string, tool: string, pkg: string, fs: HostFs): Promise<string | undefined> {
  const toolchain = new RegExp(`^(.*/toolchains/[^/]+)/bin/${tool}$`).exec(real)?.[1];
  if (!toolchain) return undefined;
  const file = join(toolchain, 'lib', 'rustlib', 'multirust-channel-manifest.toml');
  try {
    const info = await fs.stat(file);
    if (!info) return undefined;
    const key = JSON.stringify([fs.root, file, info.ino, info.size, info.mtimeMs, pkg]);
    if (manifestVersions.has(key)) return manifestVersions.get(key);
    const content = await fs.readBuffer(file);
    if (!content) return undefined;
    const at = content.indexOf(`\n[pkg.${pkg}]\n`);
    const version = at < 0 ? undefined : parseRustupManifest(content.subarray(at, at + 512).toString('utf8'), pkg);
    manifestVersions.set(key, version);
    return version;
  } catch {
    return undefined;
  }
}

/** rustc's version from the channel manifest of its rustup toolchain. */
export async function rustcVersionFromManifest(real: string, fs: HostFs = LOCAL_HOST_FS): Promise<string | undefined> {
  return rustupManifestVersion(real, 'rustc', 'rustc', fs);
}

/**
 * cargo's version from the channel manifest of its rustup toolchain. The manifest holds the cargo
 * crate's version (`0.96.0`); `cargo --version` prints the Rust release it shipped with, which
 * cargo derives as `1.<minor - 1>.<patch>` (`1.95.0`).
 */
export async function cargoVersionFromManifest(real: string, fs: HostFs = LOCAL_HOST_FS): Promise<string | undefined> {
  const crate = await rustupManifestVersion(real, 'cargo', 'cargo', fs);
  return crate ? cargoReleaseVersion(crate) : undefined;
}

/**
 * Ruby's version without starting Ruby (~40 ms): the rbconfig.rb of the installation opens with a
 * guard that names the version it was built with (`ruby lib version (3.1.2) doesn't match...`);
 * the packaging keeps binary and library at the same version. It lives under the prefix of
 * the real binary, in `lib/ruby/<api>/<arch>/` (source builds, rbenv) or `lib/<arch>/ruby/<api>/`
 * (Debian, Ubuntu); with several candidates, the one whose API version the binary name carries
 * (`ruby3.1`) wins. Undefined when that does not single one out.
 */
export async function rubyVersionFromRbconfig(real: string, fs: HostFs = LOCAL_HOST_FS): Promise<string | undefined> {
  const prefix = dirname(dirname(real));
  const lib = join(prefix, 'lib');
  const candidates: string[] = [];
  for (const first of await fs.listDir(lib)) {
    if (first === 'ruby') {
      for (const api of await fs.listDir(join(lib, 'ruby'))) {
        for (const arch of await fs.listDir(join(lib, 'ruby', api))) {
          candidates.push(join(lib, 'ruby', api, arch, 'rbconfig.rb'));
        }
      }
    } else if (first.includes('-linux') || first.includes('-darwin')) {
      for (const api of await fs.listDir(join(lib, first, 'ruby')))
        candidates.push(join(lib, first, 'ruby', api, 'rbconfig.rb'));
    }
  }
  const found = (
    await Promise.all(candidates.map(async (file) => ((await fs.exists(file)) ? file : undefined)))
  ).filter((file) => file !== undefined);
  const suffix = /^ruby(\d+\.\d+)$/.exec(basename(real))?.[1];
  const chosen = found.length === 1 ? found : found.filter((file) => suffix && file.includes(`/${suffix}.0/`));
  if (chosen.length !== 1) return undefined;
  const text = await fs.readText(chosen[0] as string);
  const version = text ? parseRbconfigVersion(text) : undefined;
  return version && (!suffix || version.startsWith(`${suffix}.`)) ? version : undefined;
}

export interface DotnetInstall {
  sdks: string[];
  runtimes: string[];
}

/** SDKs and runtimes of the .NET installation the real `dotnet` host belongs to, sorted by version. */
export async function dotnetInstall(real: string, fs: HostFs = LOCAL_HOST_FS): Promise<DotnetInstall | undefined> {
  const root = dirname(real);
  const versionDirs = async (dir: string) => {
    const names = (await fs.listDir(dir)).filter((name) => /^\d+\.\d+\.\d+/.test(name));
    const dirs = await Promise.all(
      names.map(async (name) => ((await fs.isDirectory(join(dir, name))) ? name : undefined)),
    );
    return dirs.filter((name) => name !== undefined).sort(compareVersions);
  };
  if (!(await fs.exists(join(root, 'host', 'fxr')))) return undefined;
  const [sdks, runtimes] = await Promise.all([
    versionDirs(join(root, 'sdk')),
    versionDirs(join(root, 'shared', 'Microsoft.NETCore.App')),
  ]);
  return { sdks, runtimes };
}
