/** Output formats of `verify`: text (default), json (stable schema), junit, markdown. */
import type { FactValue } from '@envparity/shared';
import { type Check, isFailing, type VerifyResult } from './evaluate.js';

export const VERIFY_FORMATS = ['text', 'json', 'junit', 'markdown'] as const;
export type VerifyFormat = (typeof VERIFY_FORMATS)[number];

/** The `json` format's schema id; bump it when the shape changes. */
export const VERIFY_JSON_SCHEMA = 'envparity/verify/v1';

const MAX_VALUE_CHARS = 200;

function show(value: FactValue | undefined): string {
  if (value === undefined) return '(missing)';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

function percent(parity: number): string {
  return `${(Math.floor(parity * 1000) / 10).toFixed(1)}%`;
}

function targetName(result: VerifyResult): string {
  return result.target.kind === 'environment'
    ? `environment ${result.target.name}`
    : `expectations ${result.target.name}`;
}

/** One line: the verdict, the counts and the parity score. */
export function summaryLine(result: VerifyResult): string {
  const s = result.summary;
  return `${result.passed ? 'PASS' : 'FAIL'}: host ${result.host.id} vs ${targetName(result)}: ${s.drift} drift, ${s.justified} justified, ${s.scale} scale, ${s.pass} equal of ${s.checked} checked — parity ${percent(result.parity)}`;
}

const ANSI = {
  red: '\x1b[31m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  cyan: '\x1b[36m',
  dim: '\x1b[2m',
  bold: '\x1b[1m',
  reset: '\x1b[0m',
};

/** Text: non-passing checks grouped by category, then the summary line; colored when `color`. */
export function formatText(result: VerifyResult, { color = false } = {}): string {
  const paint = (code: keyof typeof ANSI, text: string) => (color ? `${ANSI[code]}${text}${ANSI.reset}` : text);
  const byCategory = new Map<string, Check[]>();
  for (const check of result.checks) {
    if (check.status === 'pass') continue;
    const list = byCategory.get(check.category) ?? [];
    list.push(check);
    byCategory.set(check.category, list);
  }
  const lines: string[] = [];
  for (const [category, checks] of [...byCategory].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(paint('bold', category));
    for (const check of checks) {
      const failing = isFailing(check, result);
      const tag =
        check.status === 'drift'
          ? failing
            ? paint('red', 'DRIFT')
            : paint('yellow', 'drift')
          : check.status === 'justified'
            ? paint('cyan', 'JUSTIFIED')
            : paint('yellow', 'SCALE');
      lines.push(`  ${tag} ${check.path}`);
      lines.push(`      expected ${show(check.expected)}`);
      lines.push(`      actual   ${show(check.actual)}`);
      if (check.exception) lines.push(paint('dim', `      exception ${check.exception.id}: ${check.exception.reason}`));
    }
  }
  if (lines.length > 0) lines.push('');
  lines.push(paint(result.passed ? 'green' : 'red', summaryLine(result)));
  return `${lines.join('\n')}\n`;
}

/** JSON: the whole result under a versioned schema id; `checks` lists only non-passing paths. */
export function formatJson(result: VerifyResult): string {
  const { checks, ...rest } = result;
  return `${JSON.stringify({ schema: VERIFY_JSON_SCHEMA, ...rest, differences: checks.filter((c) => c.status !== 'pass') }, null, 2)}\n`;
}

function xmlEscape(text: string): string {
  // Also drops characters XML 1.0 cannot carry at all.
  return text
    .replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** JUnit XML: one testcase per compared path, a failure per failing difference. */
export function formatJunit(result: VerifyResult, { timestamp = new Date() } = {}): string {
  const failures = result.checks.filter((check) => isFailing(check, result)).length;
  const suiteName = `envparity verify ${result.host.id} vs ${targetName(result)}`;
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="envparity" tests="${result.checks.length}" failures="${failures}" errors="0">`,
    `  <testsuite name="${xmlEscape(suiteName)}" tests="${result.checks.length}" failures="${failures}" errors="0" skipped="0" timestamp="${timestamp.toISOString().slice(0, 19)}">`,
    `    <properties><property name="parity" value="${result.parity}"/><property name="strict" value="${result.strict}"/></properties>`,
  ];
  for (const check of result.checks) {
    const open = `    <testcase classname="envparity.${xmlEscape(check.category)}" name="${xmlEscape(check.path)}" time="0"`;
    if (isFailing(check, result)) {
      const message = `${check.status}: expected ${show(check.expected)}, actual ${show(check.actual)}`;
      out.push(`${open}>`);
      out.push(
        `      <failure type="${check.status}" message="${xmlEscape(message)}">${xmlEscape(`${check.path}\nexpected: ${show(check.expected)}\nactual:   ${show(check.actual)}`)}</failure>`,
      );
      out.push('    </testcase>');
    } else if (check.status !== 'pass') {
      const note = check.exception
        ? `justified by ${check.exception.id}: ${check.exception.reason}`
        : `${check.status}: expected ${show(check.expected)}, actual ${show(check.actual)}`;
      out.push(`${open}>`);
      out.push(`      <system-out>${xmlEscape(note)}</system-out>`);
      out.push('    </testcase>');
    } else {
      out.push(`${open}/>`);
    }
  }
  out.push('  </testsuite>', '</testsuites>');
  return `${out.join('\n')}\n`;
}

function mdCell(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/`/g, "'").replace(/\r?\n/g, ' ');
}

/** Markdown for a pull-request or deploy comment: verdict, counts, then a table of differences. */
export function formatMarkdown(result: VerifyResult): string {
  const s = result.summary;
  const lines = [
    `### envparity: ${result.passed ? '✅ parity' : '❌ drift'} — \`${mdCell(result.host.id)}\` vs ${mdCell(targetName(result))}`,
    '',
    `Parity **${percent(result.parity)}** · ${s.drift} drift · ${s.justified} justified · ${s.scale} scale · ${s.pass} equal of ${s.checked} checked`,
  ];
  const rows = result.checks.filter((check) => check.status !== 'pass');
  if (rows.length > 0) {
    lines.push('', '| status | path | expected | actual | note |', '|---|---|---|---|---|');
    for (const check of rows) {
      const status = isFailing(check, result) ? `**${check.status}**` : check.status;
      const note = check.exception ? `${check.exception.id}: ${check.exception.reason}` : '';
      lines.push(
        `| ${status} | \`${mdCell(check.path)}\` | \`${mdCell(show(check.expected))}\` | \`${mdCell(show(check.actual))}\` | ${mdCell(note)} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

export function formatVerifyResult(result: VerifyResult, format: VerifyFormat, { color = false } = {}): string {
  switch (format) {
    case 'json':
      return formatJson(result);
    case 'junit':
      return formatJunit(result);
    case 'markdown':
      return formatMarkdown(result);
    default:
      return formatText(result, { color });
  }
}
