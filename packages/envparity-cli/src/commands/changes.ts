/**
 * `envparity changes --env E --since 2h`: the environment's change feed, newest first, following
 * the server's pages until `--limit` changes are shown.
 */
import type { EnvironmentChange } from '@envparity/client';
import { type CommandSpec, integerFlag, requiredFlag, stringFlag } from '../command.js';
import { parseInstant } from '../duration.js';
import { EXIT_OK } from '../exit-codes.js';
import { formatTime, formatValue } from '../format.js';

export const DEFAULT_CHANGES_LIMIT = 200;
const PAGE_SIZE = 1000;

export const changesCommand: CommandSpec = {
  name: 'changes',
  summary: "an environment's change feed, newest first",
  usage: ['changes --env E [--since DURATION|ISO] [--until ISO|DURATION] [--path GLOB] [--limit N] [--json]'],
  details: 'Durations count back from now: 30m, 2h, 7d. A path without wildcards also matches everything under it.',
  options: {
    env: { type: 'string', value: 'E', description: 'the environment (required)' },
    since: { type: 'string', value: '2h', description: 'changes at or after this instant (duration ago or ISO 8601)' },
    until: { type: 'string', value: 'ISO', description: 'changes at or before this instant' },
    path: { type: 'string', value: 'GLOB', description: 'only paths matching this glob (library.*, config.**)' },
    limit: { type: 'string', value: 'N', description: `at most N changes (default ${DEFAULT_CHANGES_LIMIT})` },
  },
  positionals: { min: 0, max: 0 },
  async run(context) {
    const environment = requiredFlag(context, 'env', 'name the environment, e.g. --env staging');
    const instant = (name: 'since' | 'until') => {
      const value = stringFlag(context, name);
      return value === undefined
        ? undefined
        : parseInstant(value, { flag: `--${name}`, direction: 'past', now: context.now, command: 'changes' });
    };
    const since = instant('since');
    const until = instant('until');
    const path = stringFlag(context, 'path');
    const limit = integerFlag(context, 'limit', { max: 100_000 }) ?? DEFAULT_CHANGES_LIMIT;
    const client = await context.client();
    const changes: EnvironmentChange[] = [];
    let before: string | undefined;
    let more = false;
    for (;;) {
      const page = await client.listEnvironmentChanges({
        environment,
        ...(since ? { since } : {}),
        ...(until ? { until } : {}),
        ...(path ? { path } : {}),
        ...(before ? { before } : {}),
        limit: Math.min(PAGE_SIZE, limit - changes.length),
      });
      changes.push(...page.changes);
      if (!page.next) break;
      if (changes.length >= limit) {
        more = true;
        break;
      }
      before = page.next;
    }
    const { out } = context;
    if (out.json) {
      out.printJson({ environment, since: since ?? null, until: until ?? null, changes, truncated: more });
      return EXIT_OK;
    }
    if (changes.length === 0) {
      out.note(`no changes in ${environment}${since ? ` since ${formatTime(since)}` : ''}`);
      return EXIT_OK;
    }
    out.table(
      ['AT', 'HOST', 'PATH', 'FROM', 'TO', ''],
      changes.map((change) => [
        formatTime(change.at),
        change.hostId,
        change.path,
        formatValue(change.from),
        formatValue(change.to),
        change.emergency ? out.style.paint('emergency', 'red') : '',
      ]),
    );
    if (more) out.note(`showing the newest ${changes.length}: raise --limit or narrow --since/--path`);
    return EXIT_OK;
  },
};
