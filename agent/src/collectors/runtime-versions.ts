/** Pure parsers that turn version outputs and version files into clean version strings. */

/** `v20.20.2` -> `20.20.2`. */
export function stripV(version: string): string {
  return version.replace(/^v(?=\d)/, '');
}

/** Output patterns of `<tool> --version` (or the args the runtime table uses); group 1 is the version. */
export const VERSION_PATTERNS = {
  node: /^v?(\d+\.\d+\.\d+\S*)/m,
  python: /^Python (\d\S*)/m,
  pip: /^pip (\d\S*)/m,
  java: /\bversion "([^"]+)"/,
  go: /\bgo version go(\d\S*)/,
  ruby: /^ruby (\d+\.\d+\.\d+[a-z0-9.]*?)(?:p\d+)?[\s(]/m,
  php: /^PHP (\d\S*)/m,
  rustc: /^rustc (\d\S*)/m,
  cargo: /^cargo (\d\S*)/m,
  perl: /^v?(\d+\.\d+\.\d+)/m,
  gcc: /^(\d+(?:\.\d+)*)\s*$/m,
  deno: /^deno (\d\S*)/m,
  bun: /^(\d+\.\d+\.\d+\S*)/m,
  dotnet: /^(\d+\.\d+\.\d+\S*)/m,
  plain: /^v?(\d+(?:\.\d+)+\S*)/m,
} as const;

/** The first capture of `pattern` in `text`, trimmed; undefined when it does not match. */
export function matchVersion(text: string, pattern: RegExp): string | undefined {
  const version = pattern.exec(text)?.[1]?.trim();
  return version ? version : undefined;
}

/** `#define PY_VERSION "3.11.7"` from CPython's patchlevel.h. */
export function parsePatchlevel(text: string): string | undefined {
  return /^#define\s+PY_VERSION\s+"([^"]+)"/m.exec(text)?.[1];
}

/** `#define NODE_MAJOR_VERSION 20` ... from node's include/node/node_version.h -> `20.11.1`. */
export function parseNodeVersionHeader(text: string): string | undefined {
  const part = (name: string) => new RegExp(`^#define\\s+NODE_${name}_VERSION\\s+(\\d+)\\s*$`, 'm').exec(text)?.[1];
  const [major, minor, patch] = [part('MAJOR'), part('MINOR'), part('PATCH')];
  return major && minor && patch ? `${major}.${minor}.${patch}` : undefined;
}

/** `__version__ = "23.2.1"` from pip/__init__.py. */
export function parsePythonDunderVersion(text: string): string | undefined {
  return /^__version__\s*=\s*["']([^"']+)["']/m.exec(text)?.[1];
}

/** `JAVA_VERSION="17.0.15"` from a JDK's `release` file. */
export function parseJavaRelease(text: string): string | undefined {
  return /^JAVA_VERSION="?([^"\n]+)"?\s*$/m.exec(text)?.[1];
}

/** The first line of Go's VERSION file: `go1.22.1` -> `1.22.1`. */
export function parseGoVersionFile(text: string): string | undefined {
  return /^go(\d\S*)\s*$/m.exec(text.split('\n', 1)[0] ?? '')?.[1];
}

/** `version = "1.95.0 (59807616e 2026-04-14)"` of `[pkg.<name>]` in a rustup channel manifest -> `1.95.0`. */
export function parseRustupManifest(text: string, pkg: string): string | undefined {
  const start = text.indexOf(`\n[pkg.${pkg}]\n`);
  if (start < 0) return undefined;
  const section = text.slice(start + pkg.length + 8);
  const end = section.search(/^\[/m);
  const body = end < 0 ? section : section.slice(0, end);
  return /^version\s*=\s*"(\S+)/m.exec(body)?.[1];
}

/** cargo crate `0.96.0` -> release `1.95.0`; `0.98.0-nightly` -> `1.97.0-nightly`. */
export function cargoReleaseVersion(crateVersion: string): string | undefined {
  const match = /^0\.(\d+)\.(\d+)(-\S+)?$/.exec(crateVersion);
  if (!match || Number(match[1]) < 1) return undefined;
  return `1.${Number(match[1]) - 1}.${match[2]}${match[3] ?? ''}`;
}

/** The guard at the top of rbconfig.rb: `raise "ruby lib version (3.1.2) doesn't match executable version"`. */
export function parseRbconfigVersion(text: string): string | undefined {
  return /raise "ruby lib version \(([^)]+)\) doesn't match/.exec(text)?.[1];
}

/**
 * The interpreter a Python console script runs with: its `#!` line, or the `'''exec' "python" "$0"`
 * trampoline pip writes when the interpreter path is too long for a shebang.
 */
export function parseShebangInterpreter(text: string): string | undefined {
  const [first = '', second = ''] = text.split('\n', 2);
  if (!first.startsWith('#!')) return undefined;
  const command = first.slice(2).trim();
  if (/^\/bin\/(ba)?sh$/.test(command)) {
    return /^'''exec' "?([^"\s]+)"?/.exec(second)?.[1];
  }
  const [interpreter, ...rest] = command.split(/\s+/);
  if (!interpreter || interpreter.endsWith('/env')) return undefined;
  return rest.length > 0 && !rest.every((arg) => arg.startsWith('-')) ? undefined : interpreter;
}

/**
 * Compares dotted versions numerically (`8.0.100` > `8.0.99`); a pre-release (`-preview.1`) sorts
 * before its release, as in semver; non-numeric parts compare as text.
 */
export function compareVersions(a: string, b: string): number {
  const [coreA = '', preA] = splitPrerelease(a);
  const [coreB = '', preB] = splitPrerelease(b);
  const core = compareDotted(coreA, coreB);
  if (core !== 0) return core;
  if (preA === undefined || preB === undefined) return preA === preB ? 0 : preA === undefined ? 1 : -1;
  return compareDotted(preA, preB);
}

function splitPrerelease(version: string): [string, string | undefined] {
  const dash = version.indexOf('-');
  return dash < 0 ? [version, undefined] : [version.slice(0, dash), version.slice(dash + 1)];
}

function compareDotted(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = Number(x);
    const ny = Number(y);
    if (Number.isInteger(nx) && Number.isInteger(ny)) {
      if (nx !== ny) return nx - ny;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return 0;
}
