/**
 * The `app` collector: dependencies of the project folders listed in `watch.projects`, read from
 * their lockfiles. Facts (documented in docs/FACTS.md), with `<project>` the folder exactly as
 * configured, so the same config on two hosts yields the same paths:
 *
 * - `app.<project>.<ecosystem>.<package>`: the version, or a sorted array of distinct versions;
 * - `app.<project>.direct.<ecosystem>`: how many of those packages the project declares itself;
 * - `app.<project>.lockfiles`: sorted names of the lockfiles found;
 * - `app.<project>.lockfile.<file>.sha256` and `.format`, `.bundledWith`, `.go`... as the file says;
 * - `app.<project>.lockfile.<file>.error`: the file could not be read or parsed (others still are);
 * - `app.<project>.missing = true`: the folder does not exist or cannot be listed.
 *
 * Only the top level of each folder is read (no recursion, never into node_modules). The
 * collector throws only when every configured folder is missing.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { type FactMap, type FactValue, factPath } from '@envparity/shared';
import { type Ecosystem, LOCKFILE_FORMATS, type ParsedLockfile } from './app-lockfiles/index.js';
import type { HostFs } from './host-fs.js';
import { type Collector, hostFsOf } from './types.js';

/** Lockfiles bigger than this are not read (nor hashed): the file gets an `error` fact instead. */
export const MAX_LOCKFILE_BYTES = 64 * 1024 * 1024;

export interface CollectProjectOptions {
  signal?: AbortSignal;
  /** Base for relative project folders; defaults to the agent's working directory. */
  cwd?: string;
  /**
   * Host mode: the project is a host path (relative ones from `/`), its folder and lockfiles
   * resolved inside the host root, so a lockfile symlinked to an absolute path stays in the root.
   */
  host?: HostFs;
}

export interface ProjectResult {
  project: string;
  facts: FactMap;
  /** Why the folder could not be read (ENOENT, not a directory...); unset when it was read. */
  missing?: string;
}

export const appCollector: Collector = {
  name: 'app',
  async collect(context) {
    const { config, signal } = context;
    const host = hostFsOf(context);
    const projects = [...new Set(config.watch.projects)];
    const results = await Promise.all(
      projects.map((project) => collectProject(project, { signal, ...(host.hostMode ? { host } : {}) })),
    );
    const facts: FactMap = {};
    const missing: string[] = [];
    for (const result of results) {
      Object.assign(facts, result.facts);
      if (result.missing !== undefined) missing.push(`${result.project} (${result.missing})`);
    }
    if (projects.length > 0 && missing.length === projects.length) {
      throw new Error(`no watched project folder could be read: ${missing.join(', ')}`);
    }
    return facts;
  },
};

interface LockfileRead {
  name: string;
  sha256?: string;
  parsed?: ParsedLockfile;
  error?: string;
}

/** Reads the lockfiles at the top level of one project folder. Never throws for file problems. */
export async function collectProject(project: string, options: CollectProjectOptions = {}): Promise<ProjectResult> {
  const { signal, host } = options;
  const hostDir = host ? path.posix.resolve('/', project) : undefined;
  let dir: string;
  let entries: string[];
  try {
    dir = host && hostDir ? await host.local(hostDir) : path.resolve(options.cwd ?? process.cwd(), project);
    const info = await stat(dir);
    if (!info.isDirectory()) return missingProject(project, 'not a directory');
    entries = await readdir(dir);
  } catch (error) {
    signal?.throwIfAborted();
    return missingProject(project, errorCode(error));
  }
  signal?.throwIfAborted();
  const candidates = entries.filter((name) => LOCKFILE_FORMATS.has(name)).sort();
  const locate = (name: string) =>
    host && hostDir ? host.local(path.posix.join(hostDir, name)) : Promise.resolve(path.join(dir, name));
  const reads = (await Promise.all(candidates.map((name) => readLockfile(locate, name, signal)))).filter(
    (read): read is LockfileRead => read !== undefined,
  );
  signal?.throwIfAborted();

  const facts: FactMap = {};
  facts[factPath('app', project, 'lockfiles')] = reads.map((read) => read.name);
  for (const read of reads) {
    if (read.sha256 !== undefined) facts[factPath('app', project, 'lockfile', read.name, 'sha256')] = read.sha256;
    if (read.error !== undefined) facts[factPath('app', project, 'lockfile', read.name, 'error')] = read.error;
    for (const [key, value] of Object.entries(read.parsed?.meta ?? {})) {
      if (key === 'sha256' || key === 'error') continue;
      facts[factPath('app', project, 'lockfile', read.name, key)] = value;
    }
  }
  Object.assign(facts, packageFacts(project, reads));
  return { project, facts };
}

