/** Pure parsers behind the os collector: os-release(5), /etc/default/locale, /proc/stat. */
import { parseKeyValueText } from './os-files.js';

export interface DistroInfo {
  id?: string;
  idLike?: string;
  name?: string;
  prettyName?: string;
  version?: string;
  codename?: string;
}

/** Reads the fields of an os-release file that identify the distribution. */
export function parseOsRelease(text: string): DistroInfo {
  const fields = parseKeyValueText(text);
  const info: DistroInfo = {};
  if (fields.ID) info.id = fields.ID;
  if (fields.ID_LIKE) info.idLike = fields.ID_LIKE;
  if (fields.NAME) info.name = fields.NAME;
  if (fields.PRETTY_NAME) info.prettyName = fields.PRETTY_NAME;
  if (fields.VERSION_ID) info.version = fields.VERSION_ID;
  const codename = fields.VERSION_CODENAME || fields.UBUNTU_CODENAME || codenameFromVersion(fields.VERSION);
  if (codename) info.codename = codename;
  return info;
}

/** Older os-release files only carry the codename inside VERSION: `8 (jessie)`, `20.04.6 LTS (Focal Fossa)`. */
function codenameFromVersion(version: string | undefined): string | undefined {
  const match = version ? /\(([^)]+)\)/.exec(version) : null;
  if (!match) return undefined;
  const word = (match[1] as string).trim().split(/\s+/)[0];
  return word ? word.toLowerCase() : undefined;
}

/** `LANG` from /etc/default/locale or /etc/locale.conf. */
export function parseLocaleFile(text: string): string | undefined {
  const fields = parseKeyValueText(text);
  return fields.LC_ALL || fields.LANG || undefined;
}

/** Boot time in seconds since the epoch, from the `btime` line of /proc/stat. */
export function parseBootTime(procStat: string): number | undefined {
  const match = /^btime\s+(\d+)\s*$/m.exec(procStat);
  return match ? Number(match[1]) : undefined;
}

/** The zone name of a /etc/localtime symlink target: `/usr/share/zoneinfo/Europe/Paris` -> `Europe/Paris`. */
export function zoneFromLocaltimeLink(target: string): string | undefined {
  const index = target.indexOf('zoneinfo/');
  if (index < 0) return undefined;
  const zone = target.slice(index + 'zoneinfo/'.length).replace(/^(posix|right)\//, '');
  return zone || undefined;
}

/** Names of Coordinated Universal Time in the tz database, all links to `Etc/UTC`. */
const UTC_ALIASES = new Set(['UTC', 'UCT', 'Universal', 'Zulu', 'Etc/UTC', 'Etc/UCT', 'Etc/Universal', 'Etc/Zulu']);

/**
 * The zone name with the UTC aliases folded into `UTC`, so that hosts configured with `Etc/UTC`
 * and `UTC` (identical behaviour) compare equal. Other names are kept as configured: asking ICU
 * to canonicalise them costs ~25 ms of blocked event loop on its first use.
 */
export function canonicalTimeZone(zone: string): string {
  return UTC_ALIASES.has(zone) ? 'UTC' : zone;
}
