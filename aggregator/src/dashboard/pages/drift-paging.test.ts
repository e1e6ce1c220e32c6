import { describe, expect, it } from 'vitest';
import type { DriftEventRecord } from '../../drift/events.js';
import type { FleetQueries } from '../../queries/fleet-queries.js';
import type { DriftEventQuery } from '../../store/fact-store.js';
import { cursorOf, DRIFT_PAGE_SIZE, MAX_SCAN_EVENTS, parseDriftCursor, readDriftPage } from './drift-paging.js';

/** `count` events, newest first as the store orders them: opened 10 to a millisecond, ids descending. */
function fakeQueries(count: number): { queries: FleetQueries; limits: number[]; seen: DriftEventQuery[] } {
  const events: DriftEventRecord[] = Array.from({ length: count }, (_, index) => {
    const id = count - index;
    return {
      id: String(id),
      kind: 'environment',
      environment: 'dev',
      otherEnvironment: 'staging',
      path: `config.env.P${id}`,
      status: 'open',
      openedAt: new Date(1_700_000_000_000 + Math.floor(id / 10)).toISOString(),
    };
  });
  const limits: number[] = [];
  const seen: DriftEventQuery[] = [];
  const queries = {
    async driftEvents(query: DriftEventQuery & { limit: number }) {
      limits.push(query.limit);
      seen.push(query);
      return { items: events.slice(0, query.limit), truncated: events.length > query.limit };
    },
  } as unknown as FleetQueries;
  return { queries, limits, seen };
}

async function walk(queries: FleetQueries): Promise<string[][]> {
  const pages: string[][] = [];
  let before: string | undefined;
  do {
    const page = await readDriftPage(queries, { status: 'any' }, parseDriftCursor(before));
    pages.push(page.events.map((event) => event.id));
    before = page.next;
  } while (before !== undefined);
  return pages;
}

describe('readDriftPage', () => {
  it('walks every event once, in order, across ties of openedAt', async () => {
    const { queries } = fakeQueries(1234);
    const pages = await walk(queries);
    expect(pages).toHaveLength(Math.ceil(1234 / DRIFT_PAGE_SIZE));
    expect(pages.flat()).toEqual(Array.from({ length: 1234 }, (_, index) => String(1234 - index)));
  });

  it('reads the first page with one query of one page, and deeper ones in growing windows', async () => {
    const { queries, limits } = fakeQueries(5000);
    const first = await readDriftPage(queries, { status: 'any' });
    expect(limits).toEqual([DRIFT_PAGE_SIZE]);
    expect(first.next).toBe(cursorOf(first.events.at(-1) as DriftEventRecord));
    limits.length = 0;
    await readDriftPage(
      queries,
      { status: 'any' },
      parseDriftCursor(
        cursorOf({ id: '3000', openedAt: new Date(1_700_000_000_300).toISOString() } as DriftEventRecord),
      ),
    );
    expect(limits).toEqual([200, 400, 800, 1600, 3200]);
  });

  it('passes the filters on as the API query', async () => {
    const { queries, seen } = fakeQueries(3);
    await readDriftPage(queries, { status: 'open', env: 'production', kind: 'lost', host: 'prod-2' });
    expect(seen[0]).toEqual({
      status: 'open',
      environment: 'production',
      kind: 'lost',
      hostId: 'prod-2',
      limit: DRIFT_PAGE_SIZE,
    });
    await readDriftPage(queries, { status: 'any' });
    expect(seen[1]).toEqual({ limit: DRIFT_PAGE_SIZE });
  });

  it('says so when the cursor lies deeper than it reads', async () => {
    const { queries, limits } = fakeQueries(MAX_SCAN_EVENTS + 500);
    const page = await readDriftPage(queries, { status: 'any' }, { openedAt: 1_700_000_000_010, id: 100 });
    expect(page).toMatchObject({ events: [], tooDeep: true });
    expect(page.next).toBeUndefined();
    expect(limits.at(-1)).toBe(MAX_SCAN_EVENTS);
  });
});
