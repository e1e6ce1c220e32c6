/**
 * `envparity`: the process's streams and environment handed to runCli (the work is there, so tests
 * call it without a child process).
 */
import { runCli } from './run-cli.js';

export async function main(argv: readonly string[]): Promise<number> {
  return runCli(argv, {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    isTTY: process.stdout.isTTY === true,
  });
}
