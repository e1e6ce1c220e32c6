/** The package ecosystems the app collector reports, one path segment each. */
export type Ecosystem = 'npm' | 'pypi' | 'go' | 'gem';

/** One package pinned by a lockfile. */
export interface LockedPackage {
  ecosystem: Ecosystem;
  /** The name as the ecosystem spells it (python names normalized per PEP 503). */
  name: string;
  /** The version as written in the lockfile, or the specifier of an unpinned requirement. */
  version: string;
  /**
   * True when the project itself declares the package, false when only pulled in by another
   * package, undefined when the format does not say.
   */
  direct?: boolean;
}

/** What a lockfile parser returns: its packages plus a few facts about the file itself. */
export interface ParsedLockfile {
  packages: LockedPackage[];
  /** Short strings stated by the file: `format` (e.g. `npm-v3`), `bundledWith`, `go`, `ruby`... */
  meta: Record<string, string>;
}

/** A pure parser: lockfile text in, packages out. Throws on text it cannot read. */
export type LockfileParser = (text: string) => ParsedLockfile;
