/**
 * Watched config files (`watch.files`) -> `config.file[<path>].<key>...` facts.
 *
 * Entries are plain paths (Node 20 has no fs.glob, so no wildcards); the path segment is the
 * configured string verbatim (relative paths are read from the agent's working directory), so the
 * same config on two hosts yields the same paths. The format comes from the file name: `.json`,
 * `.yaml`/`.yml`, `.ini`, `.toml`, `.env` / `.env.*` / `*.env`; any other name is parsed as JSON
 * when its content is a JSON object or array, else only its content hash is recorded.
 *
 * Markers (segments starting with `#`; parsed keys starting with `#` are escaped to `##...`):
 * - `#format`: `json` | `yaml` | `ini` | `env` | `toml` | `raw` (not parsed);
 * - `#sha256`: hex sha256 of the content, for `raw` files only (keyed hash when the base name is secret);
 * - `#value`: the document itself when its root is a scalar (e.g. an empty YAML file: null);
 * - `#missing`: true when the file does not exist (no other fact for that file);
 * - `#error`: an error code (`EACCES`, `EISDIR`...) or `not a regular file` (FIFO, device) when the file
 *   cannot be read, or `invalid <format>` when it does not parse (it is then hashed as `raw`; parser
 *   messages quote content, so they are not kept);
 * - `#truncated`: number of leaves when a document has more than MAX_FACTS_PER_DOCUMENT.
 *
 * Symlinks (docs/SECURITY.md): a watched path that is a symlink is NOT read (`#error` says
 * `symlink not followed ...`) unless `watch.followSymlinks: true`; then the real file is read and
 * its format chosen by the real file's name, so `x.ini -> /etc/shadow` is never parsed as INI. The
 * file is opened with O_NOFOLLOW (a symlink swapped in after the check fails with ELOOP) and
 * O_NONBLOCK (a FIFO never blocks the open), then checked with fstat on the open descriptor.
 * Reading stops at `watch.maxFileBytes` (default 10 MB): a larger file is not read, `#error` says so.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { DEFAULT_MAX_WATCHED_FILE_BYTES, type FactMap, factPath } from '@envparity/shared';
import { parseAllDocuments } from 'yaml';
import { loadDotenv, loadIni, loadSmolToml } from '../lazy-packages.js';
import type { SecretHasher } from '../secrets.js';
import { flattenInto, sha256Hex } from './config-flatten.js';
import type { HostFs } from './host-fs.js';
import { errorCode, openRegularFile, readUpTo, tooLarge } from './safe-open.js';

export const CONFIG_FILE_FORMATS = ['json', 'yaml', 'ini', 'env', 'toml'] as const;
export type ConfigFileFormat = (typeof CONFIG_FILE_FORMATS)[number];

/** Files larger than this are hashed, not parsed. */
export const MAX_PARSED_FILE_BYTES = 1024 * 1024;

/** The format implied by a file name, or undefined when the name says nothing. */
export function formatFromName(filePath: string): ConfigFileFormat | undefined {
  const name = basename(filePath).toLowerCase();
  if (name === '.env' || name.startsWith('.env.') || name.endsWith('.env')) return 'env';
  switch (extname(name)) {
    case '.json':
      return 'json';
    case '.yaml':
    case '.yml':
      return 'yaml';
    case '.ini':
      return 'ini';
    case '.toml':
      return 'toml';
    default:
      return undefined;
  }
}

/** Parses config text in the given format; throws on invalid input. */
export function parseConfigText(text: string, format: ConfigFileFormat): unknown {
  const content = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  switch (format) {
    case 'json':
      return JSON.parse(content);
    case 'yaml': {
      // intAsBigInt keeps integers past 2^53 exact (turned into strings by the flattener).
      const docs = parseAllDocuments(content, { merge: true, intAsBigInt: true, uniqueKeys: false });
      for (const doc of docs) if (doc.errors.length > 0) throw new Error('invalid YAML');
      const values = docs.map((doc) => doc.toJS({ maxAliasCount: 100 }) as unknown);
      return values.length === 0 ? null : values.length === 1 ? values[0] : values;
    }
    case 'ini':
      return loadIni().parse(content);
    case 'env':
      return loadDotenv().parse(content);
    case 'toml':
      return loadSmolToml().parse(content, { integersAsBigInt: 'asNeeded' });
  }
}

