/**
 * FleetQueries.recentChanges: newest-first pages that lose and repeat nothing, whatever the
 * history's shape, one store read per page. The store here follows ChangeQuery as the SQLite
 * repository does (repositories.conformance.test.ts holds the repository to it).
 */
import { describe, expect, it } from 'vitest';
import {
  type ChangeCursor,
  type DriftReads,
  FleetQueries,
  MAX_CHANGE_CURSOR_SKIP,
} from '../../queries/fleet-queries.js';
import type { ChangeQuery, FactChange, FactStore, HostView } from '../../store/fact-store.js';
import { parseChangeCursor } from './host-timeline.js';

const NOW = Date.UTC(2025, 5, 1);
const DAY = 86_400_000;

/** A store holding one host's history (sorted by time, then insertion), counting its reads. */
function queriesOver(history: FactChange[]): { queries: FleetQueries; reads: () => number } {
  let reads = 0;
  const store = {
    getHost: (id: string) => (id === 'h' ? ({ id: 'h' } as HostView) : undefined),
    listChanges: async (_hostId: string, { since, until, order = 'oldest', offset = 0, limit }: ChangeQuery) => {
      reads++;
      const inRange = history.filter(
        (change) => (since === undefined || change.at >= since) && (until === undefined || change.at <= until),
      );
      const ordered = order === 'newest' ? inRange.reverse() : inRange;
      return ordered.slice(offset, offset + limit);
    },
  } as unknown as FactStore;
  const drift = { environments: () => [] } as unknown as DriftReads;
  const queries = new FleetQueries({ store, drift, presence: { isOnline: () => false }, now: () => NOW });
  return { queries, reads: () => reads };
}

function change(at: number, index: number): FactChange {
  return { hostId: 'h', seq: index + 1, at, path: `p.${index}`, to: index };
}

/** Every page from the newest, as the host page's "older" links walk them. */
async function walk(queries: FleetQueries, limit: number): Promise<{ paths: string[]; pages: number }> {
  const paths: string[] = [];
  let before: ChangeCursor | undefined;
  let pages = 0;
  for (;;) {
    const page = await queries.recentChanges('h', { before, limit });
    pages++;
    paths.push(...page.items.map((item) => item.path));
    if (page.next === null) return { paths, pages };
    expect(page.next.skip).toBeLessThanOrEqual(MAX_CHANGE_CURSOR_SKIP);
    before = page.next;
  }
}

const newestFirst = (history: FactChange[]) => [...history].reverse().map((item) => item.path);

describe('FleetQueries.recentChanges', () => {
  it('pages a year of sparse history newest first, one read per page', async () => {
    const history = Array.from({ length: 300 }, (_, i) => change(NOW - 365 * DAY + i * DAY + (i % 7), i));
    const { queries, reads } = queriesOver(history);
    const first = await queries.recentChanges('h', { limit: 50 });
    expect(first.items.map((item) => item.path)).toEqual(newestFirst(history).slice(0, 50));
    expect(reads()).toBe(1);
    const { paths, pages } = await walk(queries, 50);
    expect(paths).toEqual(newestFirst(history));
    expect(pages).toBe(6);
    expect(reads()).toBe(1 + pages);
  });

  it('splits reports whose changes share one time across pages without losing or repeating one', async () => {
    const history: FactChange[] = [];
    for (let report = 0; report < 40; report++) {
      for (let i = 0; i < 7; i++) history.push(change(NOW - (40 - report) * 60_000, history.length));
    }
    const { queries } = queriesOver(history);
    expect((await walk(queries, 5)).paths).toEqual(newestFirst(history));
    expect((await walk(queries, 50)).paths).toEqual(newestFirst(history));
  });

  it('walks a burst of thousands of changes in one millisecond, newer ones first', async () => {
    const burst = Array.from({ length: 5010 }, (_, i) => change(NOW - DAY, i));
    const after = [change(NOW - 1000, burst.length), change(NOW - 500, burst.length + 1)];
    const history = [...burst, ...after];
    const { queries } = queriesOver(history);
    const first = await queries.recentChanges('h', { limit: 50 });
    expect(first.items.slice(0, 2).map((item) => item.path)).toEqual(newestFirst(after));
    expect((await walk(queries, 500)).paths).toEqual(newestFirst(history));
  });

  it('answers an empty history with an empty page, and an unknown host with NotFoundError', async () => {
    const { queries } = queriesOver([]);
    expect(await queries.recentChanges('h', { limit: 50 })).toEqual({ items: [], next: null });
    await expect(queries.recentChanges('nope', { limit: 50 })).rejects.toThrow('unknown host "nope"');
  });
});

describe('parseChangeCursor', () => {
  it('reads before (ISO) and skip, refusing malformed ones by name', () => {
    expect(parseChangeCursor(undefined, undefined)).toBeUndefined();
    expect(parseChangeCursor('2025-01-01T12:00:00.000Z', '3')).toEqual({ at: Date.UTC(2025, 0, 1, 12), skip: 3 });
    expect(parseChangeCursor('2025-01-01T12:00:00.000Z', undefined)).toEqual({ at: Date.UTC(2025, 0, 1, 12), skip: 0 });
    expect(() => parseChangeCursor('soon', undefined)).toThrow(/^before: /);
    expect(() => parseChangeCursor('2025-01-01T12:00:00Z', '-1')).toThrow(/^skip: /);
    expect(() => parseChangeCursor('2025-01-01T12:00:00Z', String(MAX_CHANGE_CURSOR_SKIP + 1))).toThrow(/^skip: /);
    expect(() => parseChangeCursor(undefined, '2')).toThrow(/^skip: needs before/);
  });
});
