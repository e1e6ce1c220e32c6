/**
 * `envparity-agent run`: flags merged over the config file, then startAgent() until SIGINT or
 * SIGTERM, then a clean stop (socket closed 1000, spool flushed).
 */
import { type AgentConfig, ConfigError, validateAgentConfig } from '@envparity/shared';
import { createAgentLogger } from './daemon/logger.js';
import { startAgent } from './daemon/start-agent.js';
import { applyHostRoot } from './host-root.js';
import { loadAgentConfig } from './load-config.js';

export interface RunFlags {
  /** Repeated `--aggregator`: a list to fail over between. */
  aggregator?: string | string[];
  enrollSecret?: string;
  config?: string;
  environment?: string;
  label?: string[];
  hostId?: string;
  stateDir?: string;
  interval?: string;
  logLevel?: string;
  /** `tls.ca`: only certificates signed by this CA are accepted. */
  ca?: string;
  /** `tls.serverFingerprint`: the aggregator certificate's SHA-256. */
  serverFingerprint?: string;
  /** `allowInsecure`: plain ws:// to a non-loopback aggregator. */
  allowInsecure?: boolean;
  /** `hostRoot`: read the host's files under this directory (host mode). */
  hostRoot?: string;
}

/** Parses `k=v` label flags; the value may hold `=`. */
export function parseLabelFlags(flags: readonly string[] = []): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const flag of flags) {
    const at = flag.indexOf('=');
    if (at <= 0) throw new ConfigError(`--label: expected k=v, got ${JSON.stringify(flag)}`, 'labels');
    labels[flag.slice(0, at)] = flag.slice(at + 1);
  }
  return labels;
}

/** The config file's settings with the flags on top (labels merge, flag wins), validated again. */
export function applyRunFlags(config: AgentConfig, flags: RunFlags): AgentConfig {
  const merged: Record<string, unknown> = { ...config, labels: { ...config.labels, ...parseLabelFlags(flags.label) } };
  if (flags.environment !== undefined) merged.environment = flags.environment;
  if (flags.hostId !== undefined) merged.hostId = flags.hostId;
  if (flags.stateDir !== undefined) merged.stateDir = flags.stateDir;
  if (flags.aggregator !== undefined) merged.aggregator = flags.aggregator;
  if (flags.logLevel !== undefined) merged.logLevel = flags.logLevel;
  if (flags.ca !== undefined || flags.serverFingerprint !== undefined) {
    merged.tls = {
      ...config.tls,
      ...(flags.ca !== undefined ? { ca: flags.ca } : {}),
      ...(flags.serverFingerprint !== undefined ? { serverFingerprint: flags.serverFingerprint } : {}),
    };
  }
  if (flags.allowInsecure) merged.allowInsecure = true;
  if (flags.interval !== undefined)
    merged.interval = flags.interval.trim() === '' ? Number.NaN : Number(flags.interval);
  return validateAgentConfig(merged, 'flags');
}

export interface RunCommandOptions {
  env?: NodeJS.ProcessEnv;
  /** Resolves with the signal that asks the agent to stop (default: SIGINT or SIGTERM). */
  untilStopped?: () => Promise<string>;
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      // A second signal falls back to the default action: the process ends at once.
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** Runs the daemon until stopped; resolves after a clean stop. */
export async function runAgentCommand(
  flags: RunFlags,
  { env = process.env, untilStopped = waitForSignal }: RunCommandOptions = {},
): Promise<void> {
  const config = await applyHostRoot(applyRunFlags(await loadAgentConfig(flags.config), flags), flags.hostRoot, env);
  const logger = createAgentLogger(config.logLevel);
  const enrollSecret = flags.enrollSecret || env.ENVPARITY_ENROLL_SECRET || undefined;
  const stopped = untilStopped();
  const agent = await startAgent({ config, logger, ...(enrollSecret ? { enrollSecret } : {}) });
  const outcome = await Promise.race([stopped, agent.terminated]);
  if (typeof outcome === 'string') logger.info({ signal: outcome }, 'stop requested');
  await agent.stop();
  if (typeof outcome !== 'string') throw outcome;
}
