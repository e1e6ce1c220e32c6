import { ConfigError, LOG_LEVELS } from '@envparity/shared';
import { Command, CommanderError, Option } from 'commander';
import { CliExit, EXIT } from './cli-exit.js';
import { applyDaemonV8Flags } from './daemon/daemon-v8-flags.js';
import { applyHostRoot, HostRootError } from './host-root.js';
import { loadAgentConfig } from './load-config.js';
import type { RunFlags } from './run-command.js';
import type { AggregatorFlags } from './verify/answering-aggregator.js';
import type { BaselineFlags, VerifyFlags } from './verify/verify-command.js';
import { AGENT_VERSION } from './version.js';

// Each command imports its own modules when it runs: a cold `collect` (run by cron or CI on every
// host) should not pay for the daemon's WebSocket and logging stack, nor verify's formats.

const HOST_ROOT_HELP =
  "read the host's files under this directory (an agent in a container; default: config hostRoot, else ENVPARITY_HOST_ROOT)";

/** `--aggregator` may be repeated: the list replaces the config's (fail-over, tried in order). */
const collectUrls = (value: string, previous: string[] = []): string[] => [...previous, value];

/** One flag stays a string (exactly as before the lists); several become the list. */
function oneOrList(urls: readonly string[] | undefined): string | string[] | undefined {
  if (urls === undefined) return undefined;
  return urls.length === 1 ? urls[0] : [...urls];
}

