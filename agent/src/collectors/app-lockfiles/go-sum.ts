/**
 * go.sum: lines `module version hash`. A line whose version ends in `/go.mod` only checksums the
 * module's go.mod file, which the go command reads for version selection even for versions it
 * never builds, so those lines are ignored; the versions reported for a module are the ones with
 * a full-content hash (`module version h1:...`). A module with only `/go.mod` lines is not
 * reported. Stale go.sum files can hold several full versions of a module; all are reported (the
 * collector lets go.mod's version win when go.mod lists the module).
 * go.sum does not say which modules are direct (go.mod does).
 */
import { splitLines } from './common.js';
import type { LockedPackage, ParsedLockfile } from './types.js';

export function parseGoSum(text: string): ParsedLockfile {
  const packages: LockedPackage[] = [];
  for (const line of splitLines(text)) {
    const [module, version, hash] = line.trim().split(/\s+/);
    if (!module || !version || !hash || version.endsWith('/go.mod')) continue;
    packages.push({ ecosystem: 'go', name: module, version });
  }
  return { packages, meta: {} };
}
