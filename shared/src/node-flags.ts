/**
 * Whether the operator already chose one of these Node/V8 flags, on the command line or in
 * NODE_OPTIONS (`--flag`, `--no-flag`, `--flag=value`, dashes or underscores). The agent's daemon
 * and the aggregator set a few V8 flags of their own at start, and leave any the operator gave.
 */
export function nodeFlagGiven(
  names: readonly string[],
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): boolean {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  return given.some((arg) => {
    const match = /^--(?:no-)?([a-z0-9_-]+)(?:=.*)?$/i.exec(arg);
    return match !== null && names.includes((match[1] as string).replaceAll('_', '-').toLowerCase());
  });
}
