/** The message of anything thrown, for a log field (never the stack: logs stay one line). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
