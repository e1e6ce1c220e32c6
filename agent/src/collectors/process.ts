/**
 * The process collector: the application's own processes (`watch.processes`), as the kernel sees
 * them, under `process.<name>.*`: the environment from /proc/<pid>/environ (filtered by the entry's
 * `envVars`, else `watch.envVars`, secrets hashed), argv, the executable and its runtime version,
 * the user and group, the working directory, selected limits and the count of matching processes.
 * When several processes match, the oldest (lowest start time, then lowest pid) is described.
 *
 * A process that cannot be read (permissions, gone, nothing matches) is named in the document's
 * `errors`; its last facts read by this agent are kept, marked `process.<name>.stale: true`, so a
 * brief restart or a permission problem does not look like every fact of the app vanished.
 * Paths and classes: docs/FACTS.md.
 */
import type { AgentConfig, FactMap, FactValue, ProcessConfig } from '@envparity/shared';
import { factPath } from '@envparity/shared';
import type { SecretHasher } from '../secrets.js';
import { envVarFacts } from './config-env.js';
import { sha256Hex, toScalar } from './config-flatten.js';
import { parseLimits } from './config-ulimit.js';
import type { HostFs } from './host-fs.js';
import { exeRuntime, procExePath, runtimeNameFor } from './process-exe.js';
import {
  DEFAULT_PROC_ROOT,
  DELETED_SUFFIX,
  parseCmdline,
  parseEnviron,
  parseStatusIds,
  readProcFile,
  readProcLink,
} from './process-proc.js';
import { commandLineTable, describeSpec, type ResolveOptions, resolveProcesses } from './process-resolve.js';
import { DEFAULT_GROUP_FILE, DEFAULT_PASSWD_FILE, idName } from './process-users.js';
import { type HostRuntimeLookup, hostRuntimeLookup, hostRuntimeVersion } from './runtime-host.js';
import { type Collector, type CollectorContext, hostFsOf } from './types.js';

/** Limits reported per process (`ulimit` short names; see config-ulimit.ts). */
export const DEFAULT_PROCESS_LIMITS: readonly string[] = [
  'nofile',
  'nproc',
  'core',
  'memlock',
  'as',
  'stack',
  'fsize',
  'data',
  'cpu',
  'locks',
  'msgqueue',
  'rtprio',
];

/** argv longer than this keeps its first items and one `sha256:` item for the rest. */
export const MAX_ARGV_ITEMS = 64;

/** How many matching processes are tried when the representative exits while being read. */
const READ_ATTEMPTS = 3;

export interface ProcessCollectorOptions extends Omit<ResolveOptions, 'exec'> {
  passwdFile?: string;
  groupFile?: string;
  limits?: readonly string[];
  /** Host mode: runtimes of executables are identified from the host's files (runtime-host.ts). */
  hostRuntimes?: HostRuntimeLookup;
}

/**
 * Host mode: the host's /proc, cgroup tree, passwd and group under the root. The agent's own pid
 * there is what `proc/self` names. Processes of the host are visible when its /proc is mounted
 * (as the host's PID namespace sees them), and their environ is readable with the rights the
 * host gives the agent (root, or the app's user).
 */
async function hostModeOptions(host: HostFs, options: ProcessCollectorOptions): Promise<ProcessCollectorOptions> {
  const local = (path: string) => host.local(path).catch(() => host.lexical(path));
  const [procRoot, cgroupRoot, systemdRunDir, passwdFile, groupFile, self, hostRuntimes] = await Promise.all([
    local('/proc'),
    local('/sys/fs/cgroup'),
    local('/run/systemd/system'),
    local('/etc/passwd'),
    local('/etc/group'),
    host.readLink('/proc/self'),
    hostRuntimeLookup(host),
  ]);
  const ownPid = Number(self);
  return {
    procRoot,
    cgroupRoot,
    systemdRunDir,
    passwdFile,
    groupFile,
    host,
    hostRuntimes,
    ...(Number.isInteger(ownPid) && ownPid > 0 ? { excludePids: [ownPid] } : {}),
    ...options,
  };
}

type ReadOutcome = { ok: true; facts: FactMap } | { ok: false; problem: string; gone: boolean };

