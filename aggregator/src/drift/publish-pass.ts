/**
 * Announces a written pass on `DriftEvents` (webhooks and the log follow it): noticed exception
 * expiries, resolutions, opened events. One notification per cause: resolutions caused by a host's
 * loss are not announced on their own but named in its `host.lost` event, and housekeeping
 * (retired hosts, superseded events of older versions) is never announced.
 */
import type { ExceptionRecord, StoredDriftEvent } from '../store/fact-store.js';
import type { DriftEventRecord, DriftEvents, DriftResolution } from './events.js';
import { toExceptionRule } from './exception-rules.js';
import type { HostDrift } from './host-outliers.js';
import { groupDrift } from './outlier-groups.js';
import type { Resolution } from './pass-findings.js';

/** Resolutions that are not announced on their own (part of a `host.lost` event, or housekeeping). */
const SILENT_RESOLUTIONS: ReadonlySet<DriftResolution> = new Set(['host-lost', 'retired', 'superseded']);

export interface WrittenPassToAnnounce {
  at: Date;
  expired: readonly ExceptionRecord[];
  resolved: readonly Resolution[];
  /** The events the pass's write opened. */
  opened: readonly StoredDriftEvent[];
  /** Drift of resolved outlier events as the previous pass saw it. */
  resolvedDrift: ReadonlyMap<string, HostDrift | undefined>;
}

/** How events are shown (the read model's), and the hosts' drift as the written pass saw it. */
export interface EventPresentation {
  record(event: StoredDriftEvent, drift?: HostDrift): DriftEventRecord;
  driftOf(environment: string, hostId: string): HostDrift | undefined;
}

export function publishPass(events: DriftEvents, pass: WrittenPassToAnnounce, show: EventPresentation): void {
  const at = pass.at.toISOString();
  for (const record of pass.expired) {
    const data = { ...toExceptionRule(record), createdAt: new Date(record.createdAt).toISOString() };
    events.emit({ type: 'exception.expired', at, data });
  }
  const resolvedAt = pass.at.getTime();
  for (const { event, resolution, exception } of pass.resolved) {
    if (SILENT_RESOLUTIONS.has(resolution)) continue;
    const resolved = {
      ...event,
      status: 'resolved' as const,
      resolvedAt,
      resolution,
      ...(exception ? { exception } : {}),
    };
    events.emit({ type: 'drift.resolved', at, data: show.record(resolved, pass.resolvedDrift.get(event.key)) });
  }
  const resolvedByLoss = resolvedByLossPerEnvironment(pass.resolved);
  for (const event of pass.opened) {
    if (event.kind === 'lost') {
      const record = show.record(event);
      const ids = resolvedByLoss.get(event.environment);
      if (ids && ids.length > 0) {
        record.resolvedEvents = [...new Set(ids)];
        resolvedByLoss.delete(event.environment);
      }
      events.emit({ type: 'host.lost', at, data: record });
      continue;
    }
    const drift =
      event.kind === 'outlier'
        ? groupDrift(event.hosts ?? [], (host) => show.driftOf(event.environment, host))
        : undefined;
    events.emit({ type: 'drift.opened', at, data: show.record(event, drift) });
  }
}

/** Per environment, the events its lost hosts' leaving resolved (named in its `host.lost` event). */
function resolvedByLossPerEnvironment(resolved: readonly Resolution[]): Map<string, string[]> {
  const byLoss = new Map<string, string[]>();
  for (const { event, resolution } of resolved) {
    if (resolution !== 'host-lost') continue;
    for (const environment of [event.environment, event.otherEnvironment]) {
      if (environment === undefined) continue;
      let ids = byLoss.get(environment);
      if (!ids) {
        ids = [];
        byLoss.set(environment, ids);
      }
      ids.push(event.id);
    }
  }
  return byLoss;
}