function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('envparity-agent')
    .description(
      'envparity agent: collects host facts, reports them to the aggregator, verifies parity before a deploy.',
    )
    .version(AGENT_VERSION)
    .showHelpAfterError()
    .exitOverride();

  program
    .command('collect')
    .description("collect this host's facts once and print them")
    .option('--config <file>', 'agent config file (YAML or JSON)')
    .option('--json', 'print the whole fact document as JSON')
    .option('--state-dir <dir>', 'state dir holding the key secrets are hashed with')
    .option('--host-root <dir>', HOST_ROOT_HELP)
    .action(async (options: { config?: string; json?: boolean; stateDir?: string; hostRoot?: string }) => {
      const [{ collectFacts }, { formatSummary }] = await Promise.all([
        import('./collect.js'),
        import('./format-summary.js'),
      ]);
      const config = await applyHostRoot(await loadAgentConfig(options.config), options.hostRoot);
      const document = await collectFacts({ config, ...(options.stateDir ? { stateDir: options.stateDir } : {}) });
      process.stdout.write(options.json ? `${JSON.stringify(document, null, 2)}\n` : formatSummary(document));
      setExit(EXIT.ok);
    });

  program
    .command('run')
    .description('run the agent daemon: report facts to the aggregator and watch for changes')
    .option(
      '--aggregator <url>',
      'aggregator URL (ws://, wss://, http:// or https://); repeat to fail over between several (tried in order); default: `aggregator` in the config',
      collectUrls,
    )
    .option('--enroll-secret <secret>', 'enroll secret (or ENVPARITY_ENROLL_SECRET)')
    .option('--config <file>', 'agent config file (YAML or JSON)')
    .option('--environment <name>', 'environment this host belongs to')
    .option('--label <k=v>', 'label, repeatable', (value: string, previous: string[] = []) => [...previous, value])
    .option('--host-id <id>', 'host id (default: derived from the machine id)')
    .option('--state-dir <dir>', 'state dir for token, fleet key and spool')
    .option('--interval <seconds>', 'seconds between full passes')
    .option('--ca <file>', 'PEM CA to trust for wss:// instead of the system CAs (only certificates it signed)')
    .option(
      '--server-fingerprint <sha256>',
      "pin the aggregator certificate's SHA-256 fingerprint (hex, colons optional)",
    )
    .option('--allow-insecure', 'allow plain ws:// or http:// to a non-loopback aggregator (clear text)')
    .option('--host-root <dir>', HOST_ROOT_HELP)
    .addOption(new Option('--log-level <level>', 'log level (JSON lines on stdout)').choices(LOG_LEVELS))
    .action(async (flags: Omit<RunFlags, 'aggregator'> & { aggregator?: string[] }) => {
      applyDaemonV8Flags();
      const options: RunFlags = { ...flags, aggregator: oneOrList(flags.aggregator) };
      const [{ runAgentCommand }, { NotEnrolledError, HostRetiredError }, { InsecureTransportError }] =
        await Promise.all([
          import('./run-command.js'),
          import('./daemon/start-agent.js'),
          import('./daemon/tls-options.js'),
        ]);
      try {
        await runAgentCommand(options);
      } catch (error) {
        if (
          error instanceof NotEnrolledError ||
          error instanceof InsecureTransportError ||
          error instanceof HostRetiredError
        ) {
          throw new CliExit(EXIT.error, error.message);
        }
        throw error;
      }
      setExit(EXIT.ok);
    });

  program
    .command('verify')
    .description(
      'compare this host with a live environment or an expectation file and run health checks (exit 0 parity, 1 drift or a failing check, 2 error); never enrolls',
    )
    .option('--against <env>', 'environment whose live baseline to compare with')
    .option(
      '--aggregator <url>',
      'aggregator URL (http(s):// or ws(s)://); repeat to try several in order until one answers',
      collectUrls,
    )
    .option(
      '--token <token>',
      'API token of scope verify (or admin; read is enough with a state-dir fleet key), or ENVPARITY_TOKEN',
    )
    .option('--expect <file>', 'expectation file (see docs/VERIFY.md)')
    .option('--config <file>', 'agent config file (YAML or JSON)')
    .option('--state-dir <dir>', "an enrolled agent's state dir: fleet key, host id and environment")
    .option('--host-id <id>', "host id to report as (default: the config's, else the agent's in the state dir)")
    .option('--environment <name>', "this host's environment (default: the config's, else the agent's)")
    .addOption(
      new Option('--format <format>', 'output format').choices(['text', 'json', 'junit', 'markdown']).default('text'),
    )
    .addOption(
      new Option('--junit-per <unit>', 'junit: a testcase per difference or per category (plus a summary)')
        .choices(['difference', 'category'])
        .default('difference'),
    )
    .option('--strict', 'scale differences fail too')
    .option('--fail-on <categories>', 'only these categories (comma-separated) can fail the run')
    .option('--category <categories>', 'compare only these categories (comma-separated)')
    .option('--out <file>', 'write the report to a file instead of stdout')
    .option('--checks <file>', 'health checks to run too: a file holding only checks: (see docs/VERIFY.md)')
    .option('--retry-timeout <duration>', 're-run failing health checks until they pass or this long has passed (60s)')
    .option('--sleep <duration>', 'pause between health check attempts while retrying (default 1s)')
    .option('--ca <file>', 'PEM CA to trust for https:// instead of the system CAs')
    .option('--server-fingerprint <sha256>', "pin the aggregator certificate's SHA-256 fingerprint")
    .option('--allow-insecure', 'allow plain http:// to a non-loopback aggregator (the token in clear text)')
    .option('--host-root <dir>', HOST_ROOT_HELP)
    .addHelpText(
      'after',
      `
Fleet key (secrets are compared as keyed hashes): read from --state-dir when an agent enrolled
there, else fetched with the token from GET /api/v1/fleet-key. Without either, verify --against
exits 2; verify --expect works if the file holds no secret hashes. ENVPARITY_ENROLL_SECRET is ignored.`,
    )
    .action(
      async (options: Omit<VerifyFlags, 'aggregator'> & AggregatorFlags & { config?: string; hostRoot?: string }) => {
        const [{ runVerify }, { withAggregator, withAnsweringAggregator }] = await Promise.all([
          import('./verify/verify-command.js'),
          import('./verify/answering-aggregator.js'),
        ]);
        const config = await applyHostRoot(await loadAgentConfig(options.config), options.hostRoot);
        setExit(
          await withAnsweringAggregator(config, options, (aggregator) =>
            runVerify(withAggregator(config, aggregator), { ...options, aggregator }),
          ),
        );
      },
    );

  program
    .command('baseline')
    .description("write this host's behavior facts as an expectation file for verify --expect; never enrolls")
    .option('--config <file>', 'agent config file (YAML or JSON)')
    .option('--state-dir <dir>', "an enrolled agent's state dir: fleet key, host id and environment")
    .option(
      '--aggregator <url>',
      'aggregator to fetch the fleet key from when the state dir has none; repeat to try several in order',
      collectUrls,
    )
    .option('--token <token>', 'API token of scope verify for the fleet key (or ENVPARITY_TOKEN)')
    .option('--host-id <id>', "host id written to the file (default: the config's, else the agent's in the state dir)")
    .option('--environment <name>', "environment written to the file (default: the config's, else the agent's)")
    .option('--out <file>', 'output file (default: stdout)')
    .option('--ca <file>', 'PEM CA to trust for https:// instead of the system CAs')
    .option('--server-fingerprint <sha256>', "pin the aggregator certificate's SHA-256 fingerprint")
    .option('--allow-insecure', 'allow plain http:// to a non-loopback aggregator (the token in clear text)')
    .option('--host-root <dir>', HOST_ROOT_HELP)
    .action(
      async (options: Omit<BaselineFlags, 'aggregator'> & AggregatorFlags & { config?: string; hostRoot?: string }) => {
        const [{ runBaseline }, { withAggregator, withAnsweringAggregator }] = await Promise.all([
          import('./verify/verify-command.js'),
          import('./verify/answering-aggregator.js'),
        ]);
        const config = await applyHostRoot(await loadAgentConfig(options.config), options.hostRoot);
        await withAnsweringAggregator(config, options, (aggregator) =>
          runBaseline(withAggregator(config, aggregator), { ...options, aggregator }),
        );
        setExit(EXIT.ok);
      },
    );

  return program;
}

/** Runs the CLI and resolves with the process exit code; never calls process.exit itself. */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exitCode 0; usage errors were already printed.
      return error.exitCode === 0 ? EXIT.ok : EXIT.error;
    }
    if (error instanceof CliExit) {
      process.stderr.write(`envparity-agent: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof Error && (error as { code?: unknown }).code === 'VERIFY_ERROR') {
      process.stderr.write(`envparity-agent: ${error.message}\n`);
      return EXIT.error;
    }
    if (error instanceof HostRootError) {
      process.stderr.write(`envparity-agent: host root: ${error.message}\n`);
      return EXIT.error;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`envparity-agent: invalid config: ${error.message}\n`);
      return EXIT.error;
    }
    throw error;
  }
}
