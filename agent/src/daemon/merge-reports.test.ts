import { applyReport, type FactMap, type ReportMessage } from '@envparity/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeReports } from './merge-reports.js';
import { buildReport } from './reporter.js';

const factPath = fc
  .tuple(fc.constantFrom('os', 'config', 'library'), fc.constantFrom('a', 'b', 'c', 'd'))
  .map(([category, key]) => `${category}.${key}`);
const factMap: fc.Arbitrary<FactMap> = fc.dictionary(
  factPath,
  fc.oneof(fc.integer({ min: 0, max: 4 }), fc.string({ maxLength: 2 })),
  { maxKeys: 8 },
);

/** A chain of states and the reports between them, as the daemon would spool them. */
const reportChain = fc
  .tuple(factMap, fc.array(fc.tuple(factMap, fc.subarray(['os', 'config', 'library'])), { minLength: 1, maxLength: 8 }))
  .map(([start, steps]) => {
    let sent = start;
    const reports: ReportMessage[] = [];
    const states: FactMap[] = [];
    steps.forEach(([current, full], index) => {
      const body = buildReport({ sent, current, full: new Set(full), observedAt: 100 + index });
      if (!body) return;
      reports.push({ type: 'report', seq: 10 + index * 2, ...body });
      sent = applyReport(sent, body);
      states.push(sent);
    });
    return { start, reports, states };
  })
  .filter(({ reports }) => reports.length > 0);

describe('mergeReports', () => {
  it('keeps the highest seq, the latest observedAt and the latest fingerprints and meta', () => {
    const merged = mergeReports([
      {
        type: 'report',
        seq: 3,
        observedAt: 100,
        delta: { os: { set: { 'os.a': 1 }, unset: [] } },
        fingerprints: { os: 'ep1:old' },
        meta: { durationMs: 1 },
      },
      {
        type: 'report',
        seq: 7,
        observedAt: 200,
        delta: { os: { set: { 'os.a': 2 }, unset: [] }, config: { set: {}, unset: ['config.x'] } },
        fingerprints: { os: 'ep1:new', config: 'ep1:c' },
        meta: { durationMs: 2 },
      },
    ]);
    expect(merged).toEqual({
      type: 'report',
      seq: 7,
      observedAt: 200,
      delta: { config: { set: {}, unset: ['config.x'] }, os: { set: { 'os.a': 2 }, unset: [] } },
      fingerprints: { os: 'ep1:new', config: 'ep1:c' },
      meta: { durationMs: 2 },
    });
  });

  it('keeps full categories full, with later deltas applied; a later full replaces earlier deltas', () => {
    const merged = mergeReports([
      {
        type: 'report',
        seq: 1,
        observedAt: 1,
        full: { os: { 'os.a': 1, 'os.b': 1 } },
        delta: { config: { set: { 'config.a': 1 }, unset: [] } },
      },
      { type: 'report', seq: 2, observedAt: 2, delta: { os: { set: { 'os.c': 3 }, unset: ['os.a'] } } },
      { type: 'report', seq: 3, observedAt: 3, full: { config: { 'config.z': 9 } } },
    ]);
    expect(merged.full).toEqual({ config: { 'config.z': 9 }, os: { 'os.b': 1, 'os.c': 3 } });
    expect(merged.delta).toBeUndefined();
  });

  it('an unset then a set of the same path is a set; a set then an unset is an unset', () => {
    const merged = mergeReports([
      { type: 'report', seq: 1, observedAt: 1, delta: { os: { set: { 'os.b': 1 }, unset: ['os.a'] } } },
      { type: 'report', seq: 2, observedAt: 2, delta: { os: { set: { 'os.a': 2 }, unset: ['os.b'] } } },
    ]);
    expect(merged.delta).toEqual({ os: { set: { 'os.a': 2 }, unset: ['os.b'] } });
  });

  it('property: applying the merged report equals applying the originals in order, from any prefix', () => {
    fc.assert(
      fc.property(reportChain, fc.nat(), ({ start, reports, states }, cut) => {
        const merged = mergeReports(reports);
        const final = states.at(-1);
        expect(applyReport(start, merged)).toEqual(final);
        // Crash halfway through a compaction, or the aggregator stored a prefix: still the same end state.
        const prefix = cut % (reports.length + 1);
        let state = start;
        for (const report of reports.slice(0, prefix)) state = applyReport(state, report);
        expect(applyReport(state, merged)).toEqual(final);
        expect(merged.seq).toBe(reports.at(-1)?.seq);
      }),
    );
  });
});
