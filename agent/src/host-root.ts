/**
 * Host mode settings: `--host-root DIR` (collect, run, verify, baseline), config `hostRoot`, env
 * `ENVPARITY_HOST_ROOT`; a flag overrides the config, the config overrides the environment. The
 * chosen directory travels on the config object as `hostRoot`, so every part that gets the config
 * (collection passes, the watcher, the default host id) sees it without a parameter of its own.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { type AgentConfig, EnvparityError } from '@envparity/shared';
import { createHostFs, type HostFs, LOCAL_HOST_FS } from './collectors/host-fs.js';

export const HOST_ROOT_ENV = 'ENVPARITY_HOST_ROOT';

/** The host root a config carries, undefined when the agent reads this machine's files. */
export function hostRootOf(config: AgentConfig): string | undefined {
  return config.hostRoot === '' ? undefined : config.hostRoot;
}

/** The host files a config reads: under its `hostRoot`, else this machine's. */
export function hostFsFor(config: AgentConfig): HostFs {
  const root = hostRootOf(config);
  return root ? createHostFs(root) : LOCAL_HOST_FS;
}

/** `config` with `hostRoot` set (or removed when undefined). */
export function withHostRoot(config: AgentConfig, hostRoot: string | undefined): AgentConfig {
  const { hostRoot: _previous, ...rest } = config;
  return hostRoot === undefined ? rest : { ...rest, hostRoot };
}

/** The host root named does not exist or is not a directory. */
export class HostRootError extends EnvparityError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('HOST_ROOT_INVALID', message, options);
  }
}

/**
 * The host root in force: the flag, else the config's `hostRoot`, else ENVPARITY_HOST_ROOT; made
 * absolute (against the working directory) and checked to be a directory. Undefined: no host mode.
 */
export async function resolveHostRoot(
  flag: string | undefined,
  config: AgentConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const fromConfig = hostRootOf(config);
  const fromEnv = env[HOST_ROOT_ENV] || undefined;
  const [value, origin] =
    flag !== undefined
      ? [flag, '--host-root']
      : fromConfig !== undefined
        ? [fromConfig, 'hostRoot (config)']
        : fromEnv !== undefined
          ? [fromEnv, HOST_ROOT_ENV]
          : [undefined, ''];
  if (value === undefined) return undefined;
  if (value.trim() === '') throw new HostRootError(`${origin}: expected a directory, got an empty path`);
  const dir = isAbsolute(value) ? resolve(value) : resolve(process.cwd(), value);
  let isDir: boolean;
  try {
    isDir = (await stat(dir)).isDirectory();
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'EIO';
    throw new HostRootError(
      `${origin} ${value}: ${code === 'ENOENT' ? 'no such directory' : `cannot be read (${code})`}`,
      { cause },
    );
  }
  if (!isDir) throw new HostRootError(`${origin} ${value}: not a directory`);
  return dir === '/' ? undefined : dir;
}

/** The config with the host root in force applied (flag, config, env), checked; see resolveHostRoot. */
export async function applyHostRoot(
  config: AgentConfig,
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AgentConfig> {
  return withHostRoot(config, await resolveHostRoot(flag, config, env));
}
