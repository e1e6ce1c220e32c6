/**
 * yarn.lock written by yarn 2+ ("berry"): YAML with a `__metadata` block. Keys list one or more
 * descriptors (`"@babel/core@npm:^7.0.0, @babel/core@npm:^7.1.0"`); each entry has `version` and
 * `resolution`. Skipped: `__metadata`, and local entries whose resolution uses the `workspace:`,
 * `link:` or `portal:` protocol (the project itself and its local folders). `patch:` entries carry
 * the same version as the package they patch, so they fold into it.
 *
 * The package name is the one in the first descriptor (for an alias, the installed name).
 * Direct: a package is direct when a workspace entry lists it in `dependencies` (berry records a
 * workspace's dependencies and devDependencies there) or `peerDependencies`.
 */
import { parse } from 'yaml';
import { declaredNames, descriptorName, isRecord } from './common.js';
import type { LockedPackage, ParsedLockfile } from './types.js';

const LOCAL_PROTOCOL = /@(workspace|link|portal):/;

/** True when the text looks like a berry lockfile rather than a classic v1 one. */
export function isYarnBerry(text: string): boolean {
  return /^__metadata:/m.test(text);
}

export function parseYarnBerry(text: string): ParsedLockfile {
  // failsafe: every scalar stays a string, so `version: 1.10` is never read as the number 1.1.
  const doc: unknown = parse(text, { schema: 'failsafe' });
  if (!isRecord(doc)) throw new Error('the top level is not a YAML mapping');
  const meta: Record<string, string> = {};
  const metadata = doc.__metadata;
  meta.format =
    isRecord(metadata) && typeof metadata.version === 'string' ? `yarn-berry-v${metadata.version}` : 'yarn-berry';
  const declared = new Set<string>();
  const found: Array<{ name: string; version: string }> = [];
  for (const [key, entry] of Object.entries(doc)) {
    if (key === '__metadata' || !isRecord(entry)) continue;
    const resolution = typeof entry.resolution === 'string' ? entry.resolution : '';
    if (LOCAL_PROTOCOL.test(resolution)) {
      if (resolution.includes('@workspace:')) {
        for (const name of declaredNames(entry, ['dependencies', 'peerDependencies'])) declared.add(name);
      }
      continue;
    }
    if (typeof entry.version !== 'string' || entry.version === '') continue;
    const first = (key.split(',')[0] ?? '').trim();
    found.push({ name: descriptorName(first), version: entry.version });
  }
  const packages: LockedPackage[] = found.map(({ name, version }) => ({
    ecosystem: 'npm',
    name,
    version,
    direct: declared.has(name),
  }));
  return { packages, meta };
}
