/**
 * `envparity compare A B`: two environments' baselines (or `host:ID` sides) path by path, now or
 * `--at` a past instant. Exit 1 when a difference is drift or a secret-policy finding: a check a
 * pipeline can run.
 */
import type { CommandSpec } from '../command.js';
import { stringFlag } from '../command.js';
import { parseInstant } from '../duration.js';
import { compareExitCode } from '../exit-codes.js';
import { formatPercent, formatTime, formatValue } from '../format.js';

export const compareCommand: CommandSpec = {
  name: 'compare',
  summary: 'compare two environments (or host:ID sides); exit 1 on drift',
  usage: ['compare A B [--at ISO|DURATION] [--category C[,D]] [--json]'],
  details:
    'A and B are environment names or host:ID. --at is an ISO 8601 time (or a duration ago, e.g. 2h): the state then, ' +
    "judged by today's exceptions. Exit 0 when nothing drifts, 1 when a difference is drift or secret-policy.",
  options: {
    at: { type: 'string', value: 'ISO', description: 'compare the state at this past instant (ISO 8601, or 2h ago)' },
    category: { type: 'string', value: 'C', description: 'only these categories (comma-separated: library,config)' },
  },
  positionals: { min: 2, max: 2 },
  async run(context) {
    const [from, to] = context.positionals as [string, string];
    const atFlag = stringFlag(context, 'at');
    const at =
      atFlag === undefined
        ? undefined
        : parseInstant(atFlag, { flag: '--at', direction: 'past', now: context.now, command: 'compare' });
    const category = stringFlag(context, 'category');
    const result = await (await context.client()).compare(from, to, {
      ...(at ? { at } : {}),
      ...(category ? { category } : {}),
    });
    const code = compareExitCode(result.differences);
    const { out } = context;
    if (out.json) {
      out.printJson(result);
      return code;
    }
    const { style } = out;
    const matching = Math.round(result.parity * result.compared);
    const parity = formatPercent(result.parity);
    out.print(
      `${result.from} → ${result.to}  parity ${result.parity >= 1 ? style.paint(parity, 'green') : style.paint(parity, 'yellow')}` +
        ` (${matching} of ${result.compared} behavior paths equal or justified)`,
    );
    if (result.fromAt || result.toAt) {
      const when = (at: string | null | undefined) => (at ? formatTime(at) : 'now');
      out.print(`as of  ${result.from}: ${when(result.fromAt)}  ${result.to}: ${when(result.toAt)}`);
    }
    out.print();
    if (result.differences.length === 0) {
      out.note('no differences');
      return code;
    }
    out.table(
      ['PATH', 'STATUS', result.from.toUpperCase(), result.to.toUpperCase(), 'NOTE'],
      result.differences.map((difference) => [
        difference.path,
        style.status(difference.status),
        formatValue(difference.from),
        formatValue(difference.to),
        [
          difference.exception ? `exception ${difference.exception.id}: ${difference.exception.reason}` : '',
          difference.secretPolicy ? `secret policy: expect ${difference.secretPolicy}` : '',
          difference.tie ? 'tied in a baseline' : '',
        ]
          .filter(Boolean)
          .join('; '),
      ]),
    );
    const counts = new Map<string, number>();
    for (const difference of result.differences)
      counts.set(difference.status, (counts.get(difference.status) ?? 0) + 1);
    out.print();
    out.print([...counts].map(([status, count]) => `${count} ${style.status(status)}`).join(', '));
    return code;
  },
};
