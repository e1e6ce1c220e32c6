/**
 * Whether this agent runs as the Node single executable (`npm run package:agent`). There,
 * `process.execPath` is the agent binary and `process.version` the Node built into it: neither is a
 * Node runtime of the host, so the runtime collector must not report them as one.
 */
type GetBuiltinModule = (id: 'node:sea') => { isSea(): boolean } | undefined;

let cached: Promise<boolean> | undefined;

export function isSingleExecutable(): Promise<boolean> {
  // Not `import('node:sea')`: the executable's CommonJS main script has no dynamic import.
  // process.getBuiltinModule exists from Node 20.16; an older Node is not the one an executable is built from.
  const getBuiltinModule = (process as { getBuiltinModule?: GetBuiltinModule }).getBuiltinModule;
  cached ??= Promise.resolve(typeof getBuiltinModule === 'function' && getBuiltinModule('node:sea')?.isSea() === true);
  return cached;
}
