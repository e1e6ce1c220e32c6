/**
 * Where each host's stored history starts: the time of its initial state (its first report, or the
 * point older changes were folded into) and the environment it was in then. Time travel reads it
 * for a whole environment at once (which hosts had a known state at an instant, and which may have
 * changes stamped with another environment) instead of one initial state per host.
 */
import type { SqlPort } from './sql-port.js';

export interface HistoryStart {
  /** ms since epoch. */
  at: number;
  /** The environment stamped on the initial state (the host's at that time). */
  environment: string | null;
}

/** Every host with an initial state, in one read (its categories share one time and environment). */
export function readHistoryStarts(sql: SqlPort): Map<string, HistoryStart> {
  // The environment of the host's first initial-state row (its rows are written together).
  const rows = sql.all<{ host_id: string; at: number; environment: string | null }>(
    `SELECT s.host_id, first.at, s.environment FROM initial_states s
       JOIN (SELECT MIN(id) AS id, MIN(at) AS at FROM initial_states GROUP BY host_id) first ON first.id = s.id`,
  );
  const starts = new Map<string, HistoryStart>();
  for (const row of rows) starts.set(row.host_id, { at: row.at, environment: row.environment });
  return starts;
}
