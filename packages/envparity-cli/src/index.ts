/** @envparity/cli as a library: run the CLI in-process, or reuse its formatting pieces. */
export type { CommandContext, CommandSpec } from './command.js';
export {
  type Connection,
  configFilePath,
  DEFAULT_URL,
  loadConfigFile,
  resolveConnection,
} from './connection-config.js';
export { parseDuration, parseInstant } from './duration.js';
export { auditExitCode, compareExitCode, EXIT_DRIFT, EXIT_ERROR, EXIT_OK } from './exit-codes.js';
export { type CliIo, COMMANDS, describeApiError, runCli } from './run-cli.js';
export { colorAllowed, createStyle, stripAnsi } from './style.js';
export { formatTable } from './table.js';
export { CLI_VERSION } from './version.js';
