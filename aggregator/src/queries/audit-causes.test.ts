import { describe, expect, it } from 'vitest';
import { groupAuditCauses } from './audit-causes.js';
import { auditPairs } from './audit-pairs.js';
import { type AuditDifference, type AuditPair, emptyAuditCounts } from './audit-report.js';

function pair(from: string, to: string, differences: AuditDifference[]): AuditPair {
  return { from, to, kind: 'promotion', parity: 1, compared: 10, counts: emptyAuditCounts(), differences };
}

const openssl = (to: string, status: AuditDifference['status'] = 'drift'): AuditDifference => ({
  path: 'library.dpkg.openssl',
  category: 'library',
  from: '3.0.15',
  to,
  status,
  action: null,
});

describe('groupAuditCauses', () => {
  it('makes one row of a difference several pairs share (same path and values), naming each pair', () => {
    const causes = groupAuditCauses([
      pair('dev', 'production', [openssl('3.0.13')]),
      pair('staging', 'production', [openssl('3.0.13', 'justified')]),
      pair('dev', 'staging', []),
    ]);
    expect(causes).toEqual([
      {
        path: 'library.dpkg.openssl',
        category: 'library',
        from: '3.0.15',
        to: '3.0.13',
        status: 'drift',
        pairs: [
          { from: 'dev', to: 'production', status: 'drift' },
          { from: 'staging', to: 'production', status: 'justified' },
        ],
      },
    ]);
  });

  it('keeps different values apart, absent values included, and compares values canonically', () => {
    const causes = groupAuditCauses([
      pair('dev', 'staging', [
        openssl('3.0.14'),
        { path: 'network.dns.servers', category: 'network', from: ['a', 'b'], status: 'drift', action: null },
      ]),
      pair('staging', 'production', [
        openssl('3.0.13'),
        { path: 'network.dns.servers', category: 'network', from: ['a', 'b'], status: 'drift', action: null },
        { path: 'network.dns.servers', category: 'network', to: ['a', 'b'], status: 'drift', action: null },
      ]),
    ]);
    expect(causes.map((cause) => [cause.path, cause.from, cause.to, cause.pairs.length])).toEqual([
      // Shared by two pairs first, then by path.
      ['network.dns.servers', ['a', 'b'], undefined, 2],
      ['library.dpkg.openssl', '3.0.15', '3.0.13', 1],
      ['library.dpkg.openssl', '3.0.15', '3.0.14', 1],
      ['network.dns.servers', undefined, ['a', 'b'], 1],
    ]);
  });

  it('orders the most pressing status first: drift, expired, expiring, justified, scale', () => {
    const causes = groupAuditCauses([
      pair('a', 'b', [
        { path: 'p.scale', category: 'p', from: 1, to: 2, status: 'scale', action: null },
        { path: 'p.justified', category: 'p', from: 1, to: 2, status: 'justified', action: null },
        { path: 'p.expiring', category: 'p', from: 1, to: 2, status: 'expiring', action: null },
        { path: 'p.expired', category: 'p', from: 1, to: 2, status: 'expired', action: null },
        { path: 'p.drift', category: 'p', from: 1, to: 2, status: 'drift', action: null },
      ]),
    ]);
    expect(causes.map((cause) => cause.status)).toEqual(['drift', 'expired', 'expiring', 'justified', 'scale']);
  });
});

describe('auditPairs', () => {
  it('lists the promotion neighbours first (upstream as from), then every other pair', () => {
    expect(auditPairs(['dev', 'staging', 'production', 'perf'], ['dev', 'staging', 'production'])).toEqual([
      { from: 'dev', to: 'staging', kind: 'promotion' },
      { from: 'staging', to: 'production', kind: 'promotion' },
      { from: 'dev', to: 'production', kind: 'other' },
      { from: 'dev', to: 'perf', kind: 'other' },
      { from: 'staging', to: 'perf', kind: 'other' },
      { from: 'production', to: 'perf', kind: 'other' },
    ]);
  });

  it('makes neighbours of the audited environments: dev and production without staging are promoted in one step', () => {
    expect(auditPairs(['dev', 'production'], ['dev', 'staging', 'production'])).toEqual([
      { from: 'dev', to: 'production', kind: 'promotion' },
    ]);
    expect(auditPairs(['a', 'b'], [])).toEqual([{ from: 'a', to: 'b', kind: 'other' }]);
  });
});
