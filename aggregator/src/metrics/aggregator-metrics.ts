/**
 * The aggregator's metrics, with the names documented in docs/AGGREGATOR.md. Label values come from
 * fixed lists (protocol message types, close reasons), so the series count stays bounded whatever
 * agents send.
 */
import { AGENT_MESSAGE_TYPES } from '@envparity/shared';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Content type of `GET /metrics` (the Prometheus text format, as prom-client renders it). */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

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
  /** The text exposition of every metric, the process defaults and event-loop lag included. */
  render(): Promise<string>;
}

/** A gauge read at scrape time from `read`. */
function liveGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

export function createAggregatorMetrics(sources: AggregatorMetricsSources): AggregatorMetrics {
  // Its own registry (not prom-client's global one): several aggregators in one process (tests) stay apart.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  liveGauge(
    registry,
    'envparity_agents_connected',
    'Agents with a live, authenticated WebSocket.',
    sources.connectedAgents,
  );
  const messages = new Counter<'type'>({
    name: 'envparity_ingest_messages_total',
    help: 'Frames received from agents, by protocol message type.',
    labelNames: ['type'],
    registers: [registry],
  });
  const bytes = new Counter<'type'>({
    name: 'envparity_ingest_bytes_total',
    help: 'Bytes of frames received from agents (payload on the wire), by message type.',
    labelNames: ['type'],
    registers: [registry],
  });
  const rejected = new Counter<'reason'>({
    name: 'envparity_ingest_rejected_total',
    help: 'Agent sockets closed by the aggregator, by reason.',
    labelNames: ['reason'],
    registers: [registry],
  });
  const ingestLatency = new Histogram({
    name: 'envparity_ingest_latency_seconds',
    help: 'Time from receiving a report to committing it (when the ack is sent).',
    buckets: [...INGEST_LATENCY_BUCKETS],
    registers: [registry],
  });
  liveGauge(
    registry,
    'envparity_store_bytes',
    'Size of the store on disk: database plus write-ahead log.',
    sources.storeBytes,
  );
  liveGauge(registry, 'envparity_hosts', 'Hosts known to the aggregator (enrolled).', sources.hosts);
  liveGauge(
    registry,
    'envparity_store_hosts_missing',
    'Hosts the store recorded before (its last run or clean shutdown) that were missing when it opened: lost data.',
    sources.storeHostsMissing ?? (() => 0),
  );
  // Every label value from 0, so a rate() has a series before the first event.
  for (const type of [...AGENT_MESSAGE_TYPES, REJECTED_FRAME_TYPE]) {
    messages.inc({ type }, 0);
    bytes.inc({ type }, 0);
  }
  for (const reason of REJECT_REASONS) rejected.inc({ reason }, 0);
  return { registry, messages, bytes, rejected, ingestLatency, render: () => registry.metrics() };
}
