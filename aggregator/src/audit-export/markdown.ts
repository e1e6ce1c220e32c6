/**
 * The audit as Markdown (GitHub-flavoured tables) for a pull request or a ticket: a summary table,
 * the since-diff of a recorded audit, the causes shared by several pairs, the outlier groups, then
 * one table per pair. Every cell is escaped: Markdown punctuation and `|` get a backslash, line
 * breaks become `<br>`, so no value can break a table or inject markup.
 */
import type { AuditChange, AuditCounts, AuditException, AuditSince } from '../queries/audit-report.js';
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

/** One table cell: `\`, `|`, emphasis, code, link and HTML characters escaped; line breaks as `<br>`. */
export function markdownCell(text: string): string {
  return text.replace(/[\\`*_[\]<>|#~]/g, '\\$&').replace(/\r\n|\r|\n/g, '<br>');
}

/** A value cell: absent values say so. */
function valueCell(value: Parameters<typeof valueText>[0]): string {
  return value === undefined ? '*(absent)*' : markdownCell(valueText(value));
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

const countCells = (counts: AuditCounts) => AUDIT_STATUSES.map((status) => String(counts[status]));

function exceptionCell(exception: AuditException | undefined): string {
  if (!exception) return '';
  const parts = [markdownCell(exception.reason)];
  if (exception.owner !== undefined) parts.push(`owner ${markdownCell(exception.owner)}`);
  parts.push(exception.expiresAt === null ? 'no expiry' : `expires ${isoText(exception.expiresAt)}`);
  if (exception.impact !== undefined) parts.push(`impact: ${markdownCell(exception.impact)}`);
  return parts.join(' · ');
}

function sinceSection(since: AuditSince): string[] {
  const { counts } = since;
  const out = [
    `## Since audit #${since.audit}`,
    '',
    `${counts.new} new, ${counts.remediated} remediated, ${counts.newlyJustified} newly justified, ${counts.stillOpen} still open.`,
  ];
  const lists: [string, AuditChange[]][] = [
    ['New', since.new],
    ['Remediated', since.remediated],
    ['Newly justified', since.newlyJustified],
    ['Still open', since.stillOpen],
  ];
  for (const [title, changes] of lists) {
    if (changes.length === 0) continue;
    out.push(
      '',
      `### ${title} (${changes.length})`,
      '',
      table(
        ['pair', 'path', 'then', 'now'],
        changes.map((change) => [
          markdownCell(pairText(change)),
          markdownCell(change.path),
          change.earlier
            ? `${change.earlier.status}: ${valueCell(change.earlier.from)} → ${valueCell(change.earlier.to)}`
            : '*(no difference)*',
          change.later
            ? `${change.later.status}: ${valueCell(change.later.from)} → ${valueCell(change.later.to)}`
            : '*(no difference)*',
        ]),
      ),
    );
  }
  if (since.notCompared.length > 0) {
    const pairs = since.notCompared.map((pair) => `${markdownCell(pairText(pair))} (${pair.in} only)`);
    out.push('', `Not compared (in one audit only): ${pairs.join(', ')}.`);
  }
  return out;
}

export function renderAuditMarkdown(input: AuditExport): string {
  const { report, since } = input;
  const { summary } = report;
  const out: string[] = [`# ${markdownCell(auditTitle(input))}`, ''];
  if (report.note !== undefined) out.push(`> ${markdownCell(report.note)}`, '');
  out.push(
    `Environments: ${report.environments.map(markdownCell).join(', ')}` +
      (report.promotion.length > 0 ? ` (promotion order: ${report.promotion.map(markdownCell).join(' → ')})` : '') +
      (report.pairsWith !== undefined ? `; only pairs with ${markdownCell(report.pairsWith)}` : '') +
      '.',
  );
  if (report.withoutHosts.length > 0) {
    out.push('', `Not audited (no host reports facts): ${report.withoutHosts.map(markdownCell).join(', ')}.`);
  }
  out.push(
    '',
    `**${summary.open} open** (drift or expired) of ${AUDIT_STATUSES.reduce((n, s) => n + summary.counts[s], 0)} differences.`,
    '',
    '## Summary',
    '',
    table(
      ['pair', 'kind', 'parity', ...AUDIT_STATUSES],
      [
        ...summary.pairs.map((pair) => [
          markdownCell(pairText(pair)),
          pair.kind,
          parityText(pair.parity),
          ...countCells(pair.counts),
        ]),
        ['**all pairs**', '', '', ...countCells(summary.counts).map((count) => `**${count}**`)],
      ],
    ),
  );
  if (since) out.push('', ...sinceSection(since));
  const security = securityDifferences(report);
  if (security.length > 0) {
    out.push(
      '',
      '## Security differences',
      '',
      SECURITY_SECTION_NOTE,
      '',
      table(
        ['pair', 'path', 'from', 'to', 'status', 'exception'],
        security.map(({ pair, difference }) => [
          markdownCell(pairText(pair)),
          markdownCell(difference.path),
          valueCell(difference.from),
          valueCell(difference.to),
          difference.status,
          exceptionCell(difference.exception),
        ]),
      ),
    );
  }
  const shared = summary.causes.filter((cause) => cause.pairs.length > 1);
  if (shared.length > 0) {
    out.push(
      '',
      '## Differences shared by several pairs',
      '',
      table(
        ['path', 'from', 'to', 'status', 'pairs'],
        shared.map((cause) => [
          markdownCell(cause.path),
          valueCell(cause.from),
          valueCell(cause.to),
          cause.status,
          cause.pairs.map((pair) => `${markdownCell(pairText(pair))} (${pair.status})`).join(', '),
        ]),
      ),
    );
  }
  for (const environment of summary.outliers) {
    if (environment.groups.length === 0) continue;
    out.push(
      '',
      `## Outliers in ${markdownCell(environment.environment)}`,
      '',
      `${environment.outlierHosts} of ${environment.hosts} hosts differ from the baseline` +
        (environment.totalGroups > environment.groups.length
          ? `; the ${environment.groups.length} largest of ${environment.totalGroups} groups:`
          : ':'),
      '',
      table(
        ['hosts', 'path', 'baseline', 'hosts have', 'status', 'first hosts'],
        environment.groups.map((group) => [
          String(group.hostCount),
          markdownCell(group.path),
          valueCell(group.expected),
          valueCell(group.actual),
          group.status,
          markdownCell(group.hosts.join(', ') + (group.hostCount > group.hosts.length ? ', …' : '')),
        ]),
      ),
    );
  }
  for (const pair of report.pairs) {
    out.push(
      '',
      `## ${markdownCell(pairText(pair))} (${pair.kind}), parity ${parityText(pair.parity)}`,
      '',
      pair.differences.length === 0
        ? 'No differences: every compared path is equal.'
        : table(
            ['path', 'from', 'to', 'status', 'action', 'exception'],
            pair.differences.map((difference) => [
              markdownCell(difference.path),
              valueCell(difference.from),
              valueCell(difference.to),
              difference.secretPolicy
                ? `${difference.status} (secret policy: ${difference.secretPolicy})`
                : difference.status,
              difference.action ?? '',
              exceptionCell(difference.exception),
            ]),
          ),
    );
  }
  return `${out.join('\n')}\n`;
}