function missingProject(project: string, reason: string): ProjectResult {
  return { project, facts: { [factPath('app', project, 'missing')]: true }, missing: reason };
}

/** Reads, hashes and parses one lockfile; undefined when the name is not a regular file. */
async function readLockfile(
  locate: (name: string) => Promise<string>,
  name: string,
  signal?: AbortSignal,
): Promise<LockfileRead | undefined> {
  let bytes: Buffer;
  try {
    const file = await locate(name);
    const info = await stat(file);
    if (!info.isFile()) return undefined;
    if (info.size > MAX_LOCKFILE_BYTES) {
      return { name, error: `too large: ${info.size} bytes (limit ${MAX_LOCKFILE_BYTES})` };
    }
    bytes = await readFile(file, { signal });
  } catch (error) {
    signal?.throwIfAborted();
    return { name, error: `cannot read: ${errorCode(error)}` };
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const format = LOCKFILE_FORMATS.get(name);
  if (!format) return { name, sha256 };
  try {
    const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
    return { name, sha256, parsed: format.parse(text) };
  } catch (error) {
    return { name, sha256, error: `cannot parse: ${shortMessage(error)}` };
  }
}

interface PackageEntry {
  versions: Set<string>;
  direct: boolean;
  /** Set once an authoritative file (go.mod) gave a version: other files' versions are ignored. */
  authoritative: boolean;
}

/**
 * Merges the packages of every lockfile of a project: per ecosystem and name, the union of the
 * versions (an authoritative file's versions replace the others'), direct if any file says so.
 */
function packageFacts(project: string, reads: readonly LockfileRead[]): FactMap {
  const byEcosystem = new Map<Ecosystem, Map<string, PackageEntry>>();
  const directKnown = new Set<Ecosystem>();
  for (const read of reads) {
    if (!read.parsed) continue;
    const authoritative = LOCKFILE_FORMATS.get(read.name)?.authoritative === true;
    for (const pkg of read.parsed.packages) {
      const version = redactCredentials(pkg.version.trim());
      if (pkg.name === '' || version === '') continue;
      let names = byEcosystem.get(pkg.ecosystem);
      if (!names) {
        names = new Map();
        byEcosystem.set(pkg.ecosystem, names);
      }
      let entry = names.get(pkg.name);
      if (!entry) {
        entry = { versions: new Set(), direct: false, authoritative: false };
        names.set(pkg.name, entry);
      }
      if (pkg.direct !== undefined) directKnown.add(pkg.ecosystem);
      if (pkg.direct === true) entry.direct = true;
      if (authoritative && !entry.authoritative) {
        entry.versions.clear();
        entry.authoritative = true;
      }
      if (authoritative || !entry.authoritative) entry.versions.add(version);
    }
  }
  const facts: FactMap = {};
  for (const [ecosystem, names] of byEcosystem) {
    let direct = 0;
    for (const [name, entry] of names) {
      const versions = [...entry.versions].sort(compareVersions);
      const value: FactValue = versions.length === 1 ? (versions[0] as string) : versions;
      facts[factPath('app', project, ecosystem, name)] = value;
      if (entry.direct) direct++;
    }
    if (directKnown.has(ecosystem)) facts[factPath('app', project, 'direct', ecosystem)] = direct;
  }
  return facts;
}

/**
 * A total, locale-free order for version strings: runs of digits compare as numbers, other runs
 * by code unit, digits before letters; full ties fall back to plain code-unit order. So
 * `1.9.0 < 1.10.0`, and two hosts always sort the same versions the same way.
 */
export function compareVersions(a: string, b: string): number {
  const ta = a.match(/\d+|\D+/g) ?? [];
  const tb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const x = ta[i] as string;
    const y = tb[i] as string;
    const xDigits = /^\d/.test(x);
    const yDigits = /^\d/.test(y);
    let order: number;
    if (xDigits && yDigits) {
      const xs = x.replace(/^0+(?=\d)/, '');
      const ys = y.replace(/^0+(?=\d)/, '');
      order = xs.length - ys.length || codeUnitOrder(xs, ys);
    } else if (xDigits !== yDigits) {
      order = xDigits ? -1 : 1;
    } else {
      order = codeUnitOrder(x, y);
    }
    if (order !== 0) return order;
  }
  return ta.length - tb.length || codeUnitOrder(a, b);
}

function codeUnitOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Drops `user:password@` from URLs (git and tarball dependencies can carry tokens). */
export function redactCredentials(text: string): string {
  return text.replace(/\b([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@\s]+@/g, '$1');
}

function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string') {
    return (error as { code: string }).code;
  }
  return shortMessage(error);
}

/** First line of an error message, credentials removed, at most 200 characters. */
function shortMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = redactCredentials((message.split('\n')[0] ?? '').trim());
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}
