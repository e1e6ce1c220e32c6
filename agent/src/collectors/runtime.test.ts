import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestContext } from '../../testing/collector-context.js';
import { runtimeCollector } from './runtime.js';
import { PathIndex, pathDirectories } from './runtime-path.js';
import { clearProbeCache } from './runtime-probe.js';
import {
  ancestors,
  parseRustToolchainFile,
  parseVersionFile,
  resolveExecutable,
  type ShimEnvironment,
} from './runtime-shims.js';
import {
  cargoReleaseVersion,
  compareVersions,
  matchVersion,
  parseGoVersionFile,
  parseJavaRelease,
  parsePatchlevel,
  parsePythonDunderVersion,
  parseRbconfigVersion,
  parseRustupManifest,
  parseShebangInterpreter,
  VERSION_PATTERNS,
} from './runtime-versions.js';

const context = createTestContext();

/** stdout and stderr of a command run through the shell, as a user would type it (shims included). */
function shell(command: string): string | undefined {
  try {
    return execFileSync('/bin/sh', ['-c', `${command} 2>&1`], { encoding: 'utf8', timeout: 20_000 }).trim();
  } catch {
    return undefined;
  }
}

function onPath(command: string): boolean {
  return shell(`command -v ${command}`) !== undefined;
}

describe('version patterns', () => {
  it.each([
    ['node', 'v20.20.2', '20.20.2'],
    ['python', 'Python 3.11.7', '3.11.7'],
    ['python', 'Python 3.13.0rc1', '3.13.0rc1'],
    ['pip', 'pip 23.2.1 from /x/site-packages/pip (python 3.11)', '23.2.1'],
    ['java', 'openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment', '17.0.15'],
    ['java', 'java version "1.8.0_392"', '1.8.0_392'],
    ['go', 'go version go1.22.1 linux/amd64', '1.22.1'],
    ['ruby', 'ruby 3.1.2p20 (2022-04-12 revision 4491bb740a) [x86_64-linux-gnu]', '3.1.2'],
    ['ruby', 'ruby 3.4.1 (2024-12-25 revision 48d4efcb85) +PRISM [x86_64-linux]', '3.4.1'],
    ['php', 'PHP 8.2.7 (cli) (built: Jun  9 2023 19:37:27) (NTS)', '8.2.7'],
    ['rustc', 'rustc 1.97.0-nightly (e50aa6fba 2026-05-19)', '1.97.0-nightly'],
    ['cargo', 'cargo 1.95.0 (f2d3ce0bd 2026-03-21)', '1.95.0'],
    ['perl', 'v5.36.0', '5.36.0'],
    ['gcc', '12.2.0\n', '12.2.0'],
    ['deno', 'deno 1.40.0 (release, x86_64-unknown-linux-gnu)\nv8 12.1.285.6', '1.40.0'],
    ['bun', '1.1.0', '1.1.0'],
    ['dotnet', '8.0.100', '8.0.100'],
    ['plain', '10.9.2', '10.9.2'],
  ] as const)('%s: %j -> %s', (name, output, expected) => {
    expect(matchVersion(output, VERSION_PATTERNS[name])).toBe(expected);
  });

  it('reads version files', () => {
    expect(parsePatchlevel('#define PY_MINOR_VERSION 11\n#define PY_VERSION              "3.11.7"\n')).toBe('3.11.7');
    expect(parsePythonDunderVersion('from typing import List\n\n__version__ = "23.2.1"\n')).toBe('23.2.1');
    expect(parseJavaRelease('IMPLEMENTOR="Debian"\nJAVA_VERSION="17.0.15"\nJAVA_VERSION_DATE="2025-04-15"\n')).toBe(
      '17.0.15',
    );
    expect(parseGoVersionFile('go1.22.1\ntime 2024-02-29T18:18:48Z\n')).toBe('1.22.1');
    const manifest = '[pkg.cargo]\nversion = "0.96.0 (f2d3ce0bd 2026-03-21)"\n\n[pkg.rustc]\nversion = "1.95.0 (x)"\n';
    expect(parseRustupManifest(`manifest-version = "2"\n${manifest}`, 'rustc')).toBe('1.95.0');
    expect(parseRustupManifest(`manifest-version = "2"\n${manifest}`, 'cargo')).toBe('0.96.0');
    expect(parseRustupManifest(manifest, 'clippy')).toBeUndefined();
    expect(cargoReleaseVersion('0.96.0')).toBe('1.95.0');
    expect(cargoReleaseVersion('0.98.0-nightly')).toBe('1.97.0-nightly');
    expect(cargoReleaseVersion('1.0.0')).toBeUndefined();
    const rbconfig =
      'module RbConfig\n  RUBY_VERSION.start_with?("3.1.") or\n    raise "ruby lib version (3.1.2) doesn\'t match executable version (#{RUBY_VERSION})"\n';
    expect(parseRbconfigVersion(rbconfig)).toBe('3.1.2');
    expect(parseRbconfigVersion('module RbConfig\nend\n')).toBeUndefined();
  });

  it('finds the interpreter of console scripts', () => {
    expect(parseShebangInterpreter('#!/usr/bin/python3\nimport sys\n')).toBe('/usr/bin/python3');
    expect(parseShebangInterpreter('#!/opt/venv/bin/python -E\n')).toBe('/opt/venv/bin/python');
    expect(parseShebangInterpreter("#!/bin/sh\n'''exec' \"/very/long/bin/python3.11\" \"$0\" \"$@\"\n' '''\n")).toBe(
      '/very/long/bin/python3.11',
    );
    expect(parseShebangInterpreter('#!/usr/bin/env python3\n')).toBeUndefined();
    expect(parseShebangInterpreter('\x7fELF')).toBeUndefined();
  });

  it('orders versions numerically, pre-releases first', () => {
    expect(['8.0.100', '6.0.420', '8.0.99', '8.0.100-preview.1', '10.0.100'].sort(compareVersions)).toEqual([
      '6.0.420',
      '8.0.99',
      '8.0.100-preview.1',
      '8.0.100',
      '10.0.100',
    ]);
  });

  it('parses version-manager files', () => {
    expect(parseVersionFile('# pinned\n3.11.7\n3.10.13 # fallback\n', true)).toEqual(['3.11.7', '3.10.13']);
    expect(parseVersionFile('3.2.2\n3.1.0\n', false)).toEqual(['3.2.2']);
    expect(parseRustToolchainFile('nightly-2024-01-01\n', true)).toBe('nightly-2024-01-01');
    expect(parseRustToolchainFile('[toolchain]\nchannel = "1.75.0"\ncomponents = ["clippy"]\n', false)).toBe('1.75.0');
    expect(parseRustToolchainFile('[toolchain]\npath = "/opt/rust"\n', false)).toBeUndefined();
    expect(ancestors('/a/b')).toEqual(['/a/b', '/a', '/']);
  });

  it('lists PATH directories without relative or repeated entries', () => {
    expect(pathDirectories('/usr/bin::.:bin:/usr/bin:/bin')).toEqual(['/usr/bin', '/bin']);
  });
});

