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
  return `${result.passed ? 'PASS' : 'FAIL'}: host ${result.host.id} vs ${targetName(result)}: ${s.drift} drift, ${s.secretPolicy ? `${s.secretPolicy} secret-policy, ` : ''}${s.justified} justified, ${s.scale} scale, ${s.pass} equal of ${s.checked} checked — parity ${percent(result.parity)}`;
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
          : check.status === 'secret-policy'
            ? paint('red', 'SECRET-POLICY')
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

/** What a JUnit testcase stands for: one failing-or-noted difference, or one compared category. */
export const JUNIT_PER = ['difference', 'category'] as const;
export type JunitPer = (typeof JUNIT_PER)[number];

export interface JunitOptions {
  timestamp?: Date;
  /** `difference` (default): a testcase per difference; `category`: a testcase per compared category. */
  per?: JunitPer;
}

function differenceNote(check: Check): string {
  return check.exception
    ? `${check.path}: justified by ${check.exception.id}: ${check.exception.reason}`
    : `${check.path}: ${check.status}: expected ${show(check.expected)}, actual ${show(check.actual)}`;
}

function failureBody(check: Check): string {
  return `${check.path}\nexpected: ${show(check.expected)}\nactual:   ${show(check.actual)}`;
}

interface JunitCase {
  classname: string;
  name: string;
  failure?: { type: string; message: string; body: string };
  note?: string;
}

function casesPerDifference(result: VerifyResult): JunitCase[] {
  return result.checks
    .filter((check) => check.status !== 'pass')
    .map((check) => {
      const base = { classname: `envparity.${check.category}`, name: check.path };
      if (!isFailing(check, result)) return { ...base, note: differenceNote(check) };
      return {
        ...base,
        failure: {
          type: check.status,
          message: `${check.status}: expected ${show(check.expected)}, actual ${show(check.actual)}`,
          body: failureBody(check),
        },
      };
    });
}

function casesPerCategory(result: VerifyResult): JunitCase[] {
  const byCategory = new Map<string, Check[]>();
  for (const check of result.checks) {
    const list = byCategory.get(check.category) ?? [];
    list.push(check);
    byCategory.set(check.category, list);
  }
  return [...byCategory]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([category, checks]) => {
      const failing = checks.filter((check) => isFailing(check, result));
      const others = checks.filter((check) => check.status !== 'pass' && !isFailing(check, result));
      const equal = checks.length - failing.length - others.length;
      const counts = `${checks.length} checked, ${equal} equal`;
      const junitCase: JunitCase = { classname: 'envparity', name: category };
      if (failing.length > 0) {
        junitCase.failure = {
          type: 'drift',
          message: `${failing.length} failing: ${failing
            .slice(0, 5)
            .map((c) => c.path)
            .join(', ')}${failing.length > 5 ? ', …' : ''}`,
          body: failing.map(failureBody).join('\n\n'),
        };
      }
      junitCase.note = [counts, ...others.map(differenceNote)].join('\n');
      return junitCase;
    });
}

/**
 * JUnit XML: a testcase per difference (or per compared category), a failure for each failing
 * one, justified and scale differences passing with a note, and one `summary` testcase carrying
 * the verdict; never a testcase per fact (a host has thousands).
 */
export function formatJunit(
  result: VerifyResult,
  { timestamp = new Date(), per = 'difference' }: JunitOptions = {},
): string {
  const cases = per === 'category' ? casesPerCategory(result) : casesPerDifference(result);
  const summary: JunitCase = { classname: 'envparity', name: 'summary', note: summaryLine(result) };
  if (!result.passed) summary.failure = { type: 'drift', message: summaryLine(result), body: summaryLine(result) };
  cases.push(summary);
  const failures = cases.filter((c) => c.failure).length;
  const suiteName = `envparity verify ${result.host.id} vs ${targetName(result)}`;
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="envparity" tests="${cases.length}" failures="${failures}" errors="0">`,
    `  <testsuite name="${xmlEscape(suiteName)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" timestamp="${timestamp.toISOString().slice(0, 19)}">`,
    `    <properties><property name="parity" value="${result.parity}"/><property name="strict" value="${result.strict}"/><property name="checked" value="${result.summary.checked}"/></properties>`,
  ];
  for (const c of cases) {
    out.push(`    <testcase classname="${xmlEscape(c.classname)}" name="${xmlEscape(c.name)}" time="0">`);
    if (c.failure) {
      out.push(
        `      <failure type="${xmlEscape(c.failure.type)}" message="${xmlEscape(c.failure.message)}">${xmlEscape(c.failure.body)}</failure>`,
      );
    }
    if (c.note) out.push(`      <system-out>${xmlEscape(c.note)}</system-out>`);
    out.push('    </testcase>');
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
    `Parity **${percent(result.parity)}** · ${s.drift} drift · ${s.secretPolicy ? `${s.secretPolicy} secret-policy · ` : ''}${s.justified} justified · ${s.scale} scale · ${s.pass} equal of ${s.checked} checked`,
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

export interface FormatOptions {
  color?: boolean;
  junitPer?: JunitPer;
}

export function formatVerifyResult(
  result: VerifyResult,
  format: VerifyFormat,
  { color = false, junitPer = 'difference' }: FormatOptions = {},
): string {
  switch (format) {
    case 'json':
      return formatJson(result);
    case 'junit':
      return formatJunit(result, { per: junitPer });
    case 'markdown':
      return formatMarkdown(result);
    default:
      return formatText(result, { color });
  }
}