export function createProcessCollector(options: ProcessCollectorOptions = {}): Collector {
  // The last facts read of each process, per daemon (its config object) and fleet key.
  const memory = new WeakMap<AgentConfig, Map<string, { key: string; facts: FactMap }>>();
  return {
    name: 'process',
    async collect(context) {
      const specs = context.config.watch.processes;
      if (specs.length === 0) return {};
      let remembered = memory.get(context.config);
      if (!remembered) {
        remembered = new Map();
        memory.set(context.config, remembered);
      }
      const last = remembered;
      const host = hostFsOf(context);
      const base = host.hostMode ? await hostModeOptions(host, options) : options;
      const procRoot = base.procRoot ?? DEFAULT_PROC_ROOT;
      const shared: ProcessCollectorOptions = specs.some((spec) => spec.match !== undefined)
        ? { ...base, commandLines: commandLineTable(procRoot) }
        : base;
      const parts = await Promise.all(specs.map((spec) => collectOne(spec, context, shared, last)));
      return Object.assign({}, ...parts) as FactMap;
    },
  };
}

export const processCollector: Collector = createProcessCollector();

/**
 * `process.<name>.stale` is volatile (never compared), but it says whether the other facts of the
 * process are current: the daemon sends its changes at once instead of holding them back with
 * the other volatile facts (uptime, pids), so a recovered process is not shown stale for minutes.
 */
export function isStaleMarker(path: string): boolean {
  return /^process\.[A-Za-z0-9_-]+\.stale$/.test(path);
}

async function collectOne(
  spec: ProcessConfig,
  context: CollectorContext,
  options: ProcessCollectorOptions,
  memory: Map<string, { key: string; facts: FactMap }>,
): Promise<FactMap> {
  const key = JSON.stringify([spec, context.config.watch.envVars, context.secrets.hash('envparity:process-facts')]);
  const resolved = await resolveProcesses(spec, options.host?.hostMode ? options : { ...options, exec: context.exec });
  const count = resolved.pids.length;
  let problem = resolved.problem;
  for (const pid of resolved.pids.slice(0, READ_ATTEMPTS)) {
    const outcome = await readProcess(pid, spec, context, options);
    if (outcome.ok) {
      memory.set(spec.name, { key, facts: outcome.facts });
      return {
        ...outcome.facts,
        [factPath('process', spec.name, 'count')]: count,
        [factPath('process', spec.name, 'pid')]: pid,
      };
    }
    problem = outcome.problem;
    if (!outcome.gone) break;
  }
  problem ??= 'no process could be read';
  const previous = memory.get(spec.name);
  const stale = previous?.key === key;
  context.reportError?.(
    `process ${spec.name} (${describeSpec(spec)}): ${problem}${stale ? '; its last facts are kept, marked stale' : ''}`,
  );
  const facts: FactMap = stale ? { ...previous.facts } : {};
  facts[factPath('process', spec.name, 'count')] = count;
  if (stale) facts[factPath('process', spec.name, 'stale')] = true;
  return facts;
}

