/**
 * `runCli(argv, io)`: the whole CLI as a library function (tests call it; `cli.ts` only passes the
 * process's streams). Finds the command, parses its flags strictly with node:util parseArgs,
 * resolves URL and token, runs it, and turns every failure into exit code 2 with ONE line on
 * stderr (`envparity: ...`).
 */
import { homedir } from 'node:os';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ApiError, createClient, type EnvparityClient } from '@envparity/client';
import type { CommandContext, CommandSpec, FlagValues, OptionSpecs } from './command.js';
import { auditCommand } from './commands/audit.js';
import { changesCommand } from './commands/changes.js';
import { compareCommand } from './commands/compare.js';
import { driftCommand } from './commands/drift.js';
import { envsCommand } from './commands/envs.js';
import { exceptionsCommand } from './commands/exceptions.js';
import { hostCommand, hostsCommand } from './commands/hosts.js';
import { promotionCommand } from './commands/promotion.js';
import { statusCommand } from './commands/status.js';
import { tokensCommand } from './commands/tokens.js';
import {
  type Connection,
  configFilePath,
  DEFAULT_URL,
  loadConfigFile,
  resolveConnection,
} from './connection-config.js';
import { EXIT_ERROR, EXIT_OK } from './exit-codes.js';
import { Output, type TextSink } from './output.js';
import { colorAllowed, createStyle } from './style.js';
import { ConfigFileError, UsageError } from './usage-error.js';
import { CLI_VERSION } from './version.js';

export const COMMANDS: readonly CommandSpec[] = [
  statusCommand,
  envsCommand,
  compareCommand,
  hostsCommand,
  hostCommand,
  driftCommand,
  changesCommand,
  auditCommand,
  promotionCommand,
  exceptionsCommand,
  tokensCommand,
];

/** Flags every command takes. */
export const GLOBAL_OPTIONS: OptionSpecs = {
  url: {
    type: 'string',
    value: 'URL',
    description: `aggregator URL (ENVPARITY_URL, config url; default ${DEFAULT_URL})`,
  },
  token: { type: 'string', value: 'T', description: 'API token (ENVPARITY_TOKEN, config token)' },
  json: { type: 'boolean', description: 'print the answer as JSON' },
  color: { type: 'boolean', description: 'color even when not on a TTY' },
  'no-color': { type: 'boolean', description: 'never color (as NO_COLOR=1)' },
  help: { type: 'boolean', short: 'h', description: 'show help' },
};

/** Global flags that take a value: they may come before the command (`envparity --url U status`). */
const GLOBAL_VALUE_FLAGS = new Set(['--url', '--token']);

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: TextSink;
  stderr: TextSink;
  /** Whether stdout is a terminal: tables get colors only then (and without NO_COLOR). */
  isTTY: boolean;
  /** Default Date.now(). */
  now?: () => number;
  /** Default os.homedir(); the config file is `~/.config/envparity/cli.yaml`. */
  homeDir?: string;
  /** Default the global fetch (tests may route requests elsewhere). */
  fetch?: typeof fetch;
}

/** One line: newlines of server messages folded, so stderr stays a single line. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

const API_ERROR_LABELS: Readonly<Record<string, string>> = {
  UNAUTHORIZED: 'unauthorized',
  FORBIDDEN: 'forbidden',
  NOT_FOUND: 'not found',
  BAD_REQUEST: 'bad request',
  CONFLICT: 'conflict',
  SERVER: 'server error',
};

/** The one-line reason of an API failure (`unauthorized (401): unknown or revoked token: ...`). */
export function describeApiError(error: ApiError): string {
  if (error.code === 'UNREACHABLE' || error.status === undefined) return error.message;
  const label = `${API_ERROR_LABELS[error.code] ?? error.code.toLowerCase()} (${error.status})`;
  const hint =
    error.code === 'UNAUTHORIZED'
      ? ': pass a valid token with --token, ENVPARITY_TOKEN or the config file'
      : error.code === 'FORBIDDEN'
        ? ': this needs a token with a wider scope'
        : '';
  return `${label}: ${error.message}${hint}`;
}

function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((command) => command.name === name);
}

