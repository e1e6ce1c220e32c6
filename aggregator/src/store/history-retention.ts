/**
 * Time-based retention of the change history (config `retention.changes`, default 400 days): changes
 * observed before `now - retention` are folded into their host's initial state
 * (history-compaction.ts `compactHostHistoryBefore`), so the store does not grow without bound and
 * time travel still works from the edge on (the host's state at the edge is exactly its new initial
 * state, or later changes replayed over it).
 *
 * A pass runs shortly after open (not at once: a restart is when every agent reconnects) and then
 * every `intervalMs`, off the ingest path: one host per transaction, at most `chunkRows` rows each,
 * and it yields to the event loop every `sliceMs`, so a year of backlog never blocks reports for long.
 */

import {
  type CurrentCategories,
  compactHostHistoryBefore,
  DEFAULT_RETENTION_CHUNK_ROWS,
  hasChangesBefore,
} from './history-compaction.js';
import type { SqlPort } from './sql-port.js';

const DAY_MS = 86_400_000;
/** Default of config `retention.changes`. */
export const DEFAULT_CHANGE_RETENTION_MS = 400 * DAY_MS;
/** Time between two retention passes. */
export const DEFAULT_RETENTION_INTERVAL_MS = 3_600_000;
/** The first pass after open waits this long (agents reconnect and resend after a restart). */
export const DEFAULT_RETENTION_START_DELAY_MS = 60_000;
/** Work one slice of a pass may do before it lets the event loop run. */
export const DEFAULT_RETENTION_SLICE_MS = 20;

export interface HistoryRetentionOptions {
  sql: SqlPort;
  /** How long changes are kept (ms). */
  retentionMs: number;
  now?: () => number;
  /** The host's current categories (memory), or undefined when it is unknown. */
  currentCategories(hostId: string): CurrentCategories | undefined;
  /** Rows of a host were folded: its history now starts later. */
  onFolded?: (hostId: string, removed: number) => void;
  onError?: (error: unknown) => void;
  intervalMs?: number;
  startDelayMs?: number;
  sliceMs?: number;
  chunkRows?: number;
}

export class HistoryRetention {
  readonly retentionMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = false;

  constructor(private readonly options: HistoryRetentionOptions) {
    this.retentionMs = Math.max(1, options.retentionMs);
    this.now = options.now ?? Date.now;
  }

  /** The oldest instant whose state the history still holds for every host. */
  edge(): number {
    return this.now() - this.retentionMs;
  }

  /** Schedules the first pass after `startDelayMs`, then one every `intervalMs` (timers do not hold the process). */
  start(): void {
    if (this.stopped || this.timer) return;
    const schedule = (delay: number) => {
      this.timer = setTimeout(() => {
        this.run()
          .catch((error) => this.options.onError?.(error))
          .finally(() => {
            if (!this.stopped) schedule(this.options.intervalMs ?? DEFAULT_RETENTION_INTERVAL_MS);
          });
      }, delay);
      this.timer.unref();
    };
    schedule(this.options.startDelayMs ?? DEFAULT_RETENTION_START_DELAY_MS);
  }

  /** One pass over every host (a pass already under way is joined); resolves with the rows folded. */
  run(): Promise<number> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<number> {
    const edge = this.edge();
    const sliceMs = this.options.sliceMs ?? DEFAULT_RETENTION_SLICE_MS;
    const chunkRows = this.options.chunkRows ?? DEFAULT_RETENTION_CHUNK_ROWS;
    // Retired hosts keep history too, so every host row.
    const ids = this.options.sql.all<{ id: string }>('SELECT id FROM hosts ORDER BY id').map((row) => row.id);
    let removed = 0;
    let sliceStart = performance.now();
    for (const hostId of ids) {
      let more = true;
      while (more && !this.stopped) {
        if (performance.now() - sliceStart > sliceMs) {
          await new Promise((resolve) => setImmediate(resolve));
          sliceStart = performance.now();
          if (this.stopped) return removed;
        }
        more = false;
        if (!hasChangesBefore(this.options.sql, hostId, edge)) break;
        // Read after the yield: the categories must be the committed ones of this very moment.
        const current = this.options.currentCategories(hostId);
        if (!current) break;
        try {
          const folded = compactHostHistoryBefore(this.options.sql, hostId, edge, current, chunkRows);
          removed += folded.removed;
          more = folded.more;
          if (folded.removed > 0) this.options.onFolded?.(hostId, folded.removed);
        } catch (error) {
          this.options.onError?.(error);
        }
      }
    }
    return removed;
  }

  /** Stops the timer until the next `start()` (this aggregator stopped leading). */
  pause(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
