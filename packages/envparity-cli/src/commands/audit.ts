/**
 * `envparity audit`: the parity audit of every environment pair. The server renders the files
 * (`--format markdown|html|csv|json`, to stdout or `--out FILE`); `--record` stores one and shows
 * it, `--since ID` diffs a recorded audit with an earlier one, `--fail-on drift` exits 1 when the
 * audit has open differences (drift + expired).
 */
import { writeFile } from 'node:fs/promises';
import type {
  AuditDocument,
  AuditFormat,
  AuditSince,
  AuditSinceItem,
  AuditSummary,
  EnvparityClient,
} from '@envparity/client';
import {
  booleanFlag,
  type CommandContext,
  type CommandSpec,
  choiceFlag,
  integerFlag,
  listFlag,
  stringFlag,
} from '../command.js';
import { auditExitCode } from '../exit-codes.js';
import { formatPercent, formatTime, formatValue } from '../format.js';
import { UsageError } from '../usage-error.js';

export const AUDIT_FORMATS = ['markdown', 'html', 'json', 'csv'] as const satisfies readonly AuditFormat[];
const EXTENSION_FORMATS: Readonly<Record<string, AuditFormat>> = {
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.html': 'html',
  '.htm': 'html',
  '.csv': 'csv',
  '.json': 'json',
};

/** `--format`, else the `--out` file's extension, else undefined (a summary on the terminal). */
export function auditFormat(format: AuditFormat | undefined, out: string | undefined): AuditFormat | undefined {
  if (format) return format;
  if (!out) return undefined;
  const extension = /\.[A-Za-z]+$/.exec(out)?.[0]?.toLowerCase() ?? '';
  return EXTENSION_FORMATS[extension] ?? 'json';
}

interface AuditTarget {
  /** A recorded audit's id, or undefined for the live audit. */
  id: number | undefined;
  since: number | undefined;
  environments: string[] | undefined;
}

async function fetchDocument(client: EnvparityClient, target: AuditTarget): Promise<AuditDocument> {
  if (target.id === undefined) return client.getAudit(target.environments ? { environments: target.environments } : {});
  return client.getRecordedAudit(target.id, target.since === undefined ? {} : { since: target.since });
}

export const auditCommand: CommandSpec = {
  name: 'audit',
  summary: 'parity audit of all environment pairs: summary, files (markdown, html, csv, json), recorded audits',
  usage: [
    'audit [--env A,B] [--format markdown|html|json|csv] [--out FILE] [--fail-on drift] [--json]',
    'audit --record [--note TEXT] [--since ID] [--format F] [--out FILE] [--fail-on drift]',
    'audit --id N [--since ID] [--format F] [--out FILE] [--fail-on drift]',
  ],
  details:
    'The server renders the files. --out without --format picks the format from the extension (.md .html .csv .json). ' +
    '--record stores the audit now (admin token) and prints the recorded one; --since ID diffs it (or --id N) with audit ID. ' +
    '--fail-on drift exits 1 when the audit has open differences (drift + expired).',
  options: {
    env: { type: 'string', value: 'A,B', description: 'audit these environments (default: every one with hosts)' },
    format: { type: 'string', value: 'F', description: 'markdown, html, json or csv: the server-rendered file' },
    out: { type: 'string', value: 'FILE', description: 'write the file here instead of stdout' },
    record: { type: 'boolean', description: 'record the audit now (admin), then show the recorded one' },
    note: { type: 'string', value: 'TEXT', description: 'with --record: a note stored with it' },
    id: { type: 'string', value: 'N', description: 'show recorded audit N' },
    since: { type: 'string', value: 'ID', description: 'with --record or --id: what changed since recorded audit ID' },
    'fail-on': { type: 'string', value: 'drift', description: 'exit 1 when the audit has open differences' },
  },
  positionals: { min: 0, max: 0 },
  async run(context) {
    const failOn = choiceFlag(context, 'fail-on', ['drift'] as const);
    const outFile = stringFlag(context, 'out');
    const format = auditFormat(choiceFlag(context, 'format', AUDIT_FORMATS), outFile);
    const record = booleanFlag(context, 'record');
    const idFlag = integerFlag(context, 'id');
    const since = integerFlag(context, 'since');
    const environments = listFlag(context, 'env');
    const note = stringFlag(context, 'note');
    if (record && idFlag !== undefined) throw new UsageError('--record and --id do not go together', 'audit');
    if (since !== undefined && !record && idFlag === undefined) {
      throw new UsageError('--since ID diffs a recorded audit: add --record (record one now) or --id N', 'audit');
    }
    if (note !== undefined && !record) throw new UsageError('--note goes with --record', 'audit');
    if (idFlag !== undefined && environments)
      throw new UsageError('--env applies to the live audit or --record, not --id', 'audit');
    if (format && context.out.json)
      throw new UsageError('--json and --format do not go together: use --format json', 'audit');

    const client = await context.client();
    let id = idFlag;
    let summary: AuditSummary | undefined;
    if (record) {
      const recorded = await client.recordAudit({
        ...(environments ? { environments } : {}),
        ...(note ? { note } : {}),
      });
      id = recorded.id;
      summary = recorded.summary;
      context.out.stderr.write(
        `envparity: recorded audit #${recorded.id} at ${formatTime(recorded.at)} by ${recorded.author}\n`,
      );
    }
    const target: AuditTarget = { id, since, environments: id === undefined ? environments : undefined };

    if (format) {
      const file =
        id === undefined
          ? await client.getAuditFile(format, environments ? { environments } : {})
          : await client.getRecordedAuditFile(id, format, since === undefined ? {} : { since });
      if (outFile) {
        await writeFile(outFile, file.body);
        context.out.stderr.write(
          `envparity: wrote ${format} audit to ${outFile} (${Buffer.byteLength(file.body)} bytes)\n`,
        );
      } else {
        context.out.stdout.write(file.body.endsWith('\n') ? file.body : `${file.body}\n`);
      }
      if (failOn && !summary)
        summary =
          format === 'json'
            ? (JSON.parse(file.body) as AuditDocument).summary
            : (await fetchDocument(client, target)).summary;
      return summary ? auditExitCode(summary, failOn) : 0;
    }

    const document = await fetchDocument(client, target);
    if (context.out.json) context.out.printJson(document);
    else printAudit(context, document);
    return auditExitCode(document.summary, failOn);
  },
};

