import { machine, release, uptime, version } from 'node:os';
import { type FactMap, factPath } from '@envparity/shared';
import { createHostFs, type HostFs, readFirstLineIn, readTrimmedIn } from './host-fs.js';
import { requireFacts } from './os-files.js';
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
import { type Collector, type CollectorContext, hostFsOf } from './types.js';

/** Point-release files: Debian's `12.5`, Alpine's `3.19.1`. */
const POINT_RELEASE_FILES = ['/etc/debian_version', '/etc/alpine-release'];

export interface OsCollectorOptions {
  /**
   * A directory holding `etc/`, `usr/lib/` and `proc/` in place of this machine's (tests hide or
   * replace the sources with it; not host mode). Default: the context's host files.
   */
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
  root,
  systemInformation = loadSystemInformation,
}: OsCollectorOptions = {}): Collector {
  const fixed = root === undefined ? undefined : createHostFs(root, { hostMode: false });
  return {
    name: 'os',
    collect: (context) => collectOs(fixed ?? hostFsOf(context), systemInformation, context),
  };
}

export const osCollector: Collector = createOsCollector();

/**
 * In host mode (`host.hostMode`) the kernel facts still come from node:os (a container runs on the
 * host's kernel), but the time zone and locale come from the host's files only, never from the
 * agent's TZ, LANG or JavaScript runtime, and without an os-release there is an error, not
 * systeminformation's view of the container.
 */
async function collectOs(
  host: HostFs,
  systemInformation: SystemInformationLoader,
  context: Pick<CollectorContext, 'reportError'>,
): Promise<FactMap> {
  const facts: FactMap = {};
  const set = (value: string | number | undefined, ...segments: string[]) => {
    if (value !== undefined && value !== '') facts[factPath('os', ...segments)] = value;
  };

  const [osRelease, pointRelease, timezone, locale, procStat] = await Promise.all([
    readOsRelease(host),
    firstReadable(host, POINT_RELEASE_FILES),
    systemTimeZone(host),
    systemLocale(host),
    host.readText('/proc/stat'),
  ]);
  // Only without os-release: the normal path never loads systeminformation. In host mode it would
  // describe the agent's container, so the distribution is reported missing instead.
  const fallback =
    osRelease === undefined && !host.hostMode ? await distroFromSystemInformation(systemInformation) : undefined;
  if (osRelease === undefined && host.hostMode) {
    context.reportError?.(`no /etc/os-release or /usr/lib/os-release under the host root ${host.root}`);
  }

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

async function readOsRelease(host: HostFs): Promise<string | undefined> {
  return (await host.readText('/etc/os-release')) ?? (await host.readText('/usr/lib/os-release'));
}

async function firstReadable(host: HostFs, paths: readonly string[]): Promise<string | undefined> {
  for (const path of paths) {
    const line = await readFirstLineIn(host, path);
    if (line) return line;
  }
  return undefined;
}

/**
 * The system time zone: `TZ` when the agent runs with one, else /etc/timezone, else the target of
 * the /etc/localtime link, else what the JavaScript runtime resolved. Canonicalised so aliases match.
 */
async function systemTimeZone(host: HostFs): Promise<string | undefined> {
  const tz = host.hostMode ? undefined : process.env.TZ?.replace(/^:/, '');
  if (tz && !tz.startsWith('/')) return canonicalTimeZone(tz);
  const fromFile = await readFirstLineIn(host, '/etc/timezone');
  if (fromFile) return canonicalTimeZone(fromFile);
  const link = await host.readLink('/etc/localtime');
  const fromLink = link ? zoneFromLocaltimeLink(link) : undefined;
  if (fromLink) return canonicalTimeZone(fromLink);
  if (host.hostMode) return undefined;
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || undefined;
  } catch {
    return undefined;
  }
}

/** The agent's effective locale (`LC_ALL`, then `LANG`), else the system default from the locale files. */
async function systemLocale(host: HostFs): Promise<string | undefined> {
  const fromEnv = host.hostMode ? undefined : process.env.LC_ALL || process.env.LANG;
  if (fromEnv) return fromEnv;
  for (const file of ['/etc/default/locale', '/etc/locale.conf']) {
    const text = await readTrimmedIn(host, file);
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
