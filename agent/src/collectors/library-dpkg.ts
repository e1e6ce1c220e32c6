/**
 * Parser for dpkg's status database (/var/lib/dpkg/status), written to print exactly what
 * `dpkg-query -W` prints (its default format is `${binary:Package}\t${Version}`):
 * - the name carries `:arch` when the package is `Multi-Arch: same`, or when its architecture is
 *   neither `all` nor the native one (dpkg's "non-ambiguous" package name);
 * - the version is dpkg's canonical form: the epoch is shown only when it is not 0.
 * Only packages whose files are on disk are kept: status `installed`, `triggers-pending` or
 * `triggers-awaited`, whatever the selection (`install`, `hold`, `deinstall`, `purge`). Packages that
 * are `config-files`, `half-installed`, `unpacked`, `half-configured` or `not-installed` are skipped.
 */

/** Package states whose files are installed and configured. */
const INSTALLED_STATES = new Set(['installed', 'triggers-pending', 'triggers-awaited']);

export interface DpkgPackage {
  /** The bare package name (`libc6`). */
  name: string;
  /** The name as `dpkg-query -W` prints it (`libc6:amd64` for Multi-Arch: same packages). */
  queryName: string;
  version: string;
  architecture?: string;
  multiArch?: string;
  /** Selection, flag and state words of the Status field (`install ok installed`). */
  status: string;
}

export interface DpkgParseOptions {
  /**
   * dpkg's native architecture (`dpkg --print-architecture`). Defaults to the architecture of the
   * installed `dpkg` package in the same file, which is the native one on every real system.
   */
  nativeArch?: string;
}

/** The fields of one status stanza that decide what `dpkg-query -W` prints. */
export interface DpkgStanza {
  package?: string;
  status?: string;
  version?: string;
  architecture?: string;
  multiArch?: string;
}

/**
 * Splits a status file into stanzas, keeping only the five fields that matter. A hand-rolled scan
 * (no per-field maps, no joined continuation lines): a 700-package status file takes a few ms.
 * Field names are matched case-insensitively, as deb822 requires; CRLF line ends are tolerated.
 */
export function scanDpkgStanzas(text: string): DpkgStanza[] {
  const stanzas: DpkgStanza[] = [];
  let current: DpkgStanza = {};
  let inStanza = false;
  let pos = 0;
  while (pos <= text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const lineEnd = end > pos && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    const first = text.charCodeAt(pos);
    if (lineEnd === pos) {
      if (inStanza) stanzas.push(current);
      current = {};
      inStanza = false;
    } else if (first !== 32 && first !== 9) {
      const colon = text.indexOf(':', pos);
      if (colon > pos && colon < lineEnd) {
        inStanza = true;
        // Only names as long as a wanted one are looked at: most lines are other fields.
        if (WANTED_LENGTHS.has(colon - pos)) {
          const key = FIELD_KEYS[text.slice(pos, colon).toLowerCase()];
          if (key) current[key] = text.slice(colon + 1, lineEnd).trim();
        }
      }
    }
    pos = end + 1;
  }
  if (inStanza) stanzas.push(current);
  return stanzas;
}

const FIELD_KEYS: Record<string, keyof DpkgStanza> = {
  package: 'package',
  status: 'status',
  version: 'version',
  architecture: 'architecture',
  'multi-arch': 'multiArch',
};
const WANTED_LENGTHS = new Set(Object.keys(FIELD_KEYS).map((name) => name.length));

/** dpkg's canonical rendering of a version: `0:1.2-3` -> `1.2-3`, `01:1.2` -> `1:1.2`. */
export function canonicalDpkgVersion(version: string): string {
  const trimmed = version.trim();
  const match = /^(\d+):(.*)$/.exec(trimmed);
  if (!match) return trimmed;
  const epoch = Number(match[1]);
  const rest = match[2] as string;
  return epoch === 0 && !rest.includes(':') ? rest : `${epoch}:${rest}`;
}

/**
 * The installed packages of a status file, with the names and versions `dpkg-query -W` prints.
 * `text` may also be the status file followed by the pending journal entries of
 * /var/lib/dpkg/updates/ (in name order), which dpkg-query applies on top of it: a later stanza for
 * the same package and architecture replaces the earlier one.
 */
export function parseDpkgPackages(text: string | readonly string[], options: DpkgParseOptions = {}): DpkgPackage[] {
  const latest = new Map<string, DpkgStanza>();
  for (const part of typeof text === 'string' ? [text] : text) {
    for (const stanza of scanDpkgStanzas(part)) {
      if (stanza.package) latest.set(`${stanza.package}\0${stanza.architecture ?? ''}`, stanza);
    }
  }
  const stanzas = [...latest.values()];
  const nativeArch =
    options.nativeArch ?? stanzas.find((s) => s.package === 'dpkg' && isInstalled(s.status))?.architecture;
  const packages: DpkgPackage[] = [];
  for (const stanza of stanzas) {
    const { package: name, status, version } = stanza;
    if (!name || !version || !isInstalled(status)) continue;
    const architecture = stanza.architecture || undefined;
    const multiArch = stanza.multiArch?.toLowerCase() || undefined;
    const qualified =
      architecture !== undefined &&
      (multiArch === 'same' || (architecture !== 'all' && nativeArch !== undefined && architecture !== nativeArch));
    const pkg: DpkgPackage = {
      name,
      queryName: qualified ? `${name}:${architecture}` : name,
      version: canonicalDpkgVersion(version),
      status: (status as string).replace(/\s+/g, ' '),
    };
    if (architecture) pkg.architecture = architecture;
    if (multiArch) pkg.multiArch = multiArch;
    packages.push(pkg);
  }
  return packages;
}

function isInstalled(status: string | undefined): boolean {
  if (!status) return false;
  // The state is the last of the three words (`install ok installed`).
  return INSTALLED_STATES.has(status.slice(status.lastIndexOf(' ') + 1));
}

/** Name -> version, names as `dpkg-query -W` prints them, sorted by name. */
export function parseDpkgStatus(text: string | readonly string[], options: DpkgParseOptions = {}): Map<string, string> {
  const packages = parseDpkgPackages(text, options).sort((a, b) =>
    a.queryName < b.queryName ? -1 : a.queryName > b.queryName ? 1 : 0,
  );
  return new Map(packages.map((pkg) => [pkg.queryName, pkg.version]));
}