/** Splits `[global flags] command [rest]`; global flags before the command move after it. */
function splitArgv(argv: readonly string[]): { command: string | undefined; rest: string[] } {
  const leading: string[] = [];
  let index = 0;
  while (index < argv.length) {
    const token = argv[index] as string;
    if (!token.startsWith('-')) break;
    leading.push(token);
    if (GLOBAL_VALUE_FLAGS.has(token) && index + 1 < argv.length) {
      leading.push(argv[index + 1] as string);
      index += 1;
    }
    index += 1;
  }
  const command = argv[index];
  return { command, rest: [...leading, ...argv.slice(index + 1)] };
}

function optionLines(options: OptionSpecs): string[] {
  const entries = Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : ''}`;
    return [flag, spec.description] as const;
  });
  const width = Math.max(...entries.map(([flag]) => flag.length));
  return entries.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`);
}

const HELP_WIDTH = 100;

/** Words to lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

export function generalHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    `envparity ${CLI_VERSION}: the envparity operator CLI`,
    '',
    'usage: envparity COMMAND [flags]',
    '',
    'commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'global flags:',
    ...optionLines({ ...GLOBAL_OPTIONS, version: { type: 'boolean', description: 'print the version' } }),
    '',
    `URL and token: flags, then ENVPARITY_URL / ENVPARITY_TOKEN, then the config file ($ENVPARITY_CONFIG or`,
    '~/.config/envparity/cli.yaml, keys url and token). Exit codes: 0 ok, 1 drift found (compare,',
    'audit --fail-on drift), 2 error. `envparity COMMAND --help` for a command.',
    '',
  ].join('\n');
}

export function commandHelp(command: CommandSpec): string {
  const lines = [
    `usage: ${command.usage.map((line, index) => `${index === 0 ? '' : '       '}envparity ${line}`).join('\n')}`,
  ];
  lines.push('', command.summary);
  if (command.details) lines.push('', ...wrap(command.details, HELP_WIDTH));
  if (command.subcommands) {
    lines.push('', 'subcommands:');
    const width = Math.max(...Object.keys(command.subcommands).map((name) => name.length));
    for (const [name, sub] of Object.entries(command.subcommands))
      lines.push(`  ${name.padEnd(width)}  ${sub.summary}`);
  }
  if (Object.keys(command.options).length > 0) lines.push('', 'flags:', ...optionLines(command.options));
  lines.push('', 'global flags:', ...optionLines(GLOBAL_OPTIONS), '');
  return lines.join('\n');
}

function parseCommandArgs(
  command: CommandSpec,
  args: string[],
): { values: FlagValues; positionals: string[]; given: string[] } {
  const options: ParseArgsConfig['options'] = {};
  for (const [name, spec] of Object.entries({ ...GLOBAL_OPTIONS, ...command.options })) {
    options[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}) };
  }
  try {
    const parsed = parseArgs({ args, options, strict: true, allowPositionals: true, tokens: true });
    const given = parsed.tokens.flatMap((token) => (token.kind === 'option' ? [token.name] : []));
    return { values: parsed.values as FlagValues, positionals: parsed.positionals, given };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = error instanceof Error ? error.message : String(error);
    const flag = /'([^']+)'/.exec(message)?.[1]?.split(' ')[0];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown flag ${flag ?? message}`, command.name);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const takesValue = flag ? options[flag.replace(/^-+/, '')]?.type === 'string' : false;
      throw new UsageError(takesValue ? `${flag} needs a value` : `${flag ?? 'a flag'} takes no value`, command.name);
    }
    throw new UsageError(oneLine(message.split('. ')[0] ?? message), command.name);
  }
}

function checkPositionals(
  command: CommandSpec,
  positionals: readonly string[],
  range: { min: number; max: number },
  label: string,
): void {
  if (positionals.length < range.min) {
    throw new UsageError(
      `${label}: missing ${range.min === 1 ? 'an argument' : `arguments (expected ${range.min})`}`,
      command.name,
    );
  }
  if (positionals.length > range.max) {
    const extra = positionals.slice(range.max).join(' ');
    throw new UsageError(`${label}: unexpected argument ${JSON.stringify(extra)}`, command.name);
  }
}

/** Runs one CLI invocation; resolves with the exit code, never throws. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const now = (io.now ?? Date.now)();
  const { command: name, rest } = splitArgv(argv);
  let commandName: string | undefined;
  try {
    if (name === undefined) {
      if (rest.includes('--version') || rest.includes('-V')) {
        io.stdout.write(`${CLI_VERSION}\n`);
        return EXIT_OK;
      }
      if (rest.includes('--help') || rest.includes('-h')) {
        io.stdout.write(generalHelp());
        return EXIT_OK;
      }
      if (rest.length > 0) throw new UsageError(`unknown flag ${rest[0]}: give a command first`);
      io.stderr.write(generalHelp());
      return EXIT_ERROR;
    }
    if (name === 'help') {
      const topic = rest[0] ? findCommand(rest[0]) : undefined;
      if (rest[0] && !topic) throw new UsageError(`unknown command ${JSON.stringify(rest[0])}`);
      io.stdout.write(topic ? commandHelp(topic) : generalHelp());
      return EXIT_OK;
    }
    if (name === 'version') {
      io.stdout.write(`${CLI_VERSION}\n`);
      return EXIT_OK;
    }
    const command = findCommand(name);
    if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
    commandName = command.name;
    const { values, positionals, given } = parseCommandArgs(command, rest);
    if (values.help === true) {
      io.stdout.write(commandHelp(command));
      return EXIT_OK;
    }
    if (values.color === true && values['no-color'] === true) {
      throw new UsageError('--color and --no-color contradict each other', command.name);
    }
    let subcommand: string | undefined;
    let commandPositionals = positionals;
    if (command.subcommands) {
      const names = Object.keys(command.subcommands);
      subcommand = positionals[0] ?? 'list';
      const sub = command.subcommands[subcommand];
      if (!sub) {
        throw new UsageError(
          `unknown subcommand ${JSON.stringify(subcommand)} (expected ${names.join(', ')})`,
          command.name,
        );
      }
      commandPositionals = positionals.slice(1);
      checkPositionals(command, commandPositionals, sub.positionals, `${command.name} ${subcommand}`);
      for (const flag of given) {
        if (!(flag in GLOBAL_OPTIONS) && !sub.options.includes(flag)) {
          throw new UsageError(`--${flag} does not apply to ${command.name} ${subcommand}`, command.name);
        }
      }
    } else if (command.positionals) {
      checkPositionals(command, positionals, command.positionals, command.name);
    }

    const flagColor = values.color === true ? true : values['no-color'] === true ? false : undefined;
    const style = createStyle(colorAllowed({ isTTY: io.isTTY, env: io.env, flag: flagColor }));
    const out = new Output(io.stdout, io.stderr, style, values.json === true);
    let connection: Connection | undefined;
    let client: EnvparityClient | undefined;
    const resolveOnce = async (): Promise<Connection> => {
      if (connection) return connection;
      const configFile = configFilePath(io.env, io.homeDir ?? homedir());
      const file = await loadConfigFile(configFile, { required: Boolean(io.env.ENVPARITY_CONFIG) });
      connection = resolveConnection({
        flags: {
          url: typeof values.url === 'string' ? values.url : undefined,
          token: typeof values.token === 'string' ? values.token : undefined,
        },
        env: io.env,
        file,
        configFile,
      });
      return connection;
    };
    const context: CommandContext = {
      command: command.name,
      subcommand,
      positionals: commandPositionals,
      values,
      out,
      now,
      connection: resolveOnce,
      async client() {
        if (client) return client;
        const { url, token } = await resolveOnce();
        client = createClient({
          url,
          token,
          userAgent: `envparity-cli/${CLI_VERSION}`,
          ...(io.fetch ? { fetch: io.fetch } : {}),
        });
        return client;
      },
    };
    return await command.run(context);
  } catch (error) {
    if (error instanceof UsageError) {
      const help = error.command ?? commandName;
      io.stderr.write(`envparity: ${oneLine(error.message)} (see envparity ${help ? `${help} ` : ''}--help)\n`);
    } else if (error instanceof ApiError) {
      io.stderr.write(`envparity: ${oneLine(describeApiError(error))}\n`);
    } else if (error instanceof ConfigFileError) {
      io.stderr.write(`envparity: ${oneLine(error.message)}\n`);
    } else {
      const message = error instanceof Error ? error.message : String(error);
      io.stderr.write(`envparity: ${oneLine(message)}\n`);
    }
    return EXIT_ERROR;
  }
}
