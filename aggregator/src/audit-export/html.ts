/**
 * The audit as ONE self-contained HTML file (to attach to a ticket or archive): inline CSS (light
 * and dark), summary cards, the since-diff, causes, outlier groups and one table per pair. A few
 * lines of inline script add a search box that filters rows; without script the box stays hidden
 * and the tables are plain. No external asset, no link out; every value is HTML-escaped.
 */
import type { FactValue } from '@envparity/shared';
import type { AuditChange, AuditException, AuditSince, AuditStatus } from '../queries/audit-report.js';
import { AUDIT_STATUSES } from '../queries/audit-report.js';
import {
  type AuditExport,
  auditTitle,
  isoText,
  pairText,
  parityText,
  SECURITY_SECTION_NOTE,
  securityDifferences,
  valueText,
} from './audit-export.js';

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `
:root { --fg:#1b1f24; --muted:#57606a; --bg:#fff; --panel:#f6f8fa; --line:#d0d7de;
  --drift:#b42318; --drift-bg:#fde8e7; --ok:#1a7f37; --just:#6e40c9; --just-bg:#efe7ff; --scale:#7a5a00; --scale-bg:#fff3c4;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
@media (prefers-color-scheme: dark) { :root { --fg:#e6edf3; --muted:#9da7b3; --bg:#0d1117; --panel:#161b22; --line:#30363d;
  --drift:#ff7b72; --drift-bg:#3d1514; --ok:#56d364; --just:#d2a8ff; --just-bg:#2a1d45; --scale:#e3b341; --scale-bg:#332700; } }
* { box-sizing: border-box; }
body { margin:0 auto; max-width:1400px; padding:1rem; font:15px/1.45 system-ui, sans-serif; color:var(--fg); background:var(--bg); }
h1 { font-size:1.4rem; } h2 { font-size:1.15rem; margin-top:1.6rem; } h3 { font-size:1rem; }
.muted { color:var(--muted); }
.cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(10rem, 1fr)); gap:.6rem; }
.card { border:1px solid var(--line); border-radius:.4rem; padding:.5rem .7rem; background:var(--panel); }
.card .n { font-size:1.6rem; font-weight:700; display:block; }
table { border-collapse:collapse; width:100%; margin:.4rem 0 1rem; }
th, td { text-align:left; padding:.3rem .5rem; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:var(--panel); }
td.num { text-align:right; font-variant-numeric:tabular-nums; }
.mono, td.path, td.value { font-family:var(--mono); font-size:.88em; overflow-wrap:anywhere; }
.status { display:inline-block; padding:0 .4rem; border-radius:.3rem; font-size:.82em; font-weight:600; white-space:nowrap; }
.status.drift, .status.expired { color:var(--drift); background:var(--drift-bg); }
.status.justified { color:var(--just); background:var(--just-bg); }
.status.expiring, .status.scale { color:var(--scale); background:var(--scale-bg); }
.search { margin:1rem 0; } .search input { font:inherit; padding:.3rem .5rem; min-width:20rem; color:inherit; background:var(--bg); border:1px solid var(--line); border-radius:.3rem; }
nav a { margin-right:.8rem; }
`;

/** Filters the rows of every `table.rows` by the search box; the box is shown only when this runs. */
const SCRIPT = `
(() => {
  const box = document.getElementById('search');
  if (!box) return;
  box.closest('.search').hidden = false;
  const rows = [...document.querySelectorAll('table.rows tbody tr')];
  box.addEventListener('input', () => {
    const needle = box.value.trim().toLowerCase();
    for (const row of rows) row.hidden = needle !== '' && !row.textContent.toLowerCase().includes(needle);
  });
})();
`;

const e = escapeHtml;

function status(value: AuditStatus): string {
  return `<span class="status ${value}">${value}</span>`;
}

function valueCell(value: FactValue | undefined): string {
  return value === undefined
    ? '<td class="value"><span class="muted">(absent)</span></td>'
    : `<td class="value">${e(valueText(value))}</td>`;
}

function table(header: readonly string[], rows: readonly string[], className = 'rows'): string {
  return `<table class="${className}"><thead><tr>${header.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function exceptionText(exception: AuditException | undefined): string {
  if (!exception) return '';
  const details = [
    exception.owner !== undefined ? `owner ${e(exception.owner)}` : 'no owner',
    exception.expiresAt === null ? 'no expiry' : `expires ${e(isoText(exception.expiresAt))}`,
    `glob <span class="mono">${e(exception.path)}</span>`,
  ];
  if (exception.impact !== undefined) details.push(`impact: ${e(exception.impact)}`);
  return `${e(exception.reason)}<br><small class="muted">${details.join(' · ')}</small>`;
}

function stateText(state: AuditChange['earlier']): string {
  if (!state) return '<span class="muted">no difference</span>';
  return `${status(state.status)} <span class="mono">${e(valueText(state.from) || '(absent)')} → ${e(valueText(state.to) || '(absent)')}</span>`;
}

function sinceSection(since: AuditSince): string {
  const { counts } = since;
  const lists: [string, AuditChange[]][] = [
    ['New', since.new],
    ['Remediated', since.remediated],
    ['Newly justified', since.newlyJustified],
    ['Still open', since.stillOpen],
  ];
  const parts = [
    `<h2>Since audit #${since.audit}</h2>`,
    '<div class="cards">',
    ...[
      ['new', counts.new],
      ['remediated', counts.remediated],
      ['newly justified', counts.newlyJustified],
      ['still open', counts.stillOpen],
    ].map(([label, n]) => `<div class="card"><span class="n">${n}</span>${label}</div>`),
    '</div>',
  ];
  for (const [title, changes] of lists) {
    if (changes.length === 0) continue;
    parts.push(
      `<h3>${title} (${changes.length})</h3>`,
      table(
        ['pair', 'path', 'then', 'now'],
        changes.map(
          (change) =>
            `<tr><td>${e(pairText(change))}</td><td class="path">${e(change.path)}</td><td>${stateText(change.earlier)}</td><td>${stateText(change.later)}</td></tr>`,
        ),
      ),
    );
  }
  if (since.notCompared.length > 0) {
    parts.push(
      `<p class="muted">Not compared (in one audit only): ${since.notCompared.map((pair) => `${e(pairText(pair))} (${pair.in} only)`).join(', ')}</p>`,
    );
  }
  return parts.join('\n');
}

