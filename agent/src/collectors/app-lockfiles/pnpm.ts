/**
 * pnpm-lock.yaml, lockfile versions 5.x, 6.x and 9.x, read from the `packages` map:
 * - v5: `/name/1.2.3`, `/@scope/name/1.2.3`, peers after `_` (`/a/1.0.0_react@17.0.2`);
 * - v6: `/name@1.2.3`, `/@scope/name@1.2.3(react@18.0.0)`;
 * - v9: `name@1.2.3`, `'@scope/name@1.2.3'` (peer suffixes only in `snapshots`, which is ignored).
 * Peer suffixes are dropped: the version reported is `1.2.3`. When an entry carries its own `name`
 * or `version` fields (git, tarball and local `file:` packages), those win over the key.
 *
 * Direct: a package is direct when an importer (`importers.<dir>`, or the top level of a
 * single-project v5/v6 file) lists it under dependencies, devDependencies or
 * optionalDependencies, other than as a `link:` to a local folder.
 */
import { parse } from 'yaml';
import { isRecord, NPM_DEPENDENCY_FIELDS } from './common.js';
import type { LockedPackage, ParsedLockfile } from './types.js';

export function parsePnpmLock(text: string): ParsedLockfile {
  // failsafe: every scalar is a string, so an unquoted `lockfileVersion: 5.4` stays "5.4".
  const doc: unknown = parse(text, { schema: 'failsafe' });
  if (!isRecord(doc)) throw new Error('the top level is not a YAML mapping');
  const lockfileVersion = typeof doc.lockfileVersion === 'string' ? doc.lockfileVersion : '';
  const major = Number.parseInt(lockfileVersion, 10);
  const meta: Record<string, string> = lockfileVersion ? { format: `pnpm-${lockfileVersion}` } : {};
  const declared = directNames(doc);
  const packages: LockedPackage[] = [];
  if (isRecord(doc.packages)) {
    for (const [key, entry] of Object.entries(doc.packages)) {
      const fromKey = major < 6 ? parseV5Key(key) : parseKey(key);
      const fields = isRecord(entry) ? entry : {};
      const name = typeof fields.name === 'string' && fields.name ? fields.name : fromKey?.name;
      const version = typeof fields.version === 'string' && fields.version ? fields.version : fromKey?.version;
      if (!name || !version) continue;
      packages.push({ ecosystem: 'npm', name, version, direct: declared.has(name) });
    }
  }
  return { packages, meta };
}

/** v6+ keys: `[/]name@version[(peers)]`. */
export function parseKey(key: string): { name: string; version: string } | undefined {
  let rest = key.startsWith('/') ? key.slice(1) : key;
  const paren = rest.indexOf('(');
  if (paren >= 0) rest = rest.slice(0, paren);
  const at = rest.indexOf('@', 1);
  if (at <= 0 || at === rest.length - 1) return undefined;
  return { name: rest.slice(0, at), version: rest.slice(at + 1) };
}

/** v5 keys: `/name/version[_peers]` or `/@scope/name/version[_peers]`. */
export function parseV5Key(key: string): { name: string; version: string } | undefined {
  const parts = (key.startsWith('/') ? key.slice(1) : key).split('/');
  const nameLength = parts[0]?.startsWith('@') ? 2 : 1;
  if (parts.length !== nameLength + 1) return undefined;
  const version = (parts[nameLength] ?? '').split('_')[0] ?? '';
  if (!version) return undefined;
  return { name: parts.slice(0, nameLength).join('/'), version };
}

function directNames(doc: Record<string, unknown>): Set<string> {
  const importers = isRecord(doc.importers) ? Object.values(doc.importers) : [doc];
  const names = new Set<string>();
  for (const importer of importers) {
    if (!isRecord(importer)) continue;
    for (const field of NPM_DEPENDENCY_FIELDS) {
      const deps = importer[field];
      if (!isRecord(deps)) continue;
      for (const [name, spec] of Object.entries(deps)) {
        // v5: `name: version`; v6+: `name: { specifier, version }`.
        const version = isRecord(spec) ? spec.version : spec;
        if (typeof version === 'string' && version.startsWith('link:')) continue;
        names.add(name);
      }
    }
  }
  return names;
}
