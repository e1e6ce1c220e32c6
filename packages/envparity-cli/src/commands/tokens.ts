/**
 * `envparity tokens list|add|revoke`: API tokens (admin). `add` prints the clear token once: the
 * server keeps only its hash.
 */
import type { TokenScope } from '@envparity/client';
import { type CommandSpec, choiceFlag, requiredFlag } from '../command.js';
import { EXIT_OK } from '../exit-codes.js';
import { formatTime } from '../format.js';
import { UsageError } from '../usage-error.js';

export const TOKEN_SCOPES = ['read', 'verify', 'admin'] as const satisfies readonly TokenScope[];

export const tokensCommand: CommandSpec = {
  name: 'tokens',
  summary: 'list, add or revoke API tokens (admin)',
  usage: [
    'tokens list [--json]',
    'tokens add --name N --scope read|verify|admin [--json]',
    'tokens revoke ID [--json]',
  ],
  details:
    'read: every query; verify: queries plus the fleet key (CI runners); admin: everything. A new token is shown once.',
  options: {
    name: { type: 'string', value: 'N', description: 'add: a name for the token (shown in the audit log)' },
    scope: { type: 'string', value: 'S', description: 'add: read, verify or admin' },
  },
  subcommands: {
    list: {
      usage: 'tokens list',
      summary: 'every token (never the clear value)',
      options: [],
      positionals: { min: 0, max: 0 },
    },
    add: {
      usage: 'tokens add --name N --scope read|verify|admin',
      summary: 'create a token; prints it once',
      options: ['name', 'scope'],
      positionals: { min: 0, max: 0 },
    },
    revoke: {
      usage: 'tokens revoke ID',
      summary: 'revoke a token at once',
      options: [],
      positionals: { min: 1, max: 1 },
    },
  },
  async run(context) {
    const client = await context.client();
    const { out } = context;
    switch (context.subcommand) {
      case 'add': {
        const name = requiredFlag(context, 'name', 'name the token, e.g. --name grafana');
        const scope = choiceFlag(context, 'scope', TOKEN_SCOPES);
        if (!scope) throw new UsageError('--scope is required: read, verify or admin', 'tokens');
        const created = await client.createToken({ name, scope });
        if (out.json) {
          out.printJson(created);
          return EXIT_OK;
        }
        out.print(`id     ${created.id}`);
        out.print(`name   ${created.name}`);
        out.print(`scope  ${created.scope}`);
        out.print(`token  ${created.token}`);
        out.stderr.write('envparity: store the token now: it is shown only once\n');
        return EXIT_OK;
      }
      case 'revoke': {
        const [id] = context.positionals as [string];
        const revoked = await client.revokeToken(id);
        if (out.json) out.printJson(revoked);
        else out.print(`revoked token ${revoked.id} at ${formatTime(revoked.revokedAt)}`);
        return EXIT_OK;
      }
      default: {
        const tokens = await client.listTokens();
        if (out.json) {
          out.printJson(tokens);
          return EXIT_OK;
        }
        if (tokens.length === 0) {
          out.note('no API tokens (besides the bootstrap admin token)');
          return EXIT_OK;
        }
        out.table(
          ['ID', 'NAME', 'SCOPE', 'CREATED', 'STATE'],
          tokens.map((token) => [
            token.id,
            token.name,
            token.scope,
            formatTime(token.createdAt),
            token.revokedAt
              ? `${out.style.paint('revoked', 'red')} ${formatTime(token.revokedAt)}`
              : out.style.status('active'),
          ]),
        );
        return EXIT_OK;
      }
    }
  },
};
