/**
 * `envparity-aggregator`: flag parsing only; the work is in serve.ts. Exit codes: 0 after a clean
 * shutdown (and for `--version`, `--help`), 1 when the server cannot start or fails, 2 for usage and
 * config errors.
 */
import { resolve } from 'node:path';
import { ConfigError } from '@envparity/shared';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { LOG_LEVELS } from './config.js';
import { applyHeapGrowth } from './heap-growth.js';
import { serveUntilSignal } from './serve.js';
import { AGGREGATOR_PACKAGE_VERSION } from './version.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

function parsePort(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65_535) throw new InvalidArgumentError('expected a port number 0-65535');
  return Number(value);
}

interface ServeFlags {
  config?: string;
  host?: string;
  port?: number;
  data?: string;
  logLevel?: (typeof LOG_LEVELS)[number];
  tlsCert?: string;
  tlsKey?: string;
  insecureDev?: boolean;
  store?: string;
}

/** `--tls-cert` and `--tls-key` come together; paths are resolved against the working dir. */
function tlsFlag(flags: ServeFlags): { tls?: { cert: string; key: string } } {
  if (flags.tlsCert === undefined && flags.tlsKey === undefined) return {};
  if (flags.tlsCert === undefined || flags.tlsKey === undefined) {
    throw new ConfigError('--tls-cert and --tls-key go together: give both, or neither', 'tls');
  }
  return { tls: { cert: resolve(flags.tlsCert), key: resolve(flags.tlsKey) } };
}

export async function main(argv: readonly string[]): Promise<number> {
  let exitCode = EXIT_OK;
  const program = new Command('envparity-aggregator')
    .description('envparity aggregator: agent ingest, fact store and HTTP API')
    .version(AGGREGATOR_PACKAGE_VERSION, '-V, --version', 'print the version and exit')
    .exitOverride()
    .showHelpAfterError();
  program
    .command('serve')
    .description('run the aggregator: HTTP API and agent WebSocket on one port')
    .option('--config <file>', 'config file (YAML or JSON)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--port <port>', 'port to listen on, 0 for any free port (default 7300)', parsePort)
    .option('--data <dir>', 'data dir: database and generated secrets (default ./envparity-data)')
    .option(
      '--store <url>',
      'keep the data in PostgreSQL (postgres://user@host:port/db; env ENVPARITY_STORE_URL) instead of the SQLite file in --data',
    )
    .addOption(new Option('--log-level <level>', 'log level (default info)').choices(LOG_LEVELS))
    .option('--tls-cert <file>', 'PEM certificate (chain): serve HTTPS and WSS on the same port (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert (unencrypted)')
    .option('--insecure-dev', 'throwaway local setup: accept an enroll secret shorter than 16 characters')
    .action(async (flags: ServeFlags) => {
      applyHeapGrowth();
      exitCode = await serveUntilSignal({
        ...(flags.config ? { configFile: flags.config } : {}),
        flags: {
          host: flags.host,
          port: flags.port,
          data: flags.data,
          logLevel: flags.logLevel,
          ...(flags.store !== undefined ? { store: { url: flags.store } } : {}),
          ...(flags.insecureDev ? { insecureDev: true } : {}),
          ...tlsFlag(flags),
        },
      });
    });

  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`envparity-aggregator: ${message}\n`);
    return error instanceof ConfigError ? EXIT_USAGE : EXIT_FAILURE;
  }
}
