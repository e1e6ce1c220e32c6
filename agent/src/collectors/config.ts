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
import type { HostFs } from './host-fs.js';
import { sharesHostNamespace } from './host-namespace.js';
import { type Collector, hostFsOf } from './types.js';

export interface ConfigCollectorOptions {
  /** The environment whose variables are watched. */
  env?: NodeJS.ProcessEnv;
  /** Root of the sysctl tree (a local path; default the context's host `/proc/sys`). */
  procSys?: string;
  sysctlNames?: readonly string[];
  /** The limits file of the process to describe. */
  limitsFile?: string;
}

/**
 * In host mode: watched files and env files are host paths read under the root; sysctls come from
 * the host's /proc/sys under the root, except the per-network-namespace `net.*` ones when the agent
 * does not share the host's network (they would be its container's); the agent's own environment
 * (`watch.envVars`) and ulimits are its container's, so they are not reported (the errors say so;
 * a watched process's env and limits come from the host's /proc through `watch.processes`).
 */
export function createConfigCollector({
  env = process.env,
  procSys,
  sysctlNames = SYSCTL_NAMES,
  limitsFile = '/proc/self/limits',
}: ConfigCollectorOptions = {}): Collector {
  return {
    name: 'config',
    async collect(context) {
      const { config, secrets, reportError } = context;
      const host = hostFsOf(context);
      const hostMode = host.hostMode;
      if (hostMode && config.watch.envVars.length > 0) {
        reportError?.(
          "config.env: the agent's own environment is its container's, not the host's: not reported in host mode (watch a process's env with watch.processes)",
        );
      }
      if (hostMode)
        reportError?.("config.ulimit: the agent's own limits are its container's: not reported in host mode");
      const readOptions = {
        followSymlinks: config.watch.followSymlinks,
        maxFileBytes: config.watch.maxFileBytes,
        ...(hostMode ? { host } : {}),
      };
      const parts = await Promise.all([
        hostMode ? {} : collectEnvFacts(env, config.watch.envVars, secrets),
        collectEnvFileFacts(config.watch.envFiles, secrets, reportError, readOptions),
        collectConfigFiles(config.watch.files, { secrets, ...readOptions }),
        hostSysctls(host, sysctlNames, procSys, reportError),
        hostMode ? {} : collectUlimitFacts(limitsFile),
      ]);
      return Object.assign({}, ...parts) as FactMap;
    },
  };
}

async function hostSysctls(
  host: HostFs,
  names: readonly string[],
  procSys: string | undefined,
  reportError: ((message: string) => void) | undefined,
): Promise<FactMap> {
  if (procSys !== undefined) return collectSysctlFacts(names, procSys);
  if (!host.hostMode) return collectSysctlFacts(names, '/proc/sys');
  let local: string;
  try {
    local = await host.local('/proc/sys');
  } catch {
    reportError?.(`config.sysctl: no proc/sys under the host root ${host.root}`);
    return {};
  }
  let wanted = names;
  if (!(await sharesHostNamespace(host, 'net'))) {
    wanted = names.filter((name) => !name.startsWith('net.'));
    if (wanted.length < names.length) {
      reportError?.(
        "config.sysctl: net.* parameters belong to the agent's network namespace, not the host's (run it with the host network): not reported",
      );
    }
  }
  return collectSysctlFacts(wanted, local);
}

export const configCollector: Collector = createConfigCollector();
