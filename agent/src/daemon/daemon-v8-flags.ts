/**
 * The daemon runs V8 without its optimizing compilers. A pass every minute spends ~60 ms of CPU,
 * mostly waiting on files and child processes, so TurboFan and Sparkplug buy it nothing
 * measurable (`npm run bench:agent-rss`: the same CPU per pass) while their compiled code, their
 * zones and the compiler's own pages of the Node binary cost ~6-8 MB of the daemon's RSS.
 * One-shot commands (`collect`, `verify`) keep the defaults: their speed is what is measured there.
 */
import { setFlagsFromString } from 'node:v8';
import { nodeFlagGiven } from '@envparity/shared';

export const DAEMON_V8_FLAGS = ['--no-opt', '--no-maglev', '--no-sparkplug'] as const;

// A tier flag the operator gave (`node --turbofan`, NODE_OPTIONS=--jitless, ...) is theirs: left alone.
const TIER_FLAGS = ['opt', 'turbofan', 'maglev', 'sparkplug', 'jitless', 'lite-mode'];

/** The flags to set: none when the operator chose a tier themselves. */
export function daemonV8Flags(execArgv: readonly string[], nodeOptions: string | undefined): readonly string[] {
  return nodeFlagGiven(TIER_FLAGS, execArgv, nodeOptions) ? [] : DAEMON_V8_FLAGS;
}

/**
 * Sets them in this process, before the daemon's code gets hot (V8 reads these flags whenever it
 * would tier a function up, so setting them at run time takes effect). Returns what was set.
 */
export function applyDaemonV8Flags(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): readonly string[] {
  const flags = daemonV8Flags(execArgv, nodeOptions);
  for (const flag of flags) setFlagsFromString(flag);
  return flags;
}
