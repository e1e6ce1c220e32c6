import { describe, expect, it } from 'vitest';
import { createAggregatorMetrics } from './aggregator-metrics.js';

describe('aggregator metrics (prom-client)', () => {
  it('keeps every envparity_* name, starts label series at 0, and adds process and event-loop metrics', async () => {
    const metrics = createAggregatorMetrics({ connectedAgents: () => 3, hosts: () => 5, storeBytes: () => 4096 });
    metrics.rejected.inc({ reason: 'enroll_refused' });
    metrics.ingestLatency.observe(0.02);
    const text = await metrics.render();
    expect(text).toMatch(/^envparity_agents_connected 3$/m);
    expect(text).toMatch(/^envparity_hosts 5$/m);
    expect(text).toMatch(/^envparity_store_bytes 4096$/m);
    expect(text).toMatch(/^envparity_store_hosts_missing 0$/m);
    expect(text).toMatch(/^envparity_ingest_messages_total\{type="report"\} 0$/m);
    expect(text).toMatch(/^envparity_ingest_rejected_total\{reason="enroll_refused"\} 1$/m);
    expect(text).toMatch(/^envparity_ingest_rejected_total\{reason="pending_approval"\} 0$/m);
    expect(text).toMatch(/^envparity_ingest_latency_seconds_bucket\{le="0.025"\} 1$/m);
    expect(text).toMatch(/^envparity_ingest_latency_seconds_count 1$/m);
    expect(text).toMatch(/^# TYPE nodejs_eventloop_lag_seconds gauge$/m);
    expect(text).toMatch(/^# TYPE process_resident_memory_bytes gauge$/m);
  });

  it('keeps two aggregators in one process apart (own registries)', async () => {
    const a = createAggregatorMetrics({ connectedAgents: () => 1, hosts: () => 1, storeBytes: () => 1 });
    const b = createAggregatorMetrics({ connectedAgents: () => 2, hosts: () => 2, storeBytes: () => 2 });
    expect(await a.render()).toMatch(/^envparity_agents_connected 1$/m);
    expect(await b.render()).toMatch(/^envparity_agents_connected 2$/m);
  });
});
