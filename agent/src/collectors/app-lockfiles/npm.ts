/**
 * package-lock.json and npm-shrinkwrap.json.
 *
 * - lockfileVersion 2 and 3: the `packages` map. Keys are install paths
 *   (`node_modules/a/node_modules/@s/b`); the package name is what follows the last
 *   `node_modules/`. The root entry `""` and workspace folders (keys without `node_modules/`)
 *   are the project itself and are skipped, as are `link: true` entries (symlinks to workspaces
 *   or local folders), the folders links point to, keys that are not `node_modules/<name>` or
 *   `node_modules/@scope/<name>` at the end (a folder inside a package), and entries without a
 *   version.
 * - lockfileVersion 1 (no `packages` map): the nested `dependencies` tree.
 *
 * Direct: with a `packages` map, a package is direct when it is installed right under the root or
 * a workspace folder and the root or a workspace declares it (dependencies, devDependencies,
 * optionalDependencies). Version 1 files do not say, so `direct` stays undefined.
 */
import { declaredNames, isRecord, NPM_DEPENDENCY_FIELDS } from './common.js';
import type { LockedPackage, ParsedLockfile } from './types.js';

const NODE_MODULES = 'node_modules/';

export function parsePackageLock(text: string): ParsedLockfile {
  const doc: unknown = JSON.parse(text);
  if (!isRecord(doc)) throw new Error('the top level is not a JSON object');
  const meta: Record<string, string> = {};
  if (typeof doc.lockfileVersion === 'number' || typeof doc.lockfileVersion === 'string') {
    meta.format = `npm-v${doc.lockfileVersion}`;
  }
  if (isRecord(doc.packages)) return { packages: fromPackagesMap(doc.packages), meta };
  if (isRecord(doc.dependencies)) {
    const packages: LockedPackage[] = [];
    walkV1(doc.dependencies, packages);
    return { packages, meta };
  }
  return { packages: [], meta };
}

/** True for the root (`""`) and workspace folders: keys with no `node_modules` segment. */
function isProjectFolder(key: string): boolean {
  return !key.split('/').includes('node_modules');
}

/** `name` or `@scope/name`: a folder deeper inside a package is not an installed package. */
function isPackageName(name: string): boolean {
  return /^(@[^/]+\/)?[^/@][^/]*$/.test(name);
}

/** Offset of the last `node_modules/` that starts a path segment, or -1. */
function lastNodeModules(key: string): number {
  let at = key.lastIndexOf(NODE_MODULES);
  while (at > 0 && key[at - 1] !== '/') at = key.lastIndexOf(NODE_MODULES, at - 1);
  return at;
}

function fromPackagesMap(map: Record<string, unknown>): LockedPackage[] {
  const declared = new Set<string>();
  for (const [key, entry] of Object.entries(map)) {
    if (isProjectFolder(key) && isRecord(entry)) {
      for (const name of declaredNames(entry, NPM_DEPENDENCY_FIELDS)) declared.add(name);
    }
  }
  // Folders that links point to are local code, even when they sit inside node_modules.
  const linkTargets = new Set<string>();
  for (const entry of Object.values(map)) {
    if (isRecord(entry) && entry.link === true && typeof entry.resolved === 'string') linkTargets.add(entry.resolved);
  }
  const packages: LockedPackage[] = [];
  for (const [key, entry] of Object.entries(map)) {
    const at = lastNodeModules(key);
    if (at < 0 || !isRecord(entry) || entry.link === true || linkTargets.has(key)) continue;
    const name = key.slice(at + NODE_MODULES.length);
    if (!isPackageName(name) || typeof entry.version !== 'string' || entry.version === '') continue;
    const parent = key.slice(0, at).replace(/\/$/, '');
    packages.push({
      ecosystem: 'npm',
      name,
      version: entry.version,
      direct: isProjectFolder(parent) && declared.has(name),
    });
  }
  return packages;
}

function walkV1(dependencies: Record<string, unknown>, out: LockedPackage[]): void {
  for (const [name, entry] of Object.entries(dependencies)) {
    if (!isRecord(entry)) continue;
    if (typeof entry.version === 'string' && entry.version !== '') {
      out.push({ ecosystem: 'npm', name, version: entry.version });
    }
    if (isRecord(entry.dependencies)) walkV1(entry.dependencies, out);
  }
}
