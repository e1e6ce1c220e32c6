/**
 * Parser for Alpine's package database (/lib/apk/db/installed): one record per package, records
 * separated by a blank line, one `X:value` field per line. `P:` is the name and `V:` the version,
 * exactly as `apk info -v` joins them (`musl-1.2.4-r2`).
 */

export interface ApkPackage {
  name: string;
  version: string;
  architecture?: string;
}

export function parseApkPackages(text: string): ApkPackage[] {
  const packages: ApkPackage[] = [];
  let name: string | undefined;
  let version: string | undefined;
  let architecture: string | undefined;
  const flush = () => {
    if (name && version) packages.push(architecture ? { name, version, architecture } : { name, version });
    name = version = architecture = undefined;
  };
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line === '') {
      flush();
      continue;
    }
    if (line[1] !== ':') continue;
    const value = line.slice(2);
    if (line[0] === 'P') name = value;
    else if (line[0] === 'V') version = value;
    else if (line[0] === 'A') architecture = value;
  }
  flush();
  return packages;
}

/** Name -> version, sorted by name. */
export function parseApkInstalled(text: string): Map<string, string> {
  const packages = parseApkPackages(text).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return new Map(packages.map((pkg) => [pkg.name, pkg.version]));
}
