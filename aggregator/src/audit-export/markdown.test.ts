import { describe, expect, it } from 'vitest';
import { auditReportFixture, auditSinceFixture, FIXTURE_AT } from '../../testing/audit-report-fixture.js';
import { renderAuditHtml } from './html.js';
import { markdownCell, renderAuditMarkdown } from './markdown.js';

describe('renderAuditMarkdown', () => {
  it('escapes what would break a table or inject markup, and turns line breaks into <br>', () => {
    expect(markdownCell('a|b')).toBe('a\\|b');
    expect(markdownCell('one\ntwo\r\nthree')).toBe('one<br>two<br>three');
    expect(markdownCell('<b>*x*</b> [l](u) `c` \\')).toBe('\\<b\\>\\*x\\*\\</b\\> \\[l\\](u) \\`c\\` \\\\');
    expect(markdownCell('LOG_LEVEL')).toBe('LOG\\_LEVEL');
  });

  it('renders a summary table, shared causes, outliers and one table per pair; every table row keeps its columns', () => {
    const text = renderAuditMarkdown({ report: auditReportFixture() });
    expect(text).toContain('# envparity parity audit, 2025-03-04T09:30:00Z');
    expect(text).toContain('| pair | kind | parity | drift | expired | expiring | justified | scale |');
    expect(text).toContain('| staging → production | promotion | 93.7% | 2 | 0 | 1 | 0 | 1 |');
    expect(text).toContain('| **all pairs** |  |  | **2** | **0** | **1** | **0** | **1** |');
    expect(text).toContain('Not audited (no host reports facts): perf.');
    expect(text).toContain('## Outliers in production');
    expect(text).toContain('7 of 12 hosts differ from the baseline; the 1 largest of 3 groups:');
    expect(text).toContain('| 7 | library.dpkg.openssl | 3.0.15 | 3.0.13 | drift | prod-1, prod-2, … |');
    expect(text).toContain('## staging → production (promotion), parity 93.7%');
    expect(text).toContain(
      '| config.env.LOG\\_LEVEL | debug | info | expiring | renew | verbose, "on purpose"<br>see ticket \\| OPS-1 · owner platform \\<team\\> · expires 2025-03-07T09:30:00Z · impact: logs |',
    );
    expect(text).toContain('| network.dns.servers | *(absent)* | \\["10.0.0.2","10.0.0.3"\\] | scale |  |  |');
    expect(text).toContain('drift (secret policy: differ)');
    // No raw HTML from values, and no row with an unescaped pipe too many.
    expect(text).not.toContain('<script>');
    for (const line of text.split('\n').filter((l) => l.startsWith('| '))) {
      const header = text.split('\n').find((l) => l.startsWith('| path | from | to | status | action'));
      if (!line.includes('config.env.')) continue;
      const cells = (l: string) => l.replace(/\\\|/g, '').split('|').length;
      expect(cells(line)).toBe(cells(header as string));
    }
  });

  it('lists security differences apart, before the rest, and only when there are some', () => {
    expect(renderAuditMarkdown({ report: auditReportFixture() })).not.toContain('## Security differences');
    const report = auditReportFixture();
    const pair = report.pairs[0] as (typeof report.pairs)[number];
    pair.differences.push({
      path: 'security.sshd.PasswordAuthentication',
      category: 'security',
      from: 'no',
      to: 'yes',
      status: 'drift',
      action: 'remediate or justify',
    });
    const text = renderAuditMarkdown({ report });
    expect(text).toContain('## Security differences');
    expect(text).toContain('an exception covering one needs an owner and expires within 180 days');
    expect(text).toContain(
      `| ${pair.from} → ${pair.to} | security.sshd.PasswordAuthentication | no | yes | drift |  |`,
    );
    expect(text.indexOf('## Security differences')).toBeLessThan(text.indexOf(`## ${pair.from} → ${pair.to} (`));
    expect(renderAuditHtml({ report })).toContain('<h2>Security differences</h2>');
  });

  it('adds the since-diff and the recorded audit’s identity', () => {
    const text = renderAuditMarkdown({
      report: { ...auditReportFixture(), note: 'monthly | March' },
      audit: { id: 4, at: FIXTURE_AT, author: 'ci' },
      since: auditSinceFixture(),
    });
    expect(text).toContain('# envparity parity audit \\#4, 2025-03-04T09:30:00Z by ci');
    expect(text).toContain('> monthly \\| March');
    expect(text).toContain('## Since audit #3');
    expect(text).toContain('1 new, 0 remediated, 0 newly justified, 0 still open.');
    expect(text).toContain('### New (1)');
    expect(text).toContain(
      '| staging → production | config.env.MOTD | *(no difference)* | drift: a,b "quoted"<br>next',
    );
    expect(text).toContain('Not compared (in one audit only): dev → staging (earlier only).');
  });
});
