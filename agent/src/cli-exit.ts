/** The agent CLI's exit codes, and the error a command throws to end with one. */
/** Exit codes shared by every agent command (driftctl's convention for verify). */
export const EXIT = { ok: 0, drift: 1, error: 2 } as const;

/** Thrown by command actions to end with a given exit code and a one-line reason. */
export class CliExit extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'CliExit';
  }
}
