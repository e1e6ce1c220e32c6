export { type CollectFactsOptions, collectFacts } from './collect.js';
export { BUILTIN_COLLECTORS, type Collector, type CollectorContext } from './collectors/index.js';
export {
  type AgentStatus,
  agentChannelUrl,
  HostRetiredError,
  NotEnrolledError,
  type RunningAgent,
  type StartAgentOptions,
  startAgent,
} from './daemon/index.js';
export { type ExecOptions, type ExecResult, execCommand } from './exec.js';
export { loadAgentConfig } from './load-config.js';
export {
  type CollectionError,
  type CollectionResult,
  type CollectorResult,
  mergeCollectorResults,
  runCollectors,
} from './run-collectors.js';
export { createSecretHasher, SECRET_HASH_PREFIX, type SecretHasher } from './secrets.js';
export { defaultStateDir, loadHashKey } from './state-dir.js';
export { AGENT_VERSION } from './version.js';