/** JSON sniffing for files whose name gives no format: only objects and arrays count. */
function sniffJson(text: string): unknown {
  const trimmed = text.trim();
  if (!/^[[{]/.test(trimmed)) return undefined;
  try {
    return JSON.parse(trimmed);
  } catch {
    return undefined;
  }
}

/** Hashes an open file, at most `limit + 1` bytes; undefined when it is over the limit. */
async function hashUpTo(handle: FileHandle, limit: number): Promise<{ digest: string; bytes: number }> {
  const hash = createHash('sha256');
  let total = 0;
  const buffer = Buffer.allocUnsafe(256 * 1024);
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, limit + 1 - total), null);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    total += bytesRead;
    if (total > limit) break;
  }
  return { digest: hash.digest('hex'), bytes: total };
}

export interface ConfigFileOptions {
  secrets: SecretHasher;
  /** `watch.followSymlinks` (default false): read through a symlink instead of reporting it. */
  followSymlinks?: boolean;
  /** `watch.maxFileBytes` (default 10 MB): larger files are not read. */
  maxFileBytes?: number;
  /** In host mode, the host's files: watched paths are host paths read under its root. */
  host?: HostFs;
}

/** Facts of one watched file. Never throws: a missing or unreadable file is a fact too. */
export async function collectConfigFile(
  filePath: string,
  { secrets, followSymlinks = false, maxFileBytes = DEFAULT_MAX_WATCHED_FILE_BYTES, host }: ConfigFileOptions,
): Promise<FactMap> {
  const facts: FactMap = {};
  const at = (...segments: string[]) => factPath('config', 'file', filePath, ...segments);
  const opened = await openRegularFile(filePath, followSymlinks, host);
  if (!opened.ok) {
    if (opened.missing) facts[at('#missing')] = true;
    else facts[at('#error')] = opened.error;
    return facts;
  }
  const { handle, size, realPath } = opened;
  // A file named like a secret (db_password, secrets.yaml), by its own or its real name, has every value hashed.
  const secretFile = secrets.isSecretName(basename(filePath)) || secrets.isSecretName(basename(realPath));
  const recordRaw = (digest: string) => {
    facts[at('#format')] = 'raw';
    facts[at('#sha256')] = secretFile ? secrets.hash(`sha256:${digest}`) : digest;
  };
  try {
    if (size > maxFileBytes) {
      facts[at('#error')] = tooLarge(size, maxFileBytes);
      return facts;
    }
    if (size > MAX_PARSED_FILE_BYTES) {
      const { digest, bytes } = await hashUpTo(handle, maxFileBytes);
      if (bytes > maxFileBytes) facts[at('#error')] = tooLarge(bytes, maxFileBytes);
      else recordRaw(digest);
      return facts;
    }
    const bytes = await readUpTo(handle, Math.min(maxFileBytes, MAX_PARSED_FILE_BYTES));
    if (bytes.length > maxFileBytes) {
      facts[at('#error')] = tooLarge(bytes.length, maxFileBytes);
      return facts;
    }
    if (bytes.length > MAX_PARSED_FILE_BYTES) {
      // Grew past the parse limit while being read: hash what the cap allows.
      recordRaw(sha256Hex(bytes));
      return facts;
    }
    const text = bytes.toString('utf8');
    // The real file's name decides the format: a link named x.ini to a file named shadow is not INI.
    const named = formatFromName(realPath);
    let format: ConfigFileFormat | undefined = named;
    let data: unknown;
    if (named) {
      try {
        data = parseConfigText(text, named);
      } catch {
        facts[at('#error')] = `invalid ${named}`;
        format = undefined;
      }
    } else {
      data = sniffJson(text);
      if (data !== undefined) format = 'json';
    }
    if (!format) {
      recordRaw(sha256Hex(bytes));
      return facts;
    }
    facts[at('#format')] = format;
    flattenInto(facts, ['config', 'file', filePath], data, { secrets, secret: secretFile, rootScalarKey: '#value' });
  } catch (error) {
    facts[at('#error')] = errorCode(error);
  } finally {
    await handle.close().catch(() => undefined);
  }
  return facts;
}

/** Facts of every watched file, read in parallel. */
export async function collectConfigFiles(files: readonly string[], options: ConfigFileOptions): Promise<FactMap> {
  const maps = await Promise.all([...new Set(files)].map((file) => collectConfigFile(file, options)));
  return Object.assign({}, ...maps) as FactMap;
}
