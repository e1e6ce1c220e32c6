import { open, readFile } from 'node:fs/promises';
import { basename, posix } from 'node:path';
import { type FactMap, type FactValue, factPath } from '@envparity/shared';
import { detachedValue } from '../detached-strings.js';
import type { HostFs } from './host-fs.js';
import { parseApkInstalled } from './library-apk.js';
import { parseDpkgStatus } from './library-dpkg.js';
import { hostLibcFacts, hostOpensslFacts } from './library-host.js';
import { parseRpmQuery, RPM_QUERY_FORMAT } from './library-rpm.js';
import {
  elfInterpreter,
  glibcVersionFromBinary,
  glibcVersionFromFileName,
  type LoadedLibc,
  libcFromMaps,
  parseMuslLoaderOutput,
  parseOpensslVersion,
} from './library-system.js';
import { requireFacts } from './os-files.js';
import { findSystemTool } from './runtime-path.js';
import { probeVersion } from './runtime-probe.js';
import { safeRealpath } from './runtime-shims.js';
import { type Collector, type CollectorContext, hostFsOf } from './types.js';

const { join } = posix;

const DPKG_STATUS = '/var/lib/dpkg/status';
const DPKG_UPDATES = '/var/lib/dpkg/updates';
const APK_INSTALLED = '/lib/apk/db/installed';
const RPM_DATABASES = ['/var/lib/rpm', '/usr/lib/sysimage/rpm'];
const RPM_TIMEOUT_MS = 8_000;

/**
 * System libraries and OS packages: OpenSSL (the host's, and the one node embeds), the C library
 * (glibc or musl) and every installed dpkg, rpm or apk package with its version. The dpkg and apk
 * databases are parsed directly; rpm's is queried with `rpm -qa`.
 *
 * In host mode (library-host.ts) the databases are the host's under the root, rpm's is queried by
 * the agent's own `rpm --dbpath`, and OpenSSL and the C library are read from the host's files
 * (the libcrypto banner, the dynamic loader named by the host's /bin/sh); nothing of the host runs.
 */
export const libraryCollector: Collector = {
  name: 'library',
  async collect(context) {
    const host = hostFsOf(context);
    const facts: FactMap = {};
    const apk = cachedPackages(host, [APK_INSTALLED], 'apk', (texts) => parseApkInstalled(texts.join('\n')));
    const parts = await Promise.all([
      host.hostMode ? hostOpensslFacts(host, context) : opensslFacts(context),
      host.hostMode ? apk.then((packages) => hostLibcFacts(host, packages, context)) : libcFacts(context),
      dpkgFacts(host),
      apk,
      rpmFacts(context, host),
    ]);
    for (const part of parts) Object.assign(facts, part);
    return requireFacts('library', facts);
  },
};

async function opensslFacts(context: CollectorContext): Promise<FactMap> {
  const facts: FactMap = {};
  if (process.versions.openssl) facts[factPath('library', 'openssl', 'node')] = process.versions.openssl;
  const tool = await findSystemTool('openssl');
  if (!tool) return facts;
  const output = await probeVersion(context, tool, ['version'], (text) => {
    const parsed = parseOpensslVersion(text);
    return parsed ? `${parsed.flavor} ${parsed.version}` : undefined;
  });
  if (output) {
    const [flavor, version] = output.split(' ') as [string, string];
    facts[factPath('library', flavor === 'LibreSSL' ? 'libressl' : 'openssl', 'version')] = version;
  }
  return facts;
}

/**
 * The C library of this host, as the agent's own node binary loads it. The loader named in node's
 * ELF header says which: glibc's `ld-linux-*.so.2` carries the glibc banner (and is ~10x smaller
 * than libc.so.6), musl's `ld-musl-*.so.1` is musl itself. /proc/self/maps is the fallback.
 */
async function libcFacts(context: CollectorContext): Promise<FactMap> {
  const libc = (await libcFromInterpreter()) ?? (await libcFromProcMaps());
  if (!libc) return {};
  if (libc.kind === 'glibc') {
    const version = glibcVersionFromFileName(libc.path) ?? (await glibcVersionFromFile(libc.path));
    return version ? { [factPath('library', 'glibc', 'version')]: version } : {};
  }
  const version = await probeVersion(context, libc.path, [], parseMuslLoaderOutput);
  return version ? { [factPath('library', 'musl', 'version')]: version } : {};
}

