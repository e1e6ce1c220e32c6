import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyReport, type FactMap, type ReportMessage } from '@envparity/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Spool, spoolFileName } from './spool.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envparity-spool-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function delta(seq: number, set: FactMap, unset: string[] = [], observedAt = seq * 1000): ReportMessage {
  const byCategory: Record<string, { set: FactMap; unset: string[] }> = {};
  for (const [path, value] of Object.entries(set)) {
    const category = path.split('.')[0] as string;
    byCategory[category] ??= { set: {}, unset: [] };
    byCategory[category].set[path] = value;
  }
  for (const path of unset) {
    const category = path.split('.')[0] as string;
    byCategory[category] ??= { set: {}, unset: [] };
    byCategory[category].unset.push(path);
  }
  return { type: 'report', seq, observedAt, delta: byCategory };
}

async function replay(spool: Spool, base: FactMap = {}): Promise<FactMap> {
  let state = base;
  for (const entry of spool.entries) state = applyReport(state, await spool.read(entry.seq));
  return state;
}

describe('Spool', () => {
  it('writes each report to its own file before anything else, and replays them in seq order', async () => {
    const spool = await Spool.open({ dir, fsync: false });
    await spool.append(delta(1, { 'os.a': 1 }));
    await spool.append(delta(2, { 'os.a': 2, 'config.b': true }));
    await spool.append(delta(5, { 'os.c': 'x' }, ['config.b']));
    expect((await readdir(dir)).sort()).toEqual([spoolFileName(1), spoolFileName(2), spoolFileName(5)]);
    expect(spool.entries.map((e) => e.seq)).toEqual([1, 2, 5]);
    expect(spool.maxSeq).toBe(5);
    expect(await replay(spool)).toEqual({ 'os.a': 2, 'os.c': 'x' });
    await expect(spool.append(delta(5, { 'os.d': 1 }))).rejects.toThrow(/not above/);
  });

  it('deletes acknowledged reports', async () => {
    const spool = await Spool.open({ dir, fsync: false });
    for (const seq of [1, 2, 3, 4]) await spool.append(delta(seq, { 'os.a': seq }));
    const removed = await spool.removeThrough(2);
    expect(removed.map((e) => e.seq)).toEqual([1, 2]);
    expect(await readdir(dir)).toEqual([spoolFileName(3), spoolFileName(4)]);
    expect(spool.count).toBe(2);
    expect(spool.totalBytes).toBe(spool.entries.reduce((sum, e) => sum + e.bytes, 0));
  });

  it('survives a reopen (restart): same reports, same order, temp files of an interrupted write removed', async () => {
    const spool = await Spool.open({ dir, fsync: true });
    await spool.append(delta(7, { 'os.a': 1 }));
    await spool.append(delta(9, { 'os.b': 2 }));
    await writeFile(join(dir, '.tmp-12345-abcd'), 'half a report');
    await writeFile(join(dir, 'README'), 'not a report');
    const reopened = await Spool.open({ dir });
    expect(reopened.entries.map((e) => e.seq)).toEqual([7, 9]);
    expect(await reopened.read(9)).toEqual(delta(9, { 'os.b': 2 }));
    expect(await readdir(dir)).not.toContain('.tmp-12345-abcd');
    expect(await replay(reopened)).toEqual({ 'os.a': 1, 'os.b': 2 });
  });

  it('compacts the oldest reports when over the count bound, keeping the latest value of every path', async () => {
    const spool = await Spool.open({ dir, fsync: false, maxReports: 10 });
    const written: ReportMessage[] = [];
    for (let seq = 1; seq <= 40; seq++) {
      // Every report touches a path of its own and one shared path, and sometimes removes one.
      const report = delta(
        seq,
        { [`library.p${seq}`]: seq, 'os.shared': seq },
        seq % 5 === 0 ? [`library.p${seq - 1}`] : [],
      );
      written.push(report);
      await spool.append(report);
      expect(spool.count).toBeLessThanOrEqual(10);
    }
    let expected: FactMap = {};
    for (const report of written) expected = applyReport(expected, report);
    // Nothing lost: replaying the compacted spool gives exactly the state of all 40 reports.
    expect(await replay(spool)).toEqual(expected);
    // The newest report is untouched; seqs still increase; the last seq is kept.
    expect(spool.maxSeq).toBe(40);
    const seqs = spool.entries.map((e) => e.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    const first = await spool.read(seqs[0] as number);
    expect(first.observedAt).toBe((seqs[0] as number) * 1000);
    // And it still holds after a restart.
    expect(await replay(await Spool.open({ dir }))).toEqual(expected);
  });

  it('compacts when over the byte bound; full categories stay full', async () => {
    const spool = await Spool.open({ dir, fsync: false, maxBytes: 4000 });
    const big = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`library.pkg${i}`, `1.0.${i}`]));
    await spool.append({ type: 'report', seq: 1, observedAt: 1, full: { library: big } });
    for (let seq = 2; seq <= 12; seq++) await spool.append(delta(seq, { 'library.pkg0': `2.${seq}`, 'os.x': seq }));
    expect(spool.totalBytes).toBeLessThanOrEqual(4000);
    const first = await spool.read(spool.entries[0]?.seq as number);
    expect(Object.keys(first.full ?? {})).toEqual(['library']);
    expect(await replay(spool)).toEqual({ ...big, 'library.pkg0': '2.12', 'os.x': 12 });
  });

  it('keeps reports it cannot merge rather than dropping them', async () => {
    const spool = await Spool.open({ dir, fsync: false, maxReports: 2, compactTargetBytes: 10 });
    for (const seq of [1, 2, 3, 4]) await spool.append(delta(seq, { [`os.p${seq}`]: seq }));
    expect(spool.count).toBe(4);
    expect(await replay(spool)).toEqual({ 'os.p1': 1, 'os.p2': 2, 'os.p3': 3, 'os.p4': 4 });
  });

  it('moves an unreadable report aside', async () => {
    const spool = await Spool.open({ dir, fsync: false });
    await spool.append(delta(1, { 'os.a': 1 }));
    await writeFile(join(dir, spoolFileName(1)), 'garbage');
    await expect(spool.read(1)).rejects.toThrow(/unreadable/);
    await spool.quarantine(1);
    expect(spool.count).toBe(0);
    expect(await readdir(dir)).toEqual([`corrupt-${spoolFileName(1)}`]);
  });
});
