/**
 * Where the CLI finds the aggregator and its token: `--url`/`--token` flags, then
 * `ENVPARITY_URL`/`ENVPARITY_TOKEN`, then the config file (`$ENVPARITY_CONFIG`, else
 * `$XDG_CONFIG_HOME/envparity/cli.yaml`, else `~/.config/envparity/cli.yaml`), then the default
 * URL. Each value is resolved on its own: a token from the file works with a URL from a flag.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigFileError } from './usage-error.js';

export const DEFAULT_URL = 'http://127.0.0.1:7300';
export const CONFIG_KEYS = ['url', 'token'] as const;

export type Source = 'flag' | 'env' | 'file' | 'default' | 'none';

export interface ConfigFile {
  url?: string;
  token?: string;
}

export interface Connection {
  url: string;
  token: string | undefined;
  sources: { url: Source; token: Source };
  /** The config file consulted (it may not exist). */
  configFile: string;
}

/** The config file's path for this environment. */
export function configFilePath(env: NodeJS.ProcessEnv, homeDir: string): string {
  if (env.ENVPARITY_CONFIG) return env.ENVPARITY_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homeDir, '.config');
  return join(base, 'envparity', 'cli.yaml');
}

/** Reads and checks a config file; a missing file is `{}` unless it was named by `$ENVPARITY_CONFIG`. */
export async function loadConfigFile(path: string, { required = false } = {}): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return {};
    throw new ConfigFileError(`${path}: cannot read the config file (${code ?? String(error)})`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigFileError(`${path}: not valid YAML: ${reason}`, { cause: error });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigFileError(`${path}: expected a mapping with the keys ${CONFIG_KEYS.join(', ')}`);
  }
  const config: ConfigFile = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      throw new ConfigFileError(`${path}: ${key}: unknown key (known: ${CONFIG_KEYS.join(', ')})`);
    }
    if (typeof value !== 'string' || value.trim() === '') {
      throw new ConfigFileError(`${path}: ${key}: expected a non-empty string`);
    }
    config[key as keyof ConfigFile] = value.trim();
  }
  return config;
}

export interface ConnectionInputs {
  flags: { url?: string | undefined; token?: string | undefined };
  env: NodeJS.ProcessEnv;
  file: ConfigFile;
  configFile: string;
}

/** Precedence per value: flag > environment > file > default. */
export function resolveConnection({ flags, env, file, configFile }: ConnectionInputs): Connection {
  const pick = (flag: string | undefined, fromEnv: string | undefined, fromFile: string | undefined) => {
    if (flag) return { value: flag, source: 'flag' as const };
    if (fromEnv) return { value: fromEnv, source: 'env' as const };
    if (fromFile) return { value: fromFile, source: 'file' as const };
    return undefined;
  };
  const url = pick(flags.url, env.ENVPARITY_URL, file.url) ?? { value: DEFAULT_URL, source: 'default' as const };
  const token = pick(flags.token, env.ENVPARITY_TOKEN, file.token);
  return {
    url: url.value,
    token: token?.value,
    sources: { url: url.source, token: token?.source ?? 'none' },
    configFile,
  };
}