async function libcFromInterpreter(): Promise<LoadedLibc | undefined> {
  let head: Buffer;
  try {
    const handle = await open(process.execPath, 'r');
    try {
      head = Buffer.alloc(4096);
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
  const interpreter = elfInterpreter(head);
  if (!interpreter) return undefined;
  const path = await safeRealpath(interpreter);
  const name = basename(path);
  if (/^ld-musl-/.test(name)) return { kind: 'musl', path };
  if (/^ld-linux|^ld-\d|^ld64\.so|^ld\.so/.test(name)) return { kind: 'glibc', path };
  return undefined;
}

async function libcFromProcMaps(): Promise<LoadedLibc | undefined> {
  // The agent's own process, deliberately: outside host mode the C library node loads is the host's.
  const maps = await readFile('/proc/self/maps', 'utf8').catch(() => undefined);
  return maps ? libcFromMaps(maps) : undefined;
}

async function glibcVersionFromFile(path: string): Promise<string | undefined> {
  try {
    return glibcVersionFromBinary(await readFile(path));
  } catch {
    return undefined;
  }
}

interface PackageCacheEntry {
  signature: string;
  facts: FactMap;
}

/** Parsed package databases, reused while their files' inode, size and mtime stay the same. */
const packageCache = new Map<string, PackageCacheEntry>();

/** dpkg's status file plus its pending journal (/var/lib/dpkg/updates/NNNN), as dpkg-query reads them. */
async function dpkgFacts(host: HostFs): Promise<FactMap> {
  const journal = (await host.listDir(DPKG_UPDATES)).filter((name) => /^\d+$/.test(name)).sort();
  const files = [DPKG_STATUS, ...journal.map((name) => join(DPKG_UPDATES, name))];
  return cachedPackages(host, files, 'dpkg', (texts) => parseDpkgStatus(texts));
}

/** Parses the database files (the first one must exist) into `library.<manager>.<name>` facts. */
async function cachedPackages(
  host: HostFs,
  files: readonly string[],
  manager: string,
  parse: (texts: string[]) => Map<string, FactValue>,
): Promise<FactMap> {
  const infos = await Promise.all(files.map((file) => host.stat(file)));
  if (!infos[0]) return {};
  const signature = JSON.stringify(files.map((file, i) => [file, infos[i]?.ino, infos[i]?.size, infos[i]?.mtimeMs]));
  const cacheKey = `${host.root}\0${manager}`;
  const cached = packageCache.get(cacheKey);
  if (cached?.signature === signature) return cached.facts;
  // Names, versions and states are ASCII; latin1 decoding is cheaper than UTF-8 and leaves them as is.
  const texts = (await Promise.all(files.map((file) => host.readBuffer(file)))).map((bytes) =>
    bytes?.toString('latin1'),
  );
  if (texts[0] === undefined) return {};
  const facts: FactMap = {};
  for (const [name, version] of parse(texts.filter((text) => text !== undefined))) {
    // Kept in packageCache between passes: its own characters, not views into the database text.
    facts[factPath('library', manager, name)] = detachedValue(version);
  }
  packageCache.set(cacheKey, { signature, facts });
  return facts;
}

/**
 * `rpm -qa`. In host mode the agent's own rpm (never the host's) reads the host's database with
 * `--dbpath`; without an rpm in the agent's image the database cannot be read, which the errors say.
 */
async function rpmFacts(context: CollectorContext, host: HostFs): Promise<FactMap> {
  const found = await Promise.all(RPM_DATABASES.map(async (dir) => ((await host.isDirectory(dir)) ? dir : undefined)));
  const database = found.find((dir) => dir !== undefined);
  if (!database) return {};
  const rpm = await findSystemTool('rpm');
  if (!rpm) {
    if (host.hostMode)
      context.reportError?.(
        `rpm database ${database} found under the host root, but the agent has no rpm to read it: library.rpm.* not reported`,
      );
    return {};
  }
  try {
    const dbArgs = host.hostMode ? ['--dbpath', await host.local(database)] : [];
    const result = await context.exec(rpm, [...dbArgs, '-qa', '--qf', RPM_QUERY_FORMAT], {
      timeoutMs: RPM_TIMEOUT_MS,
    });
    if (host.hostMode && (result.timedOut || result.code !== 0)) {
      context.reportError?.(`rpm --dbpath ${database} under the host root failed: library.rpm.* not reported`);
    }
    if (result.timedOut || result.code !== 0) return {};
    const facts: FactMap = {};
    for (const [name, version] of parseRpmQuery(result.stdout)) facts[factPath('library', 'rpm', name)] = version;
    return facts;
  } catch {
    return {};
  }
}
