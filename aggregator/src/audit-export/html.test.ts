import { describe, expect, it } from 'vitest';
import { auditReportFixture, auditSinceFixture, FIXTURE_AT } from '../../testing/audit-report-fixture.js';
import { escapeHtml, renderAuditHtml } from './html.js';

describe('renderAuditHtml', () => {
  const html = renderAuditHtml({
    report: { ...auditReportFixture(), note: '<b>note</b>' },
    audit: { id: 4, at: FIXTURE_AT, author: 'ci <bot>' },
    since: auditSinceFixture(),
  });

  it('escapes every value', () => {
    expect(escapeHtml(`<a href="x">&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;');
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;b&gt;note&lt;/b&gt;');
    expect(html).toContain('by ci &lt;bot&gt;');
    expect(html).toContain('platform &lt;team&gt;');
    // Only our own script block.
    expect(html.match(/<script>/g)).toHaveLength(1);
  });

  it('is one self-contained file: inline style and script, no external asset or link out', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<style>');
    expect(html).not.toMatch(/<link\b/);
    expect(html).not.toMatch(/<script[^>]*\bsrc=/);
    expect(html).not.toMatch(/<img\b/);
    expect(html).not.toMatch(/@import|url\(/);
    // Every link is an anchor inside the file; the hostile value's URL is text only.
    for (const [, target] of html.matchAll(/href="([^"]*)"/g)) expect(target).toMatch(/^#pair-\d+$/);
    expect(html).toContain('id="pair-1"');
    expect(html).toContain('prefers-color-scheme: dark');
  });

  it('has summary cards, the since-diff, causes, outliers and a table per pair, and a search box the script reveals', () => {
    expect(html).toContain('<div class="card"><span class="n">2</span>open (drift or expired) of 4</div>');
    expect(html).toContain('<h2>Since audit #3</h2>');
    expect(html).toContain('<h2>Differences by cause</h2>');
    expect(html).toContain('<h2>Outliers in production</h2>');
    expect(html).toMatch(/<h2 id="pair-1">staging → production <small class="muted">promotion · parity 93.7%/);
    expect(html).toContain('<td class="value"><span class="muted">(absent)</span></td>');
    expect(html).toContain('secret policy: differ');
    // Without script the box stays hidden and the tables are plain tables.
    expect(html).toContain('<p class="search" hidden><label>Search rows <input type="search" id="search"');
    expect(html).toContain("box.closest('.search').hidden = false");
    expect(html.match(/<table class="rows">/g)?.length).toBeGreaterThanOrEqual(4);
  });
});
