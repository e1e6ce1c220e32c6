import { machine, release, uptime, version } from 'node:os';
import { join } from 'node:path';
import { type FactMap, factPath } from '@envparity/shared';
import { readFirstLine, readLinkTarget, readText, readTrimmed, requireFacts } from './os-files.js';
import {
  canonicalTimeZone,
  parseBootTime,
  parseLocaleFile,
  parseOsRelease,
  zoneFromLocaltimeLink,
} from './os-release.js';
import {
  distroFromSystemInformation,
  loadSystemInformation,
  type SystemInformationLoader,
} from './system-information.js';
import type { Collector } from './types.js';

/** Point-release files: Debian's `12.5`, Alpine's `3.19.1`. */
const POINT_RELEASE_FILES = ['etc/debian_version', 'etc/alpine-release'];

export interface OsCollectorOptions {
  /** The directory holding `etc/`, `usr/lib/` and `proc/` (default `/`; tests point it elsewhere). */
  root?: string;
  /** Loads systeminformation, the fallback for the distribution where no os-release file is readable. */
  systemInformation?: SystemInformationLoader;
}

/**
 * Operating system facts: platform, distribution (os-release), kernel, machine architecture,
 * time zone, locale, and the volatile uptime and boot time. Reads files only; never spawns, except
 * where no os-release file is readable (another OS, a minimal container): then systeminformation
 * names the distribution (system-information.ts), which runs `hostname -f` on Linux and macOS.
 */
export function createOsCollector({
  root = '/',
  systemInformation = loadSystemInformation,
}: OsCollectorOptions = {}): Collector {
  return { name: 'os', collect: () => collectOs(root, systemInformation) };
}

export const osCollector: Collector = createOsCollector();

async function collectOs(root: string, systemInformation: SystemInformationLoader): Promise<FactMap> {
  const facts: FactMap = {};
  const set = (value: string | number | undefined, ...segments: string[]) => {
    if (value !== undefined && value !== '') facts[factPath('os', ...segments)] = value;
  };

  const [osRelease, pointRelease, timezone, locale, procStat] = await Promise.all([
    readOsRelease(root),
    firstReadable(POINT_RELEASE_FILES.map((file) => join(root, file))),
    systemTimeZone(root),
    systemLocale(root),
    readText(join(root, 'proc/stat')),
  ]);
  // Only without os-release: the normal path never loads systeminformation.
  const fallback = osRelease === undefined ? await distroFromSystemInformation(systemInformation) : undefined;

  set(process.platform, 'platform');
  const distro = osRelease ? parseOsRelease(osRelease) : (fallback?.distro ?? {});
  set(distro.id, 'distro', 'id');
  set(distro.idLike, 'distro', 'idLike');
  set(distro.name, 'distro', 'name');
  set(distro.prettyName, 'distro', 'prettyName');
  set(distro.version, 'distro', 'version');
  set(distro.codename, 'distro', 'codename');
  set(pointRelease, 'distro', 'release');

  set(safe(release) || fallback?.kernel, 'kernel', 'release');
  set(safe(version), 'kernel', 'version');
  set(safe(machine), 'arch');
  set(timezone, 'timezone');
  set(locale, 'locale');

  const seconds = safe(uptime);
  if (seconds !== undefined) set(Math.floor(seconds), 'uptime');
  const bootTime = procStat ? parseBootTime(procStat) : undefined;
  if (bootTime !== undefined) set(new Date(bootTime * 1000).toISOString(), 'bootTime');
  return requireFacts('os', facts);
}

async function readOsRelease(root: string): Promise<string | undefined> {
  return (await readText(join(root, 'etc/os-release'))) ?? (await readText(join(root, 'usr/lib/os-release')));
}

async function firstReadable(paths: readonly string[]): Promise<string | undefined> {
  for (const path of paths) {
    const line = await readFirstLine(path);
    if (line) return line;
  }
  return undefined;
}

/**
 * The system time zone: `TZ` when the agent runs with one, else /etc/timezone, else the target of
 * the /etc/localtime link, else what the JavaScript runtime resolved. Canonicalised so aliases match.
 */
async function systemTimeZone(root: string): Promise<string | undefined> {
  const tz = process.env.TZ?.replace(/^:/, '');
  if (tz && !tz.startsWith('/')) return canonicalTimeZone(tz);
  const fromFile = await readFirstLine(join(root, 'etc/timezone'));
  if (fromFile) return canonicalTimeZone(fromFile);
  const link = await readLinkTarget(join(root, 'etc/localtime'));
  const fromLink = link ? zoneFromLocaltimeLink(link) : undefined;
  if (fromLink) return canonicalTimeZone(fromLink);
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || undefined;
  } catch {
    return undefined;
  }
}

/** The agent's effective locale (`LC_ALL`, then `LANG`), else the system default from the locale files. */
async function systemLocale(root: string): Promise<string | undefined> {
  const fromEnv = process.env.LC_ALL || process.env.LANG;
  if (fromEnv) return fromEnv;
  for (const file of ['etc/default/locale', 'etc/locale.conf']) {
    const text = await readTrimmed(join(root, file));
    const locale = text ? parseLocaleFile(text) : undefined;
    if (locale) return locale;
  }
  return undefined;
}

/** Calls a node:os function that may throw on exotic platforms. */
function safe<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
