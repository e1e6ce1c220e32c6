/**
 * The aggregator's metrics, with the names documented in docs/AGGREGATOR.md. Label values come from
 * fixed lists (protocol message types, close reasons), so the series count stays bounded whatever
 * agents send.
 */
import { AGENT_MESSAGE_TYPES } from '@envparity/shared';
import { Counter, Gauge, Histogram, Registry } from './registry.js';

/** `type` label of frames that were not handled as a message: undecodable or over the rate limit. */
export const REJECTED_FRAME_TYPE = 'rejected';

/**
 * `reason` label values of `envparity_ingest_rejected_total`: one per close code the aggregator
 * uses (see docs/PROTOCOL.md), plus `heartbeat_timeout` (no pong within a sweep) and `ws_error`
 * (a WebSocket-level protocol error detected by `ws`, closed with 1002).
 */
export const REJECT_REASONS = [
  'malformed',
  'unknown_type',
  'schema_violation',
  'oversize',
  'too_big',
  'unexpected_message',
  'unauthorized',
  'enroll_refused',
  'host_mismatch',
  'out_of_order',
  'rate_limited',
  'pending_approval',
  'replaced',
  'internal_error',
  'heartbeat_timeout',
  'ws_error',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Seconds from a report frame's arrival to the commit of its transaction. */
export const INGEST_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export interface AggregatorMetricsSources {
  connectedAgents(): number;
  hosts(): number;
  storeBytes(): number;
  /** Hosts recorded before (last run or clean shutdown) that the store did not have when it opened. */
  storeHostsMissing?(): number;
}

export interface AggregatorMetrics {
  readonly registry: Registry;
  readonly messages: Counter<'type'>;
  readonly bytes: Counter<'type'>;
  readonly rejected: Counter<'reason'>;
  readonly ingestLatency: Histogram;
  render(): string;
}

export function createAggregatorMetrics(sources: AggregatorMetricsSources): AggregatorMetrics {
  const registry = new Registry();
  registry.register(
    new Gauge('envparity_agents_connected', 'Agents with a live, authenticated WebSocket.', sources.connectedAgents),
  );
  const messages = registry.register(
    new Counter<'type'>('envparity_ingest_messages_total', 'Frames received from agents, by protocol message type.'),
  );
  const bytes = registry.register(
    new Counter<'type'>(
      'envparity_ingest_bytes_total',
      'Bytes of frames received from agents (payload on the wire), by message type.',
    ),
  );
  const rejected = registry.register(
    new Counter<'reason'>('envparity_ingest_rejected_total', 'Agent sockets closed by the aggregator, by reason.'),
  );
  const ingestLatency = registry.register(
    new Histogram(
      'envparity_ingest_latency_seconds',
      'Time from receiving a report to committing it (when the ack is sent).',
      INGEST_LATENCY_BUCKETS,
    ),
  );
  registry.register(
    new Gauge('envparity_store_bytes', 'Size of the store on disk: database plus write-ahead log.', sources.storeBytes),
  );
  registry.register(new Gauge('envparity_hosts', 'Hosts known to the aggregator (enrolled).', sources.hosts));
  registry.register(
    new Gauge(
      'envparity_store_hosts_missing',
      'Hosts the store recorded before (its last run or clean shutdown) that were missing when it opened: lost data.',
      sources.storeHostsMissing ?? (() => 0),
    ),
  );
  for (const type of [...AGENT_MESSAGE_TYPES, REJECTED_FRAME_TYPE]) {
    messages.init({ type });
    bytes.init({ type });
  }
  for (const reason of REJECT_REASONS) rejected.init({ reason });
  return { registry, messages, bytes, rejected, ingestLatency, render: () => registry.render() };
}