function printAudit(context: CommandContext, document: AuditDocument): void {
  const { out } = context;
  const { style } = out;
  const title = document.audit
    ? `audit #${document.audit.id} recorded ${formatTime(document.audit.at)} by ${document.audit.author}`
    : `live audit ${formatTime(document.generatedAt)}`;
  out.print(`${style.paint(title, 'bold')}  environments: ${document.environments.join(', ') || '-'}`);
  if (document.withoutHosts.length > 0)
    out.note(`not audited (no hosts reporting): ${document.withoutHosts.join(', ')}`);
  out.print();
  const { summary } = document;
  if (summary.pairs.length === 0) out.note('no pairs to audit: fewer than two environments with hosts');
  else {
    out.table(
      ['FROM', 'TO', 'KIND', 'PARITY', 'DRIFT', 'EXPIRED', 'EXPIRING', 'JUSTIFIED', 'SCALE'],
      summary.pairs.map((pair) => [
        pair.from,
        pair.to,
        pair.kind,
        formatPercent(pair.parity),
        pair.counts.drift > 0 ? style.paint(String(pair.counts.drift), 'red') : '0',
        pair.counts.expired > 0 ? style.paint(String(pair.counts.expired), 'red') : '0',
        pair.counts.expiring > 0 ? style.paint(String(pair.counts.expiring), 'yellow') : '0',
        String(pair.counts.justified),
        String(pair.counts.scale),
      ]),
      ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right'],
    );
  }
  out.print();
  const open = `${summary.open} open`;
  out.print(`${summary.open > 0 ? style.paint(open, 'red') : style.paint(open, 'green')} (drift + expired)`);
  const pressing = summary.causes.filter((cause) => cause.status === 'drift' || cause.status === 'expired');
  if (pressing.length > 0) {
    out.print();
    out.table(
      ['PATH', 'STATUS', 'FROM', 'TO', 'PAIRS'],
      pressing.map((cause) => [
        cause.path,
        style.status(cause.status),
        formatValue(cause.from),
        formatValue(cause.to),
        cause.pairs.map((pair) => `${pair.from}→${pair.to}`).join(', '),
      ]),
    );
  }
  if (document.since) printSince(context, document.since);
}

function printSince(context: CommandContext, since: AuditSince): void {
  const { out } = context;
  out.print();
  const { counts } = since;
  out.print(
    `since audit #${since.audit}: ${counts.new} new, ${counts.remediated} remediated, ` +
      `${counts.newlyJustified} newly justified, ${counts.stillOpen} still open`,
  );
  const rows: [string, AuditSinceItem][] = [
    ...since.new.map((item): [string, AuditSinceItem] => ['new', item]),
    ...since.remediated.map((item): [string, AuditSinceItem] => ['remediated', item]),
    ...since.newlyJustified.map((item): [string, AuditSinceItem] => ['newly justified', item]),
  ];
  if (rows.length > 0) {
    out.table(
      ['CHANGE', 'PAIR', 'PATH'],
      rows.map(([change, item]) => [change, `${item.from}→${item.to}`, item.path]),
    );
  }
}