/** Every fact of one process, or why it could not be read. */
async function readProcess(
  pid: number,
  spec: ProcessConfig,
  context: CollectorContext,
  options: ProcessCollectorOptions,
): Promise<ReadOutcome> {
  const procRoot = options.procRoot ?? DEFAULT_PROC_ROOT;
  const [cmdline, environ, status, limits, exe, cwd] = await Promise.all([
    readProcFile(pid, 'cmdline', procRoot),
    readProcFile(pid, 'environ', procRoot),
    readProcFile(pid, 'status', procRoot),
    readProcFile(pid, 'limits', procRoot),
    readProcLink(pid, 'exe', procRoot),
    readProcLink(pid, 'cwd', procRoot),
  ]);
  for (const [what, read] of [
    ['cmdline', cmdline],
    ['environ', environ],
    ['status', status],
  ] as const) {
    if (!read.ok) {
      const gone = read.code === 'ENOENT' || read.code === 'ESRCH';
      return { ok: false, gone, problem: `pid ${pid}: cannot read ${what}: ${describeCode(read.code)}` };
    }
  }
  if (!cmdline.ok || !environ.ok || !status.ok) throw new Error('unreachable');
  const argv = parseCmdline(cmdline.data);
  // A zombie (or a process exiting) has no argv and an empty environ: not the app's state.
  if (argv.length === 0) return { ok: false, gone: true, problem: `pid ${pid} is exiting` };

  const at = (...segments: string[]) => factPath('process', spec.name, ...segments);
  const facts: FactMap = {
    ...envVarFacts(parseEnviron(environ.data), spec.envVars ?? context.config.watch.envVars, context.secrets, [
      'process',
      spec.name,
      'env',
    ]),
  };
  facts[at('argv')] = protectArgv(argv, context.secrets);
  if (exe.ok) {
    const deleted = exe.target.endsWith(DELETED_SUFFIX);
    const path = deleted ? exe.target.slice(0, -DELETED_SUFFIX.length) : exe.target;
    facts[at('exe')] = path;
    if (deleted) facts[at('exeDeleted')] = true;
    const runtime = options.hostRuntimes
      ? await hostExeRuntime(path, options.hostRuntimes, (problem) =>
          context.reportError?.(`process ${spec.name}: runtime version: ${problem}`),
        )
      : await exeRuntime(context, path, procExePath(procRoot, pid), deleted);
    if (runtime) {
      facts[at('runtime', 'name')] = runtime.name;
      if (runtime.version) facts[at('runtime', 'version')] = runtime.version;
    }
  }
  if (cwd.ok) facts[at('cwd')] = cwd.target;
  const ids = parseStatusIds(status.data.toString('utf8'));
  if (ids.uid !== undefined) facts[at('user')] = await idName(ids.uid, options.passwdFile ?? DEFAULT_PASSWD_FILE);
  if (ids.gid !== undefined) facts[at('group')] = await idName(ids.gid, options.groupFile ?? DEFAULT_GROUP_FILE);
  if (limits.ok) {
    const wanted = new Set(options.limits ?? DEFAULT_PROCESS_LIMITS);
    for (const row of parseLimits(limits.data.toString('utf8'))) {
      if (wanted.has(row.name)) facts[at('limit', row.name)] = row.soft;
    }
  }
  return { ok: true, facts };
}

/** The runtime of a host executable (a host path) and its version from the host's files; never run. */
async function hostExeRuntime(
  exePath: string,
  lookup: HostRuntimeLookup,
  reportProblem: (problem: string) => void,
): Promise<{ name: string; version?: string } | undefined> {
  const name = runtimeNameFor(exePath);
  if (!name) return undefined;
  const real = (await lookup.host.realpath(exePath)) ?? exePath;
  const result = await hostRuntimeVersion(
    name,
    { command: name, path: exePath, target: exePath, real, opaqueShim: false },
    lookup,
  );
  if ('version' in result) return { name, version: result.version };
  reportProblem(result.problem);
  return { name };
}

function describeCode(code: string): string {
  if (code === 'EACCES' || code === 'EPERM')
    return `${code} (permission denied: run the agent as the app's user or root)`;
  if (code === 'ENOENT' || code === 'ESRCH') return `${code} (the process is gone)`;
  return code;
}

/**
 * argv with secret-looking flags hashed: `--db-password=x` and `DB_PASSWORD=x` keep the name and
 * hash the value; `--db-password x` hashes the next item. Names are matched by the `secrets` globs
 * without their leading dashes. Long items become `sha256:<hex>`; past MAX_ARGV_ITEMS items, the
 * rest is one `sha256:` item.
 */
export function protectArgv(argv: readonly string[], secrets: SecretHasher): FactValue {
  const out: string[] = [];
  let hashNext = false;
  for (const arg of argv) {
    if (hashNext) {
      out.push(secrets.hash(arg));
      hashNext = false;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = (eq > 0 ? arg.slice(0, eq) : arg).replace(/^-+/, '');
    if (eq > 0 && name && secrets.isSecretName(name)) {
      out.push(`${arg.slice(0, eq + 1)}${secrets.hash(arg.slice(eq + 1))}`);
      continue;
    }
    if (eq < 0 && arg.startsWith('-') && name && secrets.isSecretName(name)) hashNext = true;
    out.push(String(toScalar(arg)));
  }
  if (out.length <= MAX_ARGV_ITEMS) return out;
  return [...out.slice(0, MAX_ARGV_ITEMS - 1), `sha256:${sha256Hex(out.slice(MAX_ARGV_ITEMS - 1).join('\0'))}`];
}
