/**
 * OpenSSL and the C library of the host in host mode, from the host's files only (no host binary
 * can be assumed to run in the agent's container, and none is ever executed):
 * - OpenSSL: the version banner compiled into the host's libcrypto (`OpenSSL 3.0.13 30 Jan 2024`,
 *   `LibreSSL 3.8.2`), the text `openssl version` prints for its library;
 * - glibc: the release banner of the dynamic loader the host's /bin/sh names in its ELF header
 *   (`ld.so (Debian GLIBC 2.36-9) stable release version 2.36.`), or of libc.so.6 beside it;
 * - musl: musl does not spell its version in a file, so it is the upstream version of the `musl`
 *   apk package (`1.2.4-r2` -> `1.2.4`) when the host's apk database lists it.
 * What cannot be read is said in the document's errors.
 */
import { basename, dirname, posix } from 'node:path';
import { type FactMap, factPath } from '@envparity/shared';
import type { HostFs } from './host-fs.js';
import { elfInterpreter, glibcVersionFromBinary, glibcVersionFromFileName } from './library-system.js';
import type { CollectorContext } from './types.js';

const { join } = posix;

/** Library directories searched for libcrypto, plus every multiarch directory (`x86_64-linux-gnu`) in them. */
const LIBRARY_DIRS = ['/usr/lib64', '/lib64', '/usr/lib', '/lib', '/usr/local/lib64', '/usr/local/lib'];
const LIBCRYPTO = /^libcrypto\.so\.(\d+(?:\.\d+)*)$/;
/** Programs whose ELF header names the host's dynamic loader. */
const LOADER_PROBES = ['/bin/sh', '/usr/bin/env', '/bin/ls'];

/** The library directories of the host: the standard ones and their `<arch>-linux-<abi>` subdirectories. */
async function libraryDirs(host: HostFs): Promise<string[]> {
  const dirs: string[] = [];
  for (const dir of LIBRARY_DIRS) {
    for (const name of (await host.listDir(dir)).sort()) {
      if (/^[a-z0-9_]+-linux-[a-z0-9_]+$/.test(name)) dirs.push(join(dir, name));
    }
    dirs.push(dir);
  }
  return dirs;
}

/** `OpenSSL 3.0.13 30 Jan 2024` or `LibreSSL 3.8.2` inside a libcrypto file. */
export function opensslVersionFromLibrary(content: Buffer): { flavor: string; version: string } | undefined {
  const text = content.toString('latin1');
  const openssl = /OpenSSL (\d+\.\d+\.\d+[a-z]?(?:-[a-z0-9]+)?) +\d{1,2} [A-Z][a-z]{2} \d{4}/.exec(text);
  if (openssl) return { flavor: 'OpenSSL', version: openssl[1] as string };
  const libressl = /LibreSSL (\d+\.\d+\.\d+)\0/.exec(text);
  return libressl ? { flavor: 'LibreSSL', version: libressl[1] as string } : undefined;
}

/**
 * Orders libcrypto sonames newest first, their versions compared number by number (what a numeric
 * localeCompare gave: 3 before 1.1.1 before 1.1). Not localeCompare itself: its first call maps ~3 MB
 * of ICU collation data of the node binary, which then stays in the daemon's RSS.
 */
export function newerSonameFirst(a: string, b: string): number {
  const left = sonameVersion(a);
  const right = sonameVersion(b);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    // A version that runs out first is the older one (1.1 before 1.1.1).
    const difference = (right[i] ?? -1) - (left[i] ?? -1);
    if (difference !== 0) return difference;
  }
  return 0;
}

function sonameVersion(name: string): number[] {
  return (LIBCRYPTO.exec(name)?.[1] ?? '').split('.').filter(Boolean).map(Number);
}

/** `library.openssl.version` (or `library.libressl.version`) from the host's newest libcrypto. */
export async function hostOpensslFacts(host: HostFs, context: Pick<CollectorContext, 'reportError'>): Promise<FactMap> {
  const candidates: string[] = [];
  for (const dir of await libraryDirs(host)) {
    const names = (await host.listDir(dir)).filter((name) => LIBCRYPTO.test(name));
    // The highest soname first: libcrypto.so.3 before a compatibility libcrypto.so.1.1.
    names.sort(newerSonameFirst);
    candidates.push(...names.map((name) => join(dir, name)));
  }
  for (const file of candidates) {
    const content = await host.readBuffer(file);
    const found = content ? opensslVersionFromLibrary(content) : undefined;
    if (found) {
      return { [factPath('library', found.flavor === 'LibreSSL' ? 'libressl' : 'openssl', 'version')]: found.version };
    }
  }
  if (candidates.length > 0) {
    context.reportError?.(`openssl: no version banner in ${candidates[0]} under the host root`);
  }
  return {};
}

/** The upstream part of an apk version: `1.2.4-r2` -> `1.2.4`. */
function apkUpstream(version: string): string {
  return version.replace(/-r\d+$/, '');
}

/** `library.glibc.version` or `library.musl.version` of the host, from its files (see the file comment). */
export async function hostLibcFacts(
  host: HostFs,
  apkPackages: FactMap,
  context: Pick<CollectorContext, 'reportError'>,
): Promise<FactMap> {
  const musl = apkPackages[factPath('library', 'apk', 'musl')];
  let interpreter: string | undefined;
  for (const program of LOADER_PROBES) {
    const head = await host.readHead(program, 4096);
    interpreter = head ? elfInterpreter(head) : undefined;
    if (interpreter) break;
  }
  if (interpreter && /\/ld-musl-/.test(interpreter)) {
    if (typeof musl === 'string') return { [factPath('library', 'musl', 'version')]: apkUpstream(musl) };
    context.reportError?.('musl: its version is in no file of the host and no apk package names it');
    return {};
  }
  if (interpreter) {
    const loader = (await host.realpath(interpreter)) ?? interpreter;
    const version =
      glibcVersionFromFileName(loader) ??
      glibcFromBanner(await host.readBuffer(loader)) ??
      glibcFromBanner(await host.readBuffer(join(dirname(loader), 'libc.so.6')));
    if (version) return { [factPath('library', 'glibc', 'version')]: version };
    context.reportError?.(`glibc: no release banner in ${basename(loader)} under the host root`);
    return {};
  }
  if (typeof musl === 'string') return { [factPath('library', 'musl', 'version')]: apkUpstream(musl) };
  context.reportError?.('C library: no dynamically linked /bin/sh under the host root names its loader');
  return {};
}

function glibcFromBanner(content: Buffer | undefined): string | undefined {
  return content ? glibcVersionFromBinary(content) : undefined;
}