export function renderAuditHtml(input: AuditExport): string {
  const { report, since } = input;
  const { summary } = report;
  const title = auditTitle(input);
  const total = AUDIT_STATUSES.reduce((n, s) => n + summary.counts[s], 0);
  const parts: string[] = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${e(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head><body>',
    `<h1>${e(title)}</h1>`,
  ];
  if (report.note !== undefined) parts.push(`<blockquote>${e(report.note)}</blockquote>`);
  parts.push(
    `<p>Environments: ${report.environments.map(e).join(', ')}` +
      (report.promotion.length > 0
        ? ` <span class="muted">(promotion order: ${report.promotion.map(e).join(' → ')})</span>`
        : '') +
      (report.pairsWith !== undefined ? `; only pairs with ${e(report.pairsWith)}` : '') +
      '</p>',
  );
  if (report.withoutHosts.length > 0) {
    parts.push(`<p class="muted">Not audited (no host reports facts): ${report.withoutHosts.map(e).join(', ')}</p>`);
  }
  parts.push(
    '<div class="cards">',
    `<div class="card"><span class="n">${summary.open}</span>open (drift or expired) of ${total}</div>`,
    ...AUDIT_STATUSES.map((s) => `<div class="card"><span class="n">${summary.counts[s]}</span>${status(s)}</div>`),
    '</div>',
    '<h2>Pairs</h2>',
    table(
      ['pair', 'kind', 'parity', ...AUDIT_STATUSES],
      summary.pairs.map(
        (pair, index) =>
          `<tr><td><a href="#pair-${index + 1}">${e(pairText(pair))}</a></td><td>${pair.kind}</td><td class="num">${parityText(pair.parity)}</td>${AUDIT_STATUSES.map((s) => `<td class="num">${pair.counts[s]}</td>`).join('')}</tr>`,
      ),
      'summary',
    ),
    '<p class="search" hidden><label>Search rows <input type="search" id="search" placeholder="path, value, owner, status…"></label></p>',
  );
  if (since) parts.push(sinceSection(since));
  const security = securityDifferences(report);
  if (security.length > 0) {
    parts.push(
      '<h2>Security differences</h2>',
      `<p class="muted">${e(SECURITY_SECTION_NOTE)}</p>`,
      table(
        ['pair', 'path', 'from', 'to', 'status'],
        security.map(
          ({ pair, difference }) =>
            `<tr><td>${e(pairText(pair))}</td><td class="path">${e(difference.path)}</td>${valueCell(difference.from)}${valueCell(difference.to)}<td>${status(difference.status)}</td></tr>`,
        ),
      ),
    );
  }
  if (summary.causes.length > 0) {
    parts.push(
      '<h2>Differences by cause</h2>',
      table(
        ['path', 'from', 'to', 'status', 'pairs'],
        summary.causes.map(
          (cause) =>
            `<tr><td class="path">${e(cause.path)}</td>${valueCell(cause.from)}${valueCell(cause.to)}<td>${status(cause.status)}</td><td>${cause.pairs.map((pair) => `${e(pairText(pair))} (${pair.status})`).join('<br>')}</td></tr>`,
        ),
      ),
    );
  }
  for (const environment of summary.outliers) {
    if (environment.groups.length === 0) continue;
    parts.push(
      `<h2>Outliers in ${e(environment.environment)}</h2>`,
      `<p class="muted">${environment.outlierHosts} of ${environment.hosts} hosts differ from the baseline${environment.totalGroups > environment.groups.length ? `; the ${environment.groups.length} largest of ${environment.totalGroups} groups` : ''}</p>`,
      table(
        ['hosts', 'path', 'baseline', 'hosts have', 'status', 'first hosts'],
        environment.groups.map(
          (group) =>
            `<tr><td class="num">${group.hostCount}</td><td class="path">${e(group.path)}</td>${valueCell(group.expected)}${valueCell(group.actual)}<td>${status(group.status)}</td><td class="mono">${e(group.hosts.join(', '))}${group.hostCount > group.hosts.length ? ', …' : ''}</td></tr>`,
        ),
      ),
    );
  }
  report.pairs.forEach((pair, index) => {
    parts.push(
      `<h2 id="pair-${index + 1}">${e(pairText(pair))} <small class="muted">${pair.kind} · parity ${parityText(pair.parity)} · ${pair.compared} behavior paths</small></h2>`,
      pair.differences.length === 0
        ? '<p class="muted">No differences: every compared path is equal.</p>'
        : table(
            ['path', 'from', 'to', 'status', 'action', 'exception'],
            pair.differences.map(
              (difference) =>
                `<tr><td class="path">${e(difference.path)}</td>${valueCell(difference.from)}${valueCell(difference.to)}<td>${status(difference.status)}${difference.secretPolicy ? ` <small class="muted">secret policy: ${difference.secretPolicy}</small>` : ''}</td><td>${e(difference.action ?? '')}</td><td>${exceptionText(difference.exception)}</td></tr>`,
            ),
          ),
    );
  });
  parts.push(`<script>${SCRIPT}</script>`, '</body></html>');
  return `${parts.join('\n')}\n`;
}
