/** Output formats of `verify`: text (default), json (stable schema), junit, markdown. */
import type { FactValue } from '@envparity/shared';
import { formatMs } from './checks.js';
import { type Check, isFailing, type VerifyResult } from './evaluate.js';
import type { HealthCheckResult } from './run-checks.js';

/**
 * A verify result with its health checks (run-checks.ts) beside the fact differences; `passed`
 * is already false when a check failed.
 */
export type VerifyReport = VerifyResult & { healthChecks?: readonly HealthCheckResult[] };

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

/** A fact difference fails the run (else, when it fails, only health checks did). */
function factsFailed(result: VerifyResult): boolean {
  return result.checks.some((check) => isFailing(check, result));
}

function checksCount(result: VerifyReport): string {
  const checks = result.healthChecks ?? [];
  if (checks.length === 0) return '';
  const failing = checks.filter((check) => !check.ok).length;
  return failing ? `; checks: ${failing} of ${checks.length} failing` : `; checks: ${checks.length} passing`;
}

/** One line: the verdict, the counts and the parity score (and the health checks when there are any). */
export function summaryLine(result: VerifyReport): string {
  const s = result.summary;
  return `${result.passed ? 'PASS' : 'FAIL'}: host ${result.host.id} vs ${targetName(result)}: ${s.drift} drift, ${s.secretPolicy ? `${s.secretPolicy} secret-policy, ` : ''}${s.justified} justified, ${s.scale} scale, ${s.pass} equal of ${s.checked} checked — parity ${percent(result.parity)}${checksCount(result)}`;
}

/** `3 attempts, 12ms`: how often a check ran and how long its last attempt took. */
function tries(check: HealthCheckResult): string {
  return `${check.attempts} attempt${check.attempts === 1 ? '' : 's'}, ${formatMs(check.durationMs)}`;
}

/** How a check's outcome reads in one line: what it expected, what it saw, how many tries. */
function checkDetail(check: HealthCheckResult): string {
  return `expected ${check.expected}; saw ${check.actual} (${tries(check)})`;
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

/** Text: non-passing paths grouped by category, every health check, then the summary line; colored when `color`. */
export function formatText(result: VerifyReport, { color = false } = {}): string {
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
  if (result.healthChecks?.length) {
    lines.push(paint('bold', 'checks'));
    for (const check of result.healthChecks) {
      lines.push(`  ${check.ok ? paint('green', 'PASS') : paint('red', 'FAIL')} ${check.name} (${check.kind})`);
      lines.push(`      expected ${check.expected}`);
      lines.push(`      actual   ${check.actual}`);
      lines.push(paint('dim', `      ${tries(check)}`));
    }
  }
  if (lines.length > 0) lines.push('');
  lines.push(paint(result.passed ? 'green' : 'red', summaryLine(result)));
  return `${lines.join('\n')}\n`;
}

/** JSON: the whole result under a versioned schema id; `differences` lists only non-passing paths, `checks` every health check. */
export function formatJson(result: VerifyReport): string {
  const { checks, healthChecks = [], ...rest } = result;
  const differences = checks.filter((c) => c.status !== 'pass');
  return `${JSON.stringify({ schema: VERIFY_JSON_SCHEMA, ...rest, differences, checks: healthChecks }, null, 2)}\n`;
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
  /** Seconds. */
  time?: number;
}

function checkCases(result: VerifyReport): JunitCase[] {
  return (result.healthChecks ?? []).map((check) => {
    const junitCase: JunitCase = {
      classname: `envparity.check.${check.kind}`,
      name: check.name,
      time: check.durationMs / 1000,
    };
    if (check.ok) junitCase.note = checkDetail(check);
    else junitCase.failure = { type: 'check', message: checkDetail(check), body: checkDetail(check) };
    return junitCase;
  });
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
  result: VerifyReport,
  { timestamp = new Date(), per = 'difference' }: JunitOptions = {},
): string {
  const cases = [
    ...(per === 'category' ? casesPerCategory(result) : casesPerDifference(result)),
    ...checkCases(result),
  ];
  const summary: JunitCase = { classname: 'envparity', name: 'summary', note: summaryLine(result) };
  // `check` when only health checks failed: the facts are in parity.
  if (!result.passed)
    summary.failure = {
      type: factsFailed(result) ? 'drift' : 'check',
      message: summaryLine(result),
      body: summaryLine(result),
    };
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
    out.push(`    <testcase classname="${xmlEscape(c.classname)}" name="${xmlEscape(c.name)}" time="${c.time ?? 0}">`);
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

/** Markdown for a pull-request or deploy comment: verdict, counts, a table of differences, one of checks. */
export function formatMarkdown(result: VerifyReport): string {
  const s = result.summary;
  const lines = [
    `### envparity: ${result.passed ? '✅ parity' : factsFailed(result) ? '❌ drift' : '❌ failing checks'} — \`${mdCell(result.host.id)}\` vs ${mdCell(targetName(result))}`,
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
  if (result.healthChecks?.length) {
    lines.push('', '| check | kind | expected | actual | attempts | time |', '|---|---|---|---|---|---|');
    for (const check of result.healthChecks) {
      const verdict = check.ok ? `✅ ${mdCell(check.name)}` : `❌ **${mdCell(check.name)}**`;
      lines.push(
        `| ${verdict} | ${check.kind} | ${mdCell(check.expected)} | ${mdCell(check.actual)} | ${check.attempts} | ${formatMs(check.durationMs)} |`,
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
  result: VerifyReport,
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
