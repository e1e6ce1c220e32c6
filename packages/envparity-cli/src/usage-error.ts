/**
 * A mistake on the command line (unknown command or flag, a missing or bad value): exit 2 with one
 * line and a hint to the command's `--help`.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'USAGE';
  /** The command whose help the hint names (`compare`), or undefined for the top level. */
  readonly command: string | undefined;

  constructor(message: string, command?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.command = command;
  }
}

/** A bad config file (`~/.config/envparity/cli.yaml`): exit 2 naming the file and the key. */
export class ConfigFileError extends Error {
  override readonly name = 'ConfigFileError';
  readonly code = 'CONFIG';
}
