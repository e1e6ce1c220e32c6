/**
 * `envparity exceptions list|add|rm`: documented intentional differences (reason, impact, owner,
 * expiry). Adding and removing need an admin token.
 */
import type { ParityException } from '@envparity/client';
import { type CommandSpec, listFlag, requiredFlag, stringFlag } from '../command.js';
import { parseInstant } from '../duration.js';
import { EXIT_OK } from '../exit-codes.js';
import { formatTime } from '../format.js';
import { UsageError } from '../usage-error.js';

function state(exception: ParityException, now: number): string {
  if (exception.expired) return 'expired';
  if (exception.expiresAt && Date.parse(exception.expiresAt) - now < 7 * 86_400_000) return 'expiring';
  return 'active';
}

export const exceptionsCommand: CommandSpec = {
  name: 'exceptions',
  summary: 'list, add or remove exceptions (documented intentional differences)',
  usage: [
    'exceptions list [--json]',
    'exceptions add --path GLOB --environments A,B --reason R [--impact I] [--owner O] [--expires ISO|30d] [--json]',
    'exceptions rm ID [--json]',
  ],
  details:
    'An exception turns matching drift between the environments (or outliers inside one) into "justified" until it expires.',
  options: {
    path: { type: 'string', value: 'GLOB', description: 'add: path glob (config.env.LOG_LEVEL, library.**)' },
    environments: { type: 'string', value: 'A,B', description: 'add: a pair of environments, or one (its outliers)' },
    reason: { type: 'string', value: 'R', description: 'add: why this difference is intended (required)' },
    impact: { type: 'string', value: 'I', description: 'add: what the difference means' },
    owner: { type: 'string', value: 'O', description: 'add: who owns it' },
    expires: { type: 'string', value: 'ISO|30d', description: 'add: expiry (ISO 8601, or a duration from now)' },
  },
  subcommands: {
    list: {
      usage: 'exceptions list',
      summary: 'every exception, with its state',
      options: [],
      positionals: { min: 0, max: 0 },
    },
    add: {
      usage: 'exceptions add --path GLOB --environments A,B --reason R',
      summary: 'create an exception (admin)',
      options: ['path', 'environments', 'reason', 'impact', 'owner', 'expires'],
      positionals: { min: 0, max: 0 },
    },
    rm: {
      usage: 'exceptions rm ID',
      summary: 'delete an exception (admin)',
      options: [],
      positionals: { min: 1, max: 1 },
    },
  },
  async run(context) {
    const client = await context.client();
    const { out } = context;
    switch (context.subcommand) {
      case 'add': {
        const path = requiredFlag(
          context,
          'path',
          'the path glob the exception covers, e.g. --path config.env.LOG_LEVEL',
        );
        const environments = listFlag(context, 'environments') ?? [];
        if (environments.length === 0) {
          throw new UsageError(
            '--environments is required: one environment or a pair, e.g. --environments staging,production',
            'exceptions',
          );
        }
        const reason = requiredFlag(context, 'reason', 'say why this difference is intended');
        const expires = stringFlag(context, 'expires');
        const impact = stringFlag(context, 'impact');
        const owner = stringFlag(context, 'owner');
        const created = await client.createException({
          path,
          environments,
          reason,
          ...(impact ? { impact } : {}),
          ...(owner ? { owner } : {}),
          ...(expires
            ? {
                expiresAt: parseInstant(expires, {
                  flag: '--expires',
                  direction: 'future',
                  now: context.now,
                  command: 'exceptions',
                }),
              }
            : {}),
        });
        if (out.json) out.printJson(created);
        else
          out.print(
            `created exception ${created.id}: ${created.path} between ${created.environments.join(', ')}` +
              `${created.expiresAt ? `, expires ${formatTime(created.expiresAt)}` : ''}`,
          );
        return EXIT_OK;
      }
      case 'rm': {
        const [id] = context.positionals as [string];
        const deleted = await client.deleteException(id);
        if (out.json) out.printJson(deleted);
        else out.print(`deleted exception ${deleted.id}`);
        return EXIT_OK;
      }
      default: {
        const exceptions = await client.listExceptions();
        if (out.json) {
          out.printJson(exceptions);
          return EXIT_OK;
        }
        if (exceptions.length === 0) {
          out.note('no exceptions');
          return EXIT_OK;
        }
        out.table(
          ['ID', 'PATH', 'ENVIRONMENTS', 'STATE', 'EXPIRES', 'REASON', 'OWNER', 'SOURCE'],
          exceptions.map((exception) => [
            exception.id,
            exception.path,
            exception.environments.join(','),
            out.style.status(state(exception, context.now)),
            formatTime(exception.expiresAt),
            exception.reason,
            exception.owner ?? '-',
            exception.source,
          ]),
        );
        return EXIT_OK;
      }
    }
  },
};
