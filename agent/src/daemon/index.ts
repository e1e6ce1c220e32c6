/** The agent daemon (`envparity-agent run`): startAgent() and the pieces it is made of. */

/** Re-exported from @envparity/shared, where the rule lives once for the agent and the aggregator. */
export { applyReport } from '@envparity/shared';
export type { AgentStatus } from './agent-daemon.js';
export {
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_STABLE_CONNECTION_MS,
  DEFAULT_VOLATILE_REFRESH_MS,
} from './agent-daemon.js';
export { AGENT_CHANNEL_PATH, agentChannelUrl } from './aggregator-url.js';
export {
  type Backoff,
  type BackoffOptions,
  backoffCeiling,
  backoffDelay,
  createBackoff,
  DEFAULT_BACKOFF_BASE_MS,
  DEFAULT_BACKOFF_CAP_MS,
} from './backoff.js';
export { type Credentials, readCredentials, saveCredentials } from './credentials.js';
export { createAgentLogger, LOG_LEVELS, type LogLevel } from './logger.js';
export { mergeReports } from './merge-reports.js';
export { Outbox } from './outbox.js';
export { buildReport, categoryFingerprints, type ReportBody } from './reporter.js';
export { DEFAULT_SPOOL_MAX_BYTES, DEFAULT_SPOOL_MAX_REPORTS, Spool } from './spool.js';
export {
  HostRetiredError,
  NotEnrolledError,
  type RunningAgent,
  type StartAgentOptions,
  startAgent,
} from './start-agent.js';
export { DAEMON_STATE_FILES } from './state-store.js';
export { DEFAULT_PACKAGE_DATABASES, LOCKFILE_NAMES } from './triggers.js';
export { DEFAULT_DEBOUNCE_MS } from './watcher.js';
