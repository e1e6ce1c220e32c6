/**
 * Env files (`watch.envFiles`): the variables an application is started with, read from the file
 * its service manager or launcher reads -> `config.envFile[<path>].<NAME>`, every variable of the
 * file (they are the app's configuration by construction), secrets hashed by the `secrets` globs.
 *
 * Two syntaxes: dotenv (the `dotenv` package: `export K=v`, quotes, `#` comments, inline ` #`
 * comments on unquoted values, multi-line double-quoted values) and systemd's `EnvironmentFile=`
 * (`#` and `;` comment lines, single or double quotes, backslash escapes and line continuations,
 * no inline comments). A plain path is read as systemd syntax under /etc/default/ and
 * /etc/sysconfig/, else as dotenv; `{path, format}` chooses.
 *
 * Read like a watched file (safe-open.ts): a symlink only with `watch.followSymlinks: true`,
 * O_NOFOLLOW, regular files only, at most `watch.maxFileBytes`; otherwise `#error` says why.
 */
import type { EnvFileConfig, FactMap } from '@envparity/shared';
import { DEFAULT_MAX_WATCHED_FILE_BYTES, factPath } from '@envparity/shared';
import { loadDotenv } from '../lazy-packages.js';
import type { SecretHasher } from '../secrets.js';
import { envVarFacts } from './config-env.js';
import type { HostFs } from './host-fs.js';
import { errorCode, openRegularFile, readUpTo, tooLarge } from './safe-open.js';

export interface EnvFileReadOptions {
  /** `watch.followSymlinks` (default false). */
  followSymlinks?: boolean;
  /** `watch.maxFileBytes` (default 10 MB). */
  maxFileBytes?: number;
  /** In host mode, the host's files: env file paths are host paths read under its root. */
  host?: HostFs;
}

export type EnvFileFormat = 'dotenv' | 'systemd';

/** The path and syntax of an env file entry. */
export function envFileEntry(entry: EnvFileConfig): { path: string; format: EnvFileFormat } {
  if (typeof entry !== 'string') return { path: entry.path, format: entry.format };
  return { path: entry, format: /^\/etc\/(default|sysconfig)\//.test(entry) ? 'systemd' : 'dotenv' };
}

const SYSTEMD_ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" };

/**
 * systemd `EnvironmentFile=` syntax (systemd's `load_env_file`): `KEY=VALUE` per line, whitespace
 * around the key and an unquoted value trimmed, a value in single quotes literal, in double quotes
 * with backslash escapes, a trailing backslash joining the next line; `#` and `;` start comment
 * lines. Lines without `=` or with an invalid name are skipped.
 */
export function parseSystemdEnvironmentFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] as string;
    if (/^\s*[#;]/.test(line)) continue;
    // Continuations outside quotes: a trailing backslash joins the next line.
    while (line.endsWith('\\') && !/^[^=]*=\s*['"]/.test(line) && i + 1 < lines.length) {
      line = `${line.slice(0, -1)}${lines[++i]}`;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const name = line.slice(0, eq).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) continue;
    let rest = line.slice(eq + 1).replace(/^\s+/, '');
    const quote = rest[0];
    if (quote === '"' || quote === "'") {
      let value = '';
      let j = 1;
      for (;;) {
        if (j >= rest.length) {
          // The quoted value continues on the next line.
          if (i + 1 >= lines.length) break;
          rest += `\n${lines[++i]}`;
          continue;
        }
        const char = rest[j] as string;
        if (char === quote) break;
        if (char === '\\' && quote === '"' && j + 1 < rest.length) {
          const next = rest[j + 1] as string;
          value += SYSTEMD_ESCAPES[next] ?? next;
          j += 2;
          continue;
        }
        value += char;
        j++;
      }
      vars[name] = value;
    } else {
      vars[name] = rest.replace(/\s+$/, '');
    }
  }
  return vars;
}

/** The variables of every env file, or one marker per file that cannot be read. */
export async function collectEnvFileFacts(
  entries: readonly EnvFileConfig[],
  secrets: SecretHasher,
  reportError?: (message: string) => void,
  { followSymlinks = false, maxFileBytes = DEFAULT_MAX_WATCHED_FILE_BYTES, host }: EnvFileReadOptions = {},
): Promise<FactMap> {
  const parts = await Promise.all(
    entries.map(async (entry): Promise<FactMap> => {
      const { path, format } = envFileEntry(entry);
      const text = await readEnvFile(path, followSymlinks, maxFileBytes, reportError, host);
      if (typeof text !== 'string') return text;
      const vars = format === 'systemd' ? parseSystemdEnvironmentFile(text) : loadDotenv().parse(text);
      return envVarFacts(vars, undefined, secrets, ['config', 'envFile', path]);
    }),
  );
  return Object.assign({}, ...parts) as FactMap;
}

/** The file's text, or the marker facts saying why it was not read. */
async function readEnvFile(
  path: string,
  followSymlinks: boolean,
  maxFileBytes: number,
  reportError: ((message: string) => void) | undefined,
  host: HostFs | undefined,
): Promise<string | FactMap> {
  const marker = (name: string, value: string | boolean): FactMap => ({
    [factPath('config', 'envFile', path, name)]: value,
  });
  const opened = await openRegularFile(path, followSymlinks, host);
  if (!opened.ok) {
    if (opened.missing) return marker('#missing', true);
    reportError?.(`env file ${path}: ${opened.error}`);
    return marker('#error', opened.error);
  }
  try {
    if (opened.size > maxFileBytes) {
      return marker('#error', tooLarge(opened.size, maxFileBytes));
    }
    const bytes = await readUpTo(opened.handle, maxFileBytes);
    if (bytes.length > maxFileBytes) {
      return marker('#error', tooLarge(undefined, maxFileBytes));
    }
    return bytes.toString('utf8');
  } catch (error) {
    const code = errorCode(error);
    reportError?.(`env file ${path}: ${code}`);
    return marker('#error', code);
  } finally {
    await opened.handle.close().catch(() => undefined);
  }
}
