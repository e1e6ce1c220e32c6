import { type AgentConfig, FACT_DOCUMENT_SCHEMA_VERSION, type FactDocument } from '@envparity/shared';
import { BUILTIN_COLLECTORS, type Collector } from './collectors/index.js';
import { defaultHostId } from './host-id.js';
import { hostFsFor } from './host-root.js';
import { type CollectorResult, mergeCollectorResults, runCollectors } from './run-collectors.js';
import { createSecretHasher } from './secrets.js';
import { defaultStateDir, loadHashKey } from './state-dir.js';
import { AGENT_VERSION } from './version.js';

export interface CollectFactsOptions {
  config: AgentConfig;
  /** Where the fleet key (or the local hash key) lives. */
  stateDir?: string;
  /** Key for secret hashing; read from the state dir when absent. */
  hashKey?: string;
  collectors?: readonly Collector[];
  hostId?: string;
}

/** One full collection pass: every collector in parallel, returned as a fact document. */
export async function collectFacts(options: CollectFactsOptions): Promise<FactDocument> {
  return (await collectPass(options)).document;
}

/**
 * A collection pass as the daemon needs it: the document, and each collector's own result (its
 * facts, or undefined when it failed), whose maps are distinct from the document's merged facts.
 */
export async function collectPass({
  config,
  stateDir = config.stateDir ?? defaultStateDir(),
  hashKey,
  collectors = BUILTIN_COLLECTORS,
  hostId,
}: CollectFactsOptions): Promise<{ document: FactDocument; results: CollectorResult[] }> {
  const key = hashKey ?? (await loadHashKey(stateDir)).key;
  const secrets = createSecretHasher(key, config.secrets);
  const collectedAt = new Date().toISOString();
  // One per pass: in host mode (config `hostRoot`) every collector reads the host's files through it.
  const host = hostFsFor(config);
  const [result, id] = await Promise.all([
    runCollectors(collectors, { config, secrets, ...(host.hostMode ? { host } : {}) }),
    hostId ?? config.hostId ?? defaultHostId(host),
  ]);
  const { facts, collectors: reports, errors } = mergeCollectorResults(result.collectors);
  const document: FactDocument = {
    schema: FACT_DOCUMENT_SCHEMA_VERSION,
    hostId: id,
    labels: config.labels,
    agentVersion: AGENT_VERSION,
    collectedAt,
    durationMs: result.durationMs,
    facts,
    collectors: reports,
    errors,
  };
  if (config.environment) document.environment = config.environment;
  return { document, results: result.collectors };
}
