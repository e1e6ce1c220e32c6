import { applyReport, categoryOf, type FactMap, fingerprintMap } from '@envparity/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildReport, categoryFingerprints, describeReport } from './reporter.js';

const factValue = fc.oneof(
  fc.integer(),
  fc.string({ maxLength: 5 }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
);
const factPath = fc
  .tuple(fc.constantFrom('os', 'config', 'library', 'network'), fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'))
  .map(([category, key]) => `${category}.${key}`);
const factMap: fc.Arbitrary<FactMap> = fc.dictionary(factPath, factValue, { maxKeys: 12 });

function category(facts: FactMap, name: string): FactMap {
  return Object.fromEntries(Object.entries(facts).filter(([path]) => categoryOf(path) === name));
}

describe('buildReport', () => {
  it('sends everything full when asked for all (first report of a state dir)', () => {
    const current = { 'os.release': '12', 'config.env.LOG_LEVEL': 'info', 'library.dpkg.openssl': '3.0.2' };
    const report = buildReport({ sent: {}, current, full: 'all', observedAt: 1000 });
    expect(report?.full).toEqual({
      config: { 'config.env.LOG_LEVEL': 'info' },
      library: { 'library.dpkg.openssl': '3.0.2' },
      os: { 'os.release': '12' },
    });
    expect(report?.delta).toBeUndefined();
    expect(report?.observedAt).toBe(1000);
    expect(report?.fingerprints?.os).toBe(fingerprintMap({ 'os.release': '12' }));
  });

  it('then sends only the changed paths of the changed categories, with whole-category fingerprints', () => {
    const sent = { 'os.release': '12', 'os.kernel': '6.1', 'library.dpkg.openssl': '3.0.2', 'library.dpkg.curl': '8' };
    const current = { 'os.release': '12', 'os.kernel': '6.1', 'library.dpkg.openssl': '3.0.13' };
    const report = buildReport({ sent, current, observedAt: 2000 });
    expect(report?.full).toBeUndefined();
    expect(report?.delta).toEqual({
      library: { set: { 'library.dpkg.openssl': '3.0.13' }, unset: ['library.dpkg.curl'] },
    });
    expect(report?.fingerprints).toEqual({ library: fingerprintMap({ 'library.dpkg.openssl': '3.0.13' }) });
    expect(describeReport(report!)).toEqual({ full: [], delta: ['library'], paths: 2 });
  });

  it('returns nothing when nothing changed: the caller sends a heartbeat', () => {
    const facts = { 'os.release': '12', 'hardware.cpu.cores': 4 };
    expect(buildReport({ sent: facts, current: { ...facts }, observedAt: 1 })).toBeUndefined();
    expect(buildReport({ sent: {}, current: {}, observedAt: 1 })).toBeUndefined();
  });

  it('sends requested categories full even when unchanged, and empty when the host has none', () => {
    const facts = { 'os.release': '12', 'config.a': 1 };
    const report = buildReport({ sent: facts, current: facts, full: new Set(['os', 'probe']), observedAt: 1 });
    expect(report?.full).toEqual({ os: { 'os.release': '12' }, probe: {} });
    expect(report?.fingerprints).toEqual({ os: fingerprintMap({ 'os.release': '12' }), probe: fingerprintMap({}) });
  });

  it('clears a category that disappeared when sending all full', () => {
    const report = buildReport({ sent: { 'probe.x': 1 }, current: { 'os.a': 1 }, full: 'all', observedAt: 1 });
    expect(report?.full).toEqual({ os: { 'os.a': 1 }, probe: {} });
  });

  it('holds back held (volatile) changes: they neither make a report nor ride along, and fingerprints match', () => {
    const sent = { 'os.uptime': 10, 'os.release': '12', 'hardware.load.1m': 0.5, 'config.a': 1 };
    const holdBack = (path: string) => path === 'os.uptime' || path.startsWith('hardware.load.');
    const volatileOnly = { ...sent, 'os.uptime': 70, 'hardware.load.1m': 0.7, 'hardware.load.5m': 0.6 };
    expect(buildReport({ sent, current: volatileOnly, observedAt: 1, holdBack })).toBeUndefined();

    const current = { ...volatileOnly, 'os.release': '13' };
    const report = buildReport({ sent, current, observedAt: 1, holdBack });
    expect(report?.delta).toEqual({ os: { set: { 'os.release': '13' }, unset: [] } });
    const applied = applyReport(sent, report ?? {});
    expect(applied).toEqual({ ...sent, 'os.release': '13' });
    expect(report?.fingerprints).toEqual({ os: fingerprintMap(category(applied, 'os')) });

    // A category sent full is sent as collected.
    const full = buildReport({ sent, current, full: new Set(['hardware']), observedAt: 1, holdBack });
    expect(full?.full?.hardware).toEqual({ 'hardware.load.1m': 0.7, 'hardware.load.5m': 0.6 });
    expect(full?.delta).toEqual({ os: { set: { 'os.release': '13' }, unset: [] } });
  });

  it('property: applying the report to what was sent gives the current facts, and fingerprints match', () => {
    fc.assert(
      fc.property(
        factMap,
        factMap,
        fc.subarray(['os', 'config', 'library', 'network', 'probe']),
        (sent, current, fullList) => {
          const report = buildReport({ sent, current, full: new Set(fullList), observedAt: 5 });
          const applied = report ? applyReport(sent, report) : sent;
          expect(applied).toEqual(current);
          for (const [name, fingerprint] of Object.entries(report?.fingerprints ?? {})) {
            expect(fingerprint).toBe(fingerprintMap(category(current, name)));
          }
          if (!report) expect(fullList).toEqual([]);
        },
      ),
    );
  });

  it('property: with changes held back, the held paths keep their sent state and fingerprints match the result', () => {
    const holdBack = (path: string) => path.endsWith('.a') || path.endsWith('.b');
    fc.assert(
      fc.property(factMap, factMap, fc.subarray(['os', 'config', 'library', 'network']), (sent, current, fullList) => {
        const full = new Set(fullList);
        const report = buildReport({ sent, current, full, observedAt: 5, holdBack });
        const applied = report ? applyReport(sent, report) : sent;
        const expected: FactMap = {};
        for (const [path, value] of Object.entries(current)) {
          if (full.has(categoryOf(path)) || !holdBack(path)) expected[path] = value;
        }
        for (const [path, value] of Object.entries(sent)) {
          if (!full.has(categoryOf(path)) && holdBack(path)) expected[path] = value;
        }
        expect(applied).toEqual(expected);
        for (const [name, fingerprint] of Object.entries(report?.fingerprints ?? {})) {
          expect(fingerprint).toBe(fingerprintMap(category(applied, name)));
        }
      }),
    );
  });
});

describe('categoryFingerprints', () => {
  it('fingerprints each category of a map', () => {
    expect(categoryFingerprints({ 'os.a': 1, 'config.b': 2 })).toEqual({
      config: fingerprintMap({ 'config.b': 2 }),
      os: fingerprintMap({ 'os.a': 1 }),
    });
  });
});
