import type { ComparedDifference } from '@envparity/shared';
import { describe, expect, it } from 'vitest';
import type { ExceptionRecord } from '../store/fact-store.js';
import { createAuditJudge } from './audit-classification.js';
import type { OutlierCauseGroup } from './fleet-queries.js';

const NOW = Date.UTC(2025, 5, 1);
const DAY = 86_400_000;

function exception(overrides: Partial<ExceptionRecord> & Pick<ExceptionRecord, 'id'>): ExceptionRecord {
  return {
    path: 'library.*',
    environments: ['staging', 'production'],
    reason: 'upgrade after the freeze',
    expiresAt: null,
    createdAt: NOW - 30 * DAY,
    expiredAt: null,
    ...overrides,
  };
}

const drift: ComparedDifference = {
  path: 'library.openssl',
  category: 'library',
  status: 'drift',
  from: '3.0.13',
  to: '3.0.11',
};

function justifiedBy(id: string): ComparedDifference {
  return { ...drift, status: 'justified', exception: { id, reason: 'upgrade after the freeze' } };
}

describe('the audit judge on pairs', () => {
  it('keeps drift as drift with the action to take, and scale as scale with none', () => {
    const judge = createAuditJudge([], NOW);
    expect(judge.pair(drift, 'staging', 'production')).toEqual({
      path: 'library.openssl',
      category: 'library',
      status: 'drift',
      action: 'remediate or justify',
      from: '3.0.13',
      to: '3.0.11',
    });
    const scale = judge.pair(
      { path: 'hardware.cpu.cores', category: 'hardware', status: 'scale', from: 8, to: 16 },
      'staging',
      'production',
    );
    expect(scale).toMatchObject({ status: 'scale', action: null, from: 8, to: 16 });
  });

  it('an exception expiring in 6 days makes the difference expiring (renew); in 8 days it stays justified', () => {
    const soon = exception({ id: 'soon', expiresAt: NOW + 6 * DAY, owner: 'platform', impact: 'ciphers' });
    const later = exception({ id: 'later', expiresAt: NOW + 8 * DAY });
    const never = exception({ id: 'never' });
    const judge = createAuditJudge([soon, later, never], NOW);
    expect(judge.pair(justifiedBy('soon'), 'staging', 'production')).toEqual({
      path: 'library.openssl',
      category: 'library',
      status: 'expiring',
      action: 'renew',
      from: '3.0.13',
      to: '3.0.11',
      exception: {
        id: 'soon',
        path: 'library.*',
        environments: ['staging', 'production'],
        reason: 'upgrade after the freeze',
        impact: 'ciphers',
        owner: 'platform',
        expiresAt: NOW + 6 * DAY,
      },
    });
    expect(judge.pair(justifiedBy('later'), 'staging', 'production')).toMatchObject({
      status: 'justified',
      action: null,
      exception: { id: 'later', expiresAt: NOW + 8 * DAY },
    });
    expect(judge.pair(justifiedBy('never'), 'staging', 'production')).toMatchObject({
      status: 'justified',
      exception: { id: 'never', expiresAt: null },
    });
    // Exactly 7 days is still within the window.
    const edge = createAuditJudge([exception({ id: 'edge', expiresAt: NOW + 7 * DAY })], NOW);
    expect(edge.pair(justifiedBy('edge'), 'staging', 'production').status).toBe('expiring');
  });

  it('drift that an expired exception would match is expired, naming that exception', () => {
    const lapsed = exception({ id: 'lapsed', expiresAt: NOW - DAY, owner: 'platform' });
    const judge = createAuditJudge([lapsed], NOW);
    expect(judge.pair(drift, 'staging', 'production')).toMatchObject({
      status: 'expired',
      action: 'remediate or justify',
      exception: { id: 'lapsed', owner: 'platform', expiresAt: NOW - DAY },
    });
    // Either direction of the pair: environments are an unordered pair.
    expect(judge.pair(drift, 'production', 'staging').status).toBe('expired');
  });

  it('an expired exception matches only by the shared rules: its glob and its environments', () => {
    const lapsed = exception({ id: 'lapsed', path: 'library.dpkg.*', expiresAt: NOW - DAY });
    const single = exception({ id: 'single', path: 'library.*', environments: ['production'], expiresAt: NOW - DAY });
    const judge = createAuditJudge([lapsed, single], NOW);
    // The glob does not match library.openssl; the single-environment rule covers outliers only.
    expect(judge.pair(drift, 'staging', 'production').status).toBe('drift');
    expect(judge.pair({ ...drift, path: 'library.dpkg.curl' }, 'staging', 'production').status).toBe('expired');
    expect(judge.pair({ ...drift, path: 'library.dpkg.curl' }, 'dev', 'production').status).toBe('drift');
  });

  it('names the most recently expired exception when several match', () => {
    const older = exception({ id: 'older', expiresAt: NOW - 10 * DAY });
    const newer = exception({ id: 'newer', expiresAt: NOW - DAY });
    expect(createAuditJudge([older, newer], NOW).pair(drift, 'staging', 'production').exception?.id).toBe('newer');
  });

  it('an expiry that is exactly now has lapsed', () => {
    const judge = createAuditJudge([exception({ id: 'now', expiresAt: NOW })], NOW);
    expect(judge.pair(drift, 'staging', 'production').status).toBe('expired');
  });

  it('counts secret-policy findings as drift and keeps the policy visible', () => {
    const judge = createAuditJudge([], NOW);
    const secret = judge.pair(
      {
        path: 'config.env.DB_PASSWORD',
        category: 'config',
        status: 'secret-policy',
        secretPolicy: 'differ',
        from: 'hmac-sha256:aa',
        to: 'hmac-sha256:aa',
      },
      'staging',
      'production',
    );
    expect(secret).toMatchObject({ status: 'drift', action: 'remediate or justify', secretPolicy: 'differ' });
  });
});

describe('the audit judge on outlier groups', () => {
  const group: OutlierCauseGroup = {
    path: 'config.env.LOG_LEVEL',
    expected: 'info',
    actual: 'warn',
    class: 'behavior',
    status: 'drift',
    hostCount: 7,
    hosts: ['prod-3', 'prod-4'],
  };

  it('uses the single-environment rules: an expired rule naming the environment makes it expired', () => {
    const inside = exception({
      id: 'inside',
      path: 'config.env.*',
      environments: ['production'],
      expiresAt: NOW - DAY,
    });
    const pair = exception({ id: 'pair', path: 'config.env.*', expiresAt: NOW - DAY });
    expect(createAuditJudge([pair], NOW).outlier(group, 'production')).toEqual({
      path: 'config.env.LOG_LEVEL',
      category: 'config',
      expected: 'info',
      actual: 'warn',
      status: 'drift',
      action: 'remediate or justify',
      hostCount: 7,
      hosts: ['prod-3', 'prod-4'],
    });
    expect(createAuditJudge([inside, pair], NOW).outlier(group, 'production')).toMatchObject({
      status: 'expired',
      exception: { id: 'inside' },
    });
  });

  it('a justified group whose exception expires soon is expiring', () => {
    const soon = exception({ id: 'soon', path: 'config.env.*', environments: ['production'], expiresAt: NOW + DAY });
    const justified: OutlierCauseGroup = { ...group, status: 'justified', exception: { id: 'soon', reason: 'r' } };
    expect(createAuditJudge([soon], NOW).outlier(justified, 'production')).toMatchObject({
      status: 'expiring',
      action: 'renew',
      exception: { id: 'soon', expiresAt: NOW + DAY },
    });
  });
});
