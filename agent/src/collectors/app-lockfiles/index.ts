/**
 * The lockfiles the app collector reads, by exact file name, each with its parser. Only these
 * names, only at the top level of a project folder.
 */
import { parseGemfileLock } from './gemfile.js';
import { parseGoMod } from './go-mod.js';
import { parseGoSum } from './go-sum.js';
import { parsePackageLock } from './npm.js';
import { parsePipfileLock } from './pipfile.js';
import { parsePnpmLock } from './pnpm.js';
import { parsePoetryLock } from './poetry.js';
import { parseRequirements } from './requirements.js';
import type { LockfileParser } from './types.js';
import { parseYarnLock } from './yarn.js';

export interface LockfileFormat {
  parse: LockfileParser;
  /**
   * When true, the versions this file gives for a package replace those other files of the project
   * give for it (go.mod holds the selected version; go.sum may also hold stale ones).
   */
  authoritative?: boolean;
}

export const LOCKFILE_FORMATS: ReadonlyMap<string, LockfileFormat> = new Map<string, LockfileFormat>([
  ['package-lock.json', { parse: parsePackageLock }],
  ['npm-shrinkwrap.json', { parse: parsePackageLock }],
  ['yarn.lock', { parse: parseYarnLock }],
  ['pnpm-lock.yaml', { parse: parsePnpmLock }],
  ['requirements.txt', { parse: parseRequirements }],
  ['poetry.lock', { parse: parsePoetryLock }],
  ['Pipfile.lock', { parse: parsePipfileLock }],
  ['go.sum', { parse: parseGoSum }],
  ['go.mod', { parse: parseGoMod, authoritative: true }],
  ['Gemfile.lock', { parse: parseGemfileLock }],
]);

export type { Ecosystem, LockedPackage, LockfileParser, ParsedLockfile } from './types.js';
