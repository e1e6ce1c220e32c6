/**
 * A small audit report for the export tests, with the values exports must survive: commas, quotes,
 * line breaks, pipes, Markdown and HTML syntax, arrays, numbers, absent sides, secret hashes.
 */
import { type AuditReport, type AuditSince, emptyAuditCounts } from '../src/queries/audit-report.js';

export const FIXTURE_AT = Date.UTC(2025, 2, 4, 9, 30, 0);
const DAY = 86_400_000;

export const HOSTILE_VALUE = 'a,b "quoted"\nnext | line <script>alert(1)</script> *bold* [x](http://evil.example)';

export function auditReportFixture(): AuditReport {
  const exception = {
    id: 'ex-1',
    path: 'config.env.*',
    environments: ['staging', 'production'],
    reason: 'verbose, "on purpose"\nsee ticket | OPS-1',
    owner: 'platform <team>',
    impact: 'logs',
    expiresAt: FIXTURE_AT + 3 * DAY,
  };
  return {
    generatedAt: FIXTURE_AT,
    environments: ['staging', 'production'],
    promotion: ['staging', 'production'],
    withoutHosts: ['perf'],
    summary: {
      counts: { ...emptyAuditCounts(), drift: 2, expiring: 1, scale: 1 },
      open: 2,
      pairs: [
        {
          from: 'staging',
          to: 'production',
          kind: 'promotion',
          parity: 0.9375,
          compared: 16,
          counts: { ...emptyAuditCounts(), drift: 2, expiring: 1, scale: 1 },
        },
      ],
      causes: [
        {
          path: 'config.env.MOTD',
          category: 'config',
          from: HOSTILE_VALUE,
          to: 'plain',
          status: 'drift',
          pairs: [{ from: 'staging', to: 'production', status: 'drift' }],
        },
      ],
      outliers: [
        {
          environment: 'production',
          hosts: 12,
          outlierHosts: 7,
          totalGroups: 3,
          groups: [
            {
              path: 'library.dpkg.openssl',
              category: 'library',
              expected: '3.0.15',
              actual: '3.0.13',
              status: 'drift',
              action: 'remediate or justify',
              hostCount: 7,
              hosts: ['prod-1', 'prod-2'],
            },
          ],
        },
      ],
    },
    pairs: [
      {
        from: 'staging',
        to: 'production',
        kind: 'promotion',
        parity: 0.9375,
        compared: 16,
        counts: { ...emptyAuditCounts(), drift: 2, expiring: 1, scale: 1 },
        differences: [
          {
            path: 'config.env.LOG_LEVEL',
            category: 'config',
            from: 'debug',
            to: 'info',
            status: 'expiring',
            action: 'renew',
            exception,
          },
          {
            path: 'config.env.MOTD',
            category: 'config',
            from: HOSTILE_VALUE,
            to: 'plain',
            status: 'drift',
            action: 'remediate or justify',
          },
          {
            path: 'config.env.DB_PASSWORD',
            category: 'config',
            from: 'hmac-sha256:aaaa',
            to: 'hmac-sha256:aaaa',
            status: 'drift',
            action: 'remediate or justify',
            secretPolicy: 'differ',
          },
          {
            path: 'network.dns.servers',
            category: 'network',
            to: ['10.0.0.2', '10.0.0.3'],
            status: 'scale',
            action: null,
          },
        ],
      },
    ],
  };
}

export function auditSinceFixture(): AuditSince {
  return {
    audit: 3,
    new: [
      {
        from: 'staging',
        to: 'production',
        path: 'config.env.MOTD',
        category: 'config',
        later: { status: 'drift', from: HOSTILE_VALUE, to: 'plain' },
      },
    ],
    remediated: [],
    newlyJustified: [],
    stillOpen: [],
    counts: { new: 1, remediated: 0, newlyJustified: 0, stillOpen: 0 },
    notCompared: [{ from: 'dev', to: 'staging', in: 'earlier' }],
  };
}
