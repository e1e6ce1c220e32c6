/**
 * `envparity hosts [--env E]` lists hosts; `envparity host ID` shows one host's facts (now, or
 * `--at` a past instant) or, with `--changes`, its change timeline.
 */
import type { HostSummary } from '@envparity/client';
import { booleanFlag, type CommandSpec, integerFlag, stringFlag } from '../command.js';
import { parseInstant } from '../duration.js';
import { EXIT_OK } from '../exit-codes.js';
import { formatLabels, formatTime, formatValue, shortFingerprint } from '../format.js';
import type { Style } from '../style.js';
import { UsageError } from '../usage-error.js';

function presenceOf(host: HostSummary): string {
  return host.presence ?? (host.online ? 'online' : 'offline');
}

export const hostsCommand: CommandSpec = {
  name: 'hosts',
  summary: 'hosts with environment, presence, last seen and fingerprint',
  usage: ['hosts [--env E] [--json]'],
  options: {
    env: { type: 'string', value: 'E', description: 'only the hosts of this environment' },
  },
  positionals: { min: 0, max: 0 },
  async run(context) {
    const environment = stringFlag(context, 'env');
    const hosts = await (await context.client()).listHosts(environment ? { environment } : {});
    const { out } = context;
    if (out.json) {
      out.printJson(hosts);
      return EXIT_OK;
    }
    if (hosts.length === 0) {
      out.note(environment ? `no hosts in ${environment}` : 'no hosts yet');
      return EXIT_OK;
    }
    out.table(
      ['ID', 'ENVIRONMENT', 'PRESENCE', 'LAST SEEN', 'FINGERPRINT', 'LABELS'],
      hosts.map((host) => [
        host.id,
        host.environment ?? '-',
        out.style.status(presenceOf(host)),
        formatTime(host.lastSeen),
        shortFingerprint(host.fingerprint),
        formatLabels(host.labels),
      ]),
    );
    return EXIT_OK;
  },
};

function changeMark(emergency: boolean | undefined, style: Style): string {
  return emergency ? style.paint('emergency', 'red') : '';
}

export const hostCommand: CommandSpec = {
  name: 'host',
  summary: 'one host: its facts (now or --at a past instant), or its change timeline (--changes)',
  usage: ['host ID [--at ISO|DURATION] [--json]', 'host ID --changes [--since ISO|DURATION] [--limit N] [--json]'],
  options: {
    changes: { type: 'boolean', description: "list the host's changes, oldest first" },
    at: { type: 'string', value: 'ISO', description: 'the facts as they were at this instant (ISO 8601, or 2h ago)' },
    since: { type: 'string', value: 'ISO', description: 'with --changes: only changes at or after this instant' },
    limit: { type: 'string', value: 'N', description: 'with --changes: at most N changes (default 1000)' },
  },
  positionals: { min: 1, max: 1 },
  async run(context) {
    const [id] = context.positionals as [string];
    const client = await context.client();
    const { out } = context;
    const changes = booleanFlag(context, 'changes');
    const atFlag = stringFlag(context, 'at');
    if (changes && atFlag !== undefined) {
      throw new UsageError(
        '--changes and --at do not go together: --changes lists the timeline, --at shows the facts then',
        'host',
      );
    }
    if (!changes && (stringFlag(context, 'since') !== undefined || stringFlag(context, 'limit') !== undefined)) {
      throw new UsageError('--since and --limit go with --changes', 'host');
    }
    if (changes) {
      const sinceFlag = stringFlag(context, 'since');
      const since =
        sinceFlag === undefined
          ? undefined
          : parseInstant(sinceFlag, { flag: '--since', direction: 'past', now: context.now, command: 'host' });
      const limit = integerFlag(context, 'limit', { max: 10_000 });
      const answer = await client.listHostChanges(id, { ...(since ? { since } : {}), ...(limit ? { limit } : {}) });
      if (out.json) {
        out.printJson(answer);
        return EXIT_OK;
      }
      if (answer.changes.length === 0)
        out.note(`no changes recorded for ${id}${since ? ` since ${formatTime(since)}` : ''}`);
      else {
        out.table(
          ['AT', 'SEQ', 'PATH', 'FROM', 'TO', ''],
          answer.changes.map((change) => [
            formatTime(change.at),
            String(change.seq),
            change.path,
            formatValue(change.from),
            formatValue(change.to),
            changeMark(change.emergency, out.style),
          ]),
          ['left', 'right'],
        );
      }
      if (answer.truncated) out.note('more changes exist: page on with --since the last AT');
      return EXIT_OK;
    }
    const at =
      atFlag === undefined
        ? undefined
        : parseInstant(atFlag, { flag: '--at', direction: 'past', now: context.now, command: 'host' });
    const host = await client.getHost(id, at ? { at } : {});
    if (out.json) {
      out.printJson(host);
      return EXIT_OK;
    }
    const rows: [string, string][] = [
      ['id', host.id],
      ['environment', host.environment ?? '-'],
      ['presence', out.style.status(presenceOf(host))],
      ['last seen', formatTime(host.lastSeen)],
      ['agent', host.agentVersion ?? '-'],
      ['enrolled', formatTime(host.enrolledAt)],
      ['fingerprint', host.fingerprint ?? '-'],
      ['labels', formatLabels(host.labels)],
    ];
    if (host.retiredAt) rows.push(['retired', formatTime(host.retiredAt)]);
    if (host.at) rows.push(['facts as of', formatTime(host.at)]);
    for (const [key, value] of rows) out.print(`${out.style.paint(key.padEnd(13), 'bold')}${value}`);
    out.print();
    const facts = Object.entries(host.facts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    out.table(
      ['PATH', 'VALUE'],
      facts.map(([path, value]) => [path, formatValue(value)]),
    );
    return EXIT_OK;
  },
};
