/**
 * yarn.lock written by yarn classic (`# yarn lockfile v1`), parsed with @yarnpkg/lockfile.
 * Each block is keyed by one or more descriptors (`graceful-fs@^4.1.2, graceful-fs@^4.1.6`) and
 * holds the resolved `version`. The package name is the descriptor up to its version range; an
 * alias (`foo@npm:bar@^1`) is reported under the name it is installed as (`foo`).
 * The format does not say which packages are direct.
 */
import { createRequire } from 'node:module';
import { descriptorName } from './common.js';
import type { LockedPackage, ParsedLockfile } from './types.js';

/** The part of @yarnpkg/lockfile 1.1 used here (the package ships no types). */
interface YarnLockfileModule {
  parse(text: string): {
    /** `merge`: conflict markers yarn could merge; `conflict`: ones it could not. */
    type: 'success' | 'merge' | 'conflict';
    /** One key per descriptor (`name@range`); the descriptors of one block share one object. */
    object: Record<string, Record<string, unknown>>;
  };
}

let lockfile: YarnLockfileModule | undefined;

/**
 * Loaded through require: the package is a CommonJS bundle that also exports an unrelated
 * `default`, so an ESM default import resolves differently under Node and under bundlers. Loaded
 * on the first yarn v1 lockfile only: its import costs ~100 ms and ~1 MB of heap that every
 * `collect`, `verify` and daemon would otherwise pay on hosts without one.
 */
function yarnLockfile(): YarnLockfileModule {
  lockfile ??= createRequire(import.meta.url)('@yarnpkg/lockfile') as YarnLockfileModule;
  return lockfile;
}

export function parseYarnV1(text: string): ParsedLockfile {
  const result = yarnLockfile().parse(text);
  if (result.type === 'conflict') throw new Error('yarn.lock holds merge conflicts yarn cannot resolve');
  const packages: LockedPackage[] = [];
  for (const [descriptor, entry] of Object.entries(result.object)) {
    if (typeof entry.version !== 'string' || entry.version === '') continue;
    packages.push({ ecosystem: 'npm', name: descriptorName(descriptor), version: entry.version });
  }
  return { packages, meta: { format: 'yarn-v1' } };
}
