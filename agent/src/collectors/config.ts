/**
 * The config collector: the agent's own watched env vars, env files (`watch.envFiles`), watched
 * config files parsed to key paths, kernel
 * parameters (sysctl) and the agent's ulimits. Timezone and locale are the os collector's
 * (`os.timezone`, `os.locale`) and are not repeated here. Path patterns, markers and suggested
 * classes: docs/FACTS.md.
 */
import type { FactMap } from '@envparity/shared';
import { collectEnvFacts } from './config-env.js';
import { collectConfigFiles } from './config-files.js';
import { collectSysctlFacts, SYSCTL_NAMES } from './config-sysctl.js';
import { collectUlimitFacts } from './config-ulimit.js';
import { collectEnvFileFacts } from './env-files.js';
import type { Collector } from './types.js';

export interface ConfigCollectorOptions {
  /** The environment whose variables are watched. */
  env?: NodeJS.ProcessEnv;
  /** Root of the sysctl tree. */
  procSys?: string;
  sysctlNames?: readonly string[];
  /** The limits file of the process to describe. */
  limitsFile?: string;
}

export function createConfigCollector({
  env = process.env,
  procSys = '/proc/sys',
  sysctlNames = SYSCTL_NAMES,
  limitsFile = '/proc/self/limits',
}: ConfigCollectorOptions = {}): Collector {
  return {
    name: 'config',
    async collect({ config, secrets, reportError }) {
      const parts = await Promise.all([
        collectEnvFacts(env, config.watch.envVars, secrets),
        collectEnvFileFacts(config.watch.envFiles, secrets, reportError, {
          followSymlinks: config.watch.followSymlinks,
          maxFileBytes: config.watch.maxFileBytes,
        }),
        collectConfigFiles(config.watch.files, {
          secrets,
          followSymlinks: config.watch.followSymlinks,
          maxFileBytes: config.watch.maxFileBytes,
        }),
        collectSysctlFacts(sysctlNames, procSys),
        collectUlimitFacts(limitsFile),
      ]);
      return Object.assign({}, ...parts) as FactMap;
    },
  };
}

export const configCollector: Collector = createConfigCollector();