describe('shim resolution', () => {
  const root = mkdtempSync(join(tmpdir(), 'envparity-shims-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const executable = (path: string, text = '#!/bin/sh\necho shim\n') => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    chmodSync(path, 0o755);
  };
  const home = join(root, 'home');
  const project = join(root, 'project', 'sub');
  mkdirSync(project, { recursive: true });
  executable(join(home, '.pyenv', 'shims', 'python3'));
  executable(join(home, '.pyenv', 'versions', '3.11.7', 'bin', 'python3'));
  executable(join(home, '.pyenv', 'versions', '3.12.1', 'bin', 'python3'));
  writeFileSync(join(home, '.pyenv', 'version'), '3.11.7\n');
  executable(join(root, 'usr', 'bin', 'python3'));
  executable(join(home, '.rustup-bin', 'rustup'));
  mkdirSync(join(home, '.cargo', 'bin'), { recursive: true });
  symlinkSync(join(home, '.rustup-bin', 'rustup'), join(home, '.cargo', 'bin', 'rustc'));
  executable(join(home, '.rustup', 'toolchains', 'stable-x86_64-unknown-linux-gnu', 'bin', 'rustc'));
  executable(join(home, '.rustup', 'toolchains', 'nightly-x86_64-unknown-linux-gnu', 'bin', 'rustc'));
  writeFileSync(join(home, '.rustup', 'settings.toml'), 'default_toolchain = "stable-x86_64-unknown-linux-gnu"\n');

  const path = [join(home, '.cargo', 'bin'), join(home, '.pyenv', 'shims'), join(root, 'usr', 'bin')];
  // /proc cannot hold a stray .python-version or rust-toolchain file, unlike the temp dir's parents.
  const environment = (env: NodeJS.ProcessEnv = {}, cwd = '/proc'): ShimEnvironment => ({
    env,
    cwd,
    home,
    index: new PathIndex(path),
  });
  const resolve = async (command: string, shim: ShimEnvironment) => {
    const found = await shim.index.find(command);
    if (!found) throw new Error(`${command} not found`);
    return resolveExecutable(command, found, shim);
  };

  it('follows the global pyenv version', async () => {
    const resolved = await resolve('python3', environment());
    expect(resolved.target).toBe(join(home, '.pyenv', 'versions', '3.11.7', 'bin', 'python3'));
    expect(resolved.opaqueShim).toBe(false);
  });

  it('prefers PYENV_VERSION, then a .python-version above the cwd', async () => {
    const byEnv = await resolve('python3', environment({ PYENV_VERSION: '3.12.1' }));
    expect(byEnv.target).toBe(join(home, '.pyenv', 'versions', '3.12.1', 'bin', 'python3'));
    writeFileSync(join(root, 'project', '.python-version'), '3.12.1\n');
    const byFile = await resolve('python3', environment({}, project));
    expect(byFile.target).toBe(join(home, '.pyenv', 'versions', '3.12.1', 'bin', 'python3'));
  });

  it('skips the shims directory for the system version', async () => {
    const resolved = await resolve('python3', environment({ PYENV_VERSION: 'system' }));
    expect(resolved.target).toBe(join(root, 'usr', 'bin', 'python3'));
  });

  it('gives up (runs the shim) on versions it cannot see installed', async () => {
    const resolved = await resolve('python3', environment({ PYENV_VERSION: '3.11' }));
    expect(resolved).toMatchObject({ target: join(home, '.pyenv', 'shims', 'python3'), opaqueShim: true });
  });

  it('resolves rustup proxies to the default or overriding toolchain', async () => {
    const byDefault = await resolve('rustc', environment());
    expect(byDefault.target).toBe(
      join(home, '.rustup', 'toolchains', 'stable-x86_64-unknown-linux-gnu', 'bin', 'rustc'),
    );
    const byEnv = await resolve('rustc', environment({ RUSTUP_TOOLCHAIN: 'nightly' }));
    expect(byEnv.target).toBe(join(home, '.rustup', 'toolchains', 'nightly-x86_64-unknown-linux-gnu', 'bin', 'rustc'));
    writeFileSync(join(root, 'project', 'rust-toolchain.toml'), '[toolchain]\nchannel = "nightly"\n');
    const byFile = await resolve('rustc', environment({}, project));
    expect(byFile.target).toBe(join(home, '.rustup', 'toolchains', 'nightly-x86_64-unknown-linux-gnu', 'bin', 'rustc'));
    const missing = await resolve('rustc', environment({ RUSTUP_TOOLCHAIN: 'beta' }));
    expect(missing.opaqueShim).toBe(true);
  });

  it('leaves ordinary executables alone', async () => {
    const shim = { ...environment(), index: new PathIndex([join(root, 'usr', 'bin')]) };
    const resolved = await resolve('python3', shim);
    expect(resolved).toMatchObject({ target: join(root, 'usr', 'bin', 'python3'), opaqueShim: false });
  });
});

/**
 * Every runtime found on this host must report exactly what the tool itself prints when run the
 * way a user runs it (through PATH, version-manager shims included).
 */
describe('runtimeCollector on this host', async () => {
  clearProbeCache();
  const facts = await runtimeCollector.collect(context);
  const cases: [name: string, command: string, extract: (output: string) => string | undefined][] = [
    ['npm', 'npm --version', (o) => o.split('\n').pop()],
    ['yarn', 'COREPACK_ENABLE_NETWORK=0 yarn --version', (o) => o.split('\n').pop()],
    ['pnpm', 'COREPACK_ENABLE_NETWORK=0 pnpm --version', (o) => o.split('\n').pop()],
    ['corepack', 'corepack --version', (o) => o],
    ['python', 'python3 --version', (o) => o.replace(/^Python /, '')],
    ['pip', 'pip3 --version', (o) => o.split(' ')[1]],
    ['java', 'java -version', (o) => o.split('"')[1]],
    ['go', 'go version', (o) => o.split(' ')[2]?.replace(/^go/, '')],
    ['ruby', 'ruby -e "print RUBY_VERSION"', (o) => o],
    ['php', 'php -r "echo PHP_VERSION;"', (o) => o],
    ['rustc', 'rustc --version', (o) => o.split(' ')[1]],
    ['cargo', 'cargo --version', (o) => o.split(' ')[1]],
    ['perl', 'perl -e "print substr(\\$^V, 1)"', (o) => o],
    ['gcc', 'gcc -dumpfullversion -dumpversion', (o) => o],
    ['deno', 'deno --version', (o) => o.split('\n')[0]?.split(' ')[1]],
    ['bun', 'bun --version', (o) => o],
    ['dotnet', 'dotnet --version', (o) => o],
  ];

  it.skipIf(!onPath('node'))('reports node as `node --version` prints it, without the v', () => {
    expect(facts['runtime.node.version']).toBe(shell('node --version')?.replace(/^v/, ''));
  });

  it.each(cases)('reports %s as the tool itself does', (name, command, extract) => {
    const binary = command.replace(/^(\w+=\S+ )*/, '').split(' ')[0] as string;
    const pathBinary = name === 'python' ? 'python3' : name === 'pip' ? 'pip3' : binary;
    if (!onPath(pathBinary)) {
      expect(facts[`runtime.${name}.version`]).toBeUndefined();
      return;
    }
    const output = shell(command);
    const expected = output === undefined ? undefined : extract(output);
    expect(facts[`runtime.${name}.version`]).toBe(expected);
  });

  it('reports only strings and short arrays', () => {
    for (const value of Object.values(facts)) {
      if (Array.isArray(value)) for (const item of value) expect(typeof item).toBe('string');
      else expect(typeof value).toBe('string');
    }
  });

  it('answers a second pass from its cache quickly', async () => {
    const started = performance.now();
    const again = await runtimeCollector.collect(context);
    expect(again).toEqual(facts);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
