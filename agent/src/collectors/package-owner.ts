/**
 * Which OS package installed a file, and that package's upstream version: how host mode names the
 * version of a runtime whose own files do not spell it (a distribution's python3.11 without its
 * -dev headers, Debian's nodejs, openjdk, gcc), since no host binary is ever run. Read from the
 * host's package databases: dpkg's `/var/lib/dpkg/info/<package>.list` file lists and status file,
 * apk's installed database (`F:` directory and `R:` file lines of each package).
 */
import { posix } from 'node:path';
import type { HostFs } from './host-fs.js';
import { parseApkPackages } from './library-apk.js';
import { scanDpkgStanzas } from './library-dpkg.js';

const DPKG_INFO = '/var/lib/dpkg/info';
const DPKG_STATUS = '/var/lib/dpkg/status';
const APK_INSTALLED = '/lib/apk/db/installed';

export interface PackageOwner {
  manager: 'dpkg' | 'apk';
  name: string;
  /** The package version as the database has it (`3.11.2-6+deb12u1`, `3.11.8-r0`). */
  version: string;
}

/**
 * The upstream version inside a package version: without the epoch (`1:`), the Debian revision or
 * apk release (`-6+deb12u1`, `-r0`), and repack suffixes after `+` or `~` (`18.19.0+dfsg`,
 * `9.2.0~ds1`, a JDK's `17.0.14+7` build number).
 */
export function upstreamVersion(version: string): string {
  const withoutEpoch = version.replace(/^\d+:/, '');
  const dash = withoutEpoch.lastIndexOf('-');
  const upstream = dash > 0 ? withoutEpoch.slice(0, dash) : withoutEpoch;
  return upstream.split(/[+~]/, 1)[0] as string;
}

/** The same file under merged /usr: `/bin/x` and `/usr/bin/x` name one file, and a database may list either. */
function aliases(path: string): string[] {
  const usr = path.startsWith('/usr/') ? path.slice(4) : `/usr${path}`;
  return [path, usr];
}

/** Finds package owners of host files; the databases are read once, on the first question. */
export class PackageOwners {
  private index: Promise<Map<string, PackageOwner>> | undefined;

  constructor(private readonly host: HostFs) {}

  /** The package that installed `hostPath` (a real path), or undefined. */
  async ownerOf(hostPath: string): Promise<PackageOwner | undefined> {
    this.index ??= this.build();
    const index = await this.index;
    for (const path of aliases(posix.normalize(hostPath))) {
      const owner = index.get(path);
      if (owner) return owner;
    }
    return undefined;
  }

  private async build(): Promise<Map<string, PackageOwner>> {
    const index = new Map<string, PackageOwner>();
    await Promise.all([this.addDpkg(index), this.addApk(index)]);
    return index;
  }

  private async addDpkg(index: Map<string, PackageOwner>): Promise<void> {
    const status = await this.host.readText(DPKG_STATUS);
    if (status === undefined) return;
    const versions = new Map<string, string>();
    for (const stanza of scanDpkgStanzas(status)) {
      if (stanza.package && stanza.version && stanza.status?.endsWith(' installed')) {
        versions.set(stanza.package, stanza.version);
        if (stanza.architecture) versions.set(`${stanza.package}:${stanza.architecture}`, stanza.version);
      }
    }
    const lists = (await this.host.listDir(DPKG_INFO)).filter((name) => name.endsWith('.list'));
    await Promise.all(
      lists.map(async (list) => {
        const name = list.slice(0, -'.list'.length);
        const version = versions.get(name);
        if (version === undefined) return;
        const text = await this.host.readText(posix.join(DPKG_INFO, list));
        const owner: PackageOwner = { manager: 'dpkg', name: name.replace(/:.*$/, ''), version };
        for (const line of text?.split('\n') ?? []) if (line.startsWith('/')) index.set(line, owner);
      }),
    );
  }

  private async addApk(index: Map<string, PackageOwner>): Promise<void> {
    const text = await this.host.readText(APK_INSTALLED);
    if (text === undefined) return;
    const versions = new Map(parseApkPackages(text).map((pkg) => [pkg.name, pkg.version]));
    let owner: PackageOwner | undefined;
    let dir = '';
    for (const line of text.split('\n')) {
      if (line.startsWith('P:')) {
        const name = line.slice(2);
        const version = versions.get(name);
        owner = version === undefined ? undefined : { manager: 'apk', name, version };
        dir = '';
      } else if (line.startsWith('F:')) dir = line.slice(2);
      else if (line.startsWith('R:') && owner) index.set(`/${posix.join(dir, line.slice(2))}`, owner);
      else if (line === '') owner = undefined;
    }
  }
}
