import { describe, expect, it } from 'vitest';
import { type AuditDifference, type AuditPair, type AuditReport, emptyAuditCounts } from './audit-report.js';
import { auditSince } from './audit-since.js';

function report(pairs: AuditPair[]): AuditReport {
  return {
    generatedAt: 0,
    environments: [],
    promotion: [],
    withoutHosts: [],
    summary: { counts: emptyAuditCounts(), open: 0, pairs: [], causes: [], outliers: [] },
    pairs,
  };
}

function pair(from: string, to: string, differences: AuditDifference[]): AuditPair {
  return { from, to, kind: 'promotion', parity: 1, compared: 10, counts: emptyAuditCounts(), differences };
}

const d = (path: string, status: AuditDifference['status'], to = 'x'): AuditDifference => ({
  path,
  category: path.split('.')[0] as string,
  from: 'a',
  to,
  status,
  action: null,
});

describe('auditSince', () => {
  const earlier = report([
    pair('staging', 'production', [
      d('library.fixed', 'drift'),
      d('library.justified', 'drift'),
      d('library.still', 'expired'),
      d('library.lapsed', 'justified'),
      d('library.scale', 'scale'),
      d('library.renewing', 'expired'),
    ]),
    pair('dev', 'staging', [d('config.gone', 'drift')]),
  ]);
  const later = report([
    pair('staging', 'production', [
      d('library.justified', 'justified'),
      d('library.still', 'drift', 'y'),
      d('library.lapsed', 'expired'),
      d('library.new', 'drift'),
      d('library.scale', 'scale'),
      d('library.renewing', 'expiring'),
    ]),
    pair('staging', 'perf', [d('config.elsewhere', 'drift')]),
  ]);
  const since = auditSince(earlier, later, 4);

  it('sorts each (pair, path) into new, remediated, newly justified and still open', () => {
    const paths = (list: typeof since.new) => list.map((change) => change.path);
    expect(since.audit).toBe(4);
    expect(paths(since.new)).toEqual(['library.lapsed', 'library.new']);
    expect(paths(since.remediated)).toEqual(['library.fixed']);
    expect(paths(since.newlyJustified)).toEqual(['library.justified', 'library.renewing']);
    expect(paths(since.stillOpen)).toEqual(['library.still']);
    expect(since.counts).toEqual({ new: 2, remediated: 1, newlyJustified: 2, stillOpen: 1 });
  });

  it('keeps both states of a change, and none for the side without a difference', () => {
    expect(since.stillOpen[0]).toEqual({
      from: 'staging',
      to: 'production',
      path: 'library.still',
      category: 'library',
      earlier: { status: 'expired', from: 'a', to: 'x' },
      later: { status: 'drift', from: 'a', to: 'y' },
    });
    expect(since.remediated[0]?.later).toBeUndefined();
    expect(since.new.find((change) => change.path === 'library.new')?.earlier).toBeUndefined();
  });

  it('diffs only pairs both audits compared: the others are listed, never counted as remediated', () => {
    expect(since.notCompared).toEqual([
      { from: 'dev', to: 'staging', in: 'earlier' },
      { from: 'staging', to: 'perf', in: 'later' },
    ]);
    expect([...since.remediated, ...since.new].map((change) => change.path)).not.toContain('config.gone');
    expect([...since.remediated, ...since.new].map((change) => change.path)).not.toContain('config.elsewhere');
  });

  it('between an audit and itself nothing is new, remediated or justified: its open differences are still open', () => {
    const same = auditSince(later, later, 5);
    // library.still, library.lapsed, library.new and staging -> perf's config.elsewhere.
    expect(same.counts).toEqual({ new: 0, remediated: 0, newlyJustified: 0, stillOpen: 4 });
  });
});
