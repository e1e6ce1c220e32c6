#!/usr/bin/env node
// `npm run bench:fleet -- --agents N --duration S [--interval 60] [--change-rate 0.01] [--ramp S]`
//                        `[--store postgres [--aggregators 2]]`
//
// Starts a real aggregator on 127.0.0.1 with a temporary data dir, drives it with N simulated agents
// (packages/loadgen, in a child process) and measures:
// - stormSeconds: from the fleet's start until every agent's initial full report is acknowledged;
// - steady state (from the end of the storm + a settle time to the end of --duration): reports/s,
//   ingest latency p50/p99 (the aggregator's envparity_ingest_latency_seconds histogram, window
//   delta; client-side report->ack RTT as well), the aggregator's CPU (% of one core, from
//   /proc/PID/stat utime+stime) and RSS (/proc/PID/status VmRSS).
// Prints progress on stderr and, as the LAST stdout line, one JSON object.
//
// Why the fleet runs in a child process: during the storm the fleet's event loop is saturated by
// thousands of handshakes and 30 KB reports; the orchestrator's 1 s sampling of /proc and /metrics and
// its duration bound must stay punctual, and the fleet's own CPU must be visible apart (if it pegs a
// core, the figures are client-bound, and the JSON says so with fleetCpuPct/fleetLoopDelayP99Ms).
//
// `--store postgres` runs the aggregators on a throwaway PostgreSQL cluster (scripts/bench-postgres.js)
// and `--aggregators N` starts N of them on it, the fleet split evenly (agent i on aggregator
// i % N); CPU and RSS are then the sum over the aggregators, and PostgreSQL's own CPU is reported
// beside them (postgresCpuPct, every process of the cluster).
//
// Only 127.0.0.1 is contacted. The run always ends by itself: the aggregator and the fleet are
// stopped (SIGTERM, then SIGKILL) and the data dir removed (unless --keep-data).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawnAggregatorProcess } from './bench-aggregator-process.js';
import { openFileLimitForChildren } from './bench-open-files.js';
import { startBenchPostgres } from './bench-postgres.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const loadgenDist = join(root, 'packages', 'loadgen', 'dist', 'index.js');
const defaultAggregatorBin = join(root, 'aggregator', 'bin', 'envparity-aggregator.js');
const aggregatorDist = join(root, 'aggregator', 'dist', 'cli.js');

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      agents: { type: 'string', default: '2000' },
      duration: { type: 'string', default: '180' },
      interval: { type: 'string', default: '60' },
      'change-rate': { type: 'string', default: '0.01' },
      ramp: { type: 'string' },
      settle: { type: 'string', default: '10' },
      'max-connecting': { type: 'string', default: '1000' },
      seed: { type: 'string', default: '1' },
      'cpu-prof': { type: 'string' },
      'keep-data': { type: 'boolean', default: false },
      aggregator: { type: 'string' },
      'aggregator-config': { type: 'string' },
      nice: { type: 'string' },
      roles: { type: 'string' },
      store: { type: 'string', default: 'sqlite' },
      aggregators: { type: 'string', default: '1' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  }));
} catch (error) {
  console.error(`${error.message}\nrun with --help for the options (negative values as --nice=-10)`);
  process.exit(2);
}

if (args.help) {
  console.log(`usage: npm run bench:fleet -- --agents N --duration SECONDS [--interval SECONDS (60)]
       [--change-rate SHARE_PER_HOST_PER_MINUTE (0.01)] [--ramp SECONDS (agents/1000)] [--settle SECONDS (10)]
       [--max-connecting N (1000)] [--seed N] [--cpu-prof DIR] [--keep-data] [--aggregator BIN_JS]
       [--aggregator-config FILE (passed to serve --config, e.g. storeSynchronous: normal)]
       [--nice=N (niceness of the aggregator and the fleet, e.g. --nice=-10 on a shared machine)]
       [--roles web,worker,db (host roles mixed in every environment; one role = homogeneous environments)]
       [--store sqlite|postgres (sqlite: the file in the data dir; postgres: a throwaway local cluster)]
       [--aggregators N (1; more than one needs --store postgres; agent i connects to aggregator i % N)]
env BENCH_SHOW_STDERR=1 copies the aggregator's stderr to this stderr`);
  process.exit(0);
}

const num = (name, { min = 0, integer = false } = {}) => {
  const value = Number(args[name]);
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    console.error(
      `--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${JSON.stringify(args[name])}`,
    );
    process.exit(2);
  }
  return value;
};
const agents = num('agents', { min: 1, integer: true });
const durationSeconds = num('duration', { min: 5 });
const intervalSeconds = num('interval', { min: 0.1 });
const changeRate = num('change-rate');
const rampSeconds = args.ramp === undefined ? Math.ceil(agents / 1000) : num('ramp');
const settleSeconds = num('settle');
const maxConnecting = num('max-connecting', { min: 1, integer: true });
const seed = num('seed', { integer: true });
const aggregatorCount = num('aggregators', { min: 1, integer: true });
if (!['sqlite', 'postgres'].includes(args.store)) {
  console.error(`--store must be sqlite or postgres, got ${JSON.stringify(args.store)}`);
  process.exit(2);
}
if (aggregatorCount > 1 && args.store !== 'postgres') {
  console.error('--aggregators above 1 needs --store postgres (several aggregators share one PostgreSQL database)');
  process.exit(2);
}
if (aggregatorCount > 1 && args['cpu-prof']) {
  console.error('--cpu-prof profiles one aggregator: use it with --aggregators 1');
  process.exit(2);
}
const nice = args.nice === undefined ? undefined : Number(args.nice);
if (nice !== undefined && !(Number.isInteger(nice) && nice >= -20 && nice <= 19)) {
  console.error(`--nice must be an integer from -20 to 19, got ${JSON.stringify(args.nice)}`);
  process.exit(2);
}

// --aggregator runs another build of the aggregator (same CLI contract), e.g. to compare two versions.
const aggregatorBin = args.aggregator ? resolve(args.aggregator) : defaultAggregatorBin;
for (const [file, hint] of [
  [loadgenDist, 'npx tsc -b packages/loadgen'],
  [args.aggregator ? aggregatorBin : aggregatorDist, 'npm run build'],
]) {
  if (!existsSync(file)) {
    console.error(`${file} is missing: build first (${hint})`);
    process.exit(2);
  }
}

const lg = await import(loadgenDist);
const roleNames = args.roles === undefined ? undefined : args.roles.split(',').map((r) => r.trim());
const roles = roleNames && lg.DEFAULT_ROLES.filter((r) => roleNames.includes(r.name));
if (roleNames && roles.length !== roleNames.length) {
  console.error(`--roles takes a comma list of ${lg.DEFAULT_ROLES.map((r) => r.name).join(', ')}`);
  process.exit(2);
}
const log = (message) => process.stderr.write(`[bench-fleet] ${message}\n`);
const round = (x, digits = 1) =>
  x === undefined || x === null || !Number.isFinite(x) ? null : Math.round(x * 10 ** digits) / 10 ** digits;
const monoUs = () => Number(process.hrtime.bigint() / 1000n);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- open-file limit: each side holds one socket per agent ---------------------------------------
const nofile = openFileLimitForChildren(lg, agents, log);
const wrap = (command, argv) => lg.wrapCommand(command, argv, { nofile, nice });

// --- aggregator ----------------------------------------------------------------------------------
const work = mkdtempSync(join(tmpdir(), 'envparity-bench-fleet-'));
const dataDir = join(work, 'data');
mkdirSync(dataDir);
const profDir = args['cpu-prof'] ? resolve(args['cpu-prof']) : undefined;
if (profDir) mkdirSync(profDir, { recursive: true });
const enrollSecret = randomBytes(16).toString('hex');
const adminToken = randomBytes(24).toString('hex');
const nodeFlags = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
const [aggCommand, aggArgs] = wrap(process.execPath, [
  ...nodeFlags,
  aggregatorBin,
  'serve',
  '--host',
  '127.0.0.1',
  '--port',
  '0',
  '--data',
  dataDir,
  ...(args['aggregator-config'] ? ['--config', resolve(args['aggregator-config'])] : []),
]);
const fleetKey = randomBytes(32).toString('base64url');
const postgres = args.store === 'postgres' ? await startBenchPostgres({ log }) : undefined;
const aggregatorStartedMono = monoUs();
const aggregatorEnv = {
  ...process.env,
  ENVPARITY_ENROLL_SECRET: enrollSecret,
  ENVPARITY_ADMIN_TOKEN: adminToken,
  // Every aggregator on one database must share the fleet key.
  ENVPARITY_FLEET_KEY: fleetKey,
  ...(postgres ? { ENVPARITY_STORE_URL: postgres.url } : {}),
};
const spawnAggregator = (index) => {
  const dir = index === 0 ? dataDir : join(work, `data-${index}`);
  if (!existsSync(dir)) mkdirSync(dir);
  return spawnAggregatorProcess({
    command: aggCommand,
    argv: aggArgs.map((arg) => (arg === dataDir ? dir : arg)),
    cwd: root,
    env: aggregatorEnv,
    remember: (line) => remember(aggregatorCount > 1 && !line.startsWith('stderr') ? `[${index}] ${line}` : line),
  });
};
const tail = [];
const remember = (line) => {
  tail.push(line);
  if (tail.length > 40) tail.shift();
};
const handles = [];
for (let index = 0; index < aggregatorCount; index++) handles.push(spawnAggregator(index));
const aggregator = handles[0].proc;
const aggregatorExited = handles[0].exited;
const running = (proc) => proc.exitCode === null && proc.signalCode === null;

let fleet;
const cleanup = async () => {
  if (fleet) await fleet.stop(10_000).catch(() => {});
  await Promise.all(
    handles.map(async ({ proc, exited }) => {
      if (!running(proc)) return;
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    }),
  );
  await postgres?.stop().catch(() => {});
  if (!args['keep-data']) rmSync(work, { recursive: true, force: true });
  else log(`data kept in ${dataDir}`);
};
// A hard bound whatever happens: the bench never outlives its duration by more than a minute and a half.
const watchdog = setTimeout(
  () => {
    log('watchdog: run overran its duration, killing everything');
    fleet?.stop(1).catch(() => {});
    for (const { proc } of handles) proc.kill('SIGKILL');
    process.exit(3);
  },
  (durationSeconds + 90) * 1000,
);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    void cleanup().then(() => process.exit(130));
  });
}

const fail = async (message) => {
  console.error(message);
  if (tail.length > 0) console.error(`aggregator output (last lines):\n${tail.join('\n')}`);
  await cleanup();
  process.exit(2);
};

const deadline = Date.now() + 30_000;
while (handles.some((handle) => handle.listeningUrl === undefined)) {
  if (handles.some(({ proc }) => !running(proc))) await fail('an aggregator exited before listening');
  if (Date.now() > deadline) await fail('the aggregator did not log {"msg":"listening","url":...} within 30 s');
  await sleep(50);
}
const bases = handles.map(({ listeningUrl }) => new URL(listeningUrl));
for (const base of bases) {
  if (base.hostname !== '127.0.0.1' && base.hostname !== 'localhost')
    await fail(`refusing a non-loopback aggregator URL ${base.href}`);
}
const wsUrls = bases.map((base) => `ws://127.0.0.1:${base.port}/api/v1/agent`);
const wsUrl = wsUrls[0];
for (const [index, base] of bases.entries()) {
  log(
    `aggregator pid ${handles[index].proc.pid} listening on ${base.origin}${postgres ? ` (store ${postgres.url})` : ''}`,
  );
}

/** Every aggregator's /metrics, as one list of samples (counters and histograms add up across them). */
const scrape = async () => {
  const scraped = await Promise.all(bases.map((base) => scrapeOne(`http://127.0.0.1:${base.port}/metrics`)));
  return scraped.some((samples) => samples === undefined) ? undefined : scraped.flat();
};
const scrapeOne = async (metricsUrl) => {
  try {
    const response = await fetch(metricsUrl, {
      headers: { authorization: `Bearer ${adminToken}` },
      signal: AbortSignal.timeout(15_000),
    });
    if (!response.ok) return undefined;
    return lg.parsePrometheusText(await response.text());
  } catch {
    return undefined;
  }
};

const clk = lg.clockTicksPerSecond();
/** A sum of per-process readings (a process gone between listing and reading counts 0). */
const sumOf = (values) => values.reduce((total, value) => total + (value ?? 0), 0);
/** The aggregators' memory added up (their peak RSS: the sum of each one's high-water mark). */
const aggregatorMemory = () => {
  const readings = handles.map(({ proc }) => lg.readProcMemory(proc.pid)).filter(Boolean);
  if (readings.length === 0) return undefined;
  return {
    vmRssKb: sumOf(readings.map((m) => m.vmRssKb)),
    vmHwmKb: sumOf(readings.map((m) => m.vmHwmKb)),
    perAggregatorRssKb: readings.map((m) => m.vmRssKb),
  };
};
const snapshot = async () => {
  const mono = monoUs();
  const wall = performance.now();
  const ticks = sumOf(handles.map(({ proc }) => lg.readProcCpuTicks(proc.pid)));
  const postgresTicks = postgres ? sumOf(postgres.pids().map((pid) => lg.readProcCpuTicks(pid))) : undefined;
  const fleetTicks = fleet ? lg.readProcCpuTicks(fleet.pid) : undefined;
  const selfTicks = lg.readProcCpuTicks('self');
  const machine = lg.readMachineCpuTicks();
  const tcp = lg.readTcpListenCounters();
  const memory = aggregatorMemory();
  const scrapeStarted = performance.now();
  const metrics = await scrape();
  const scrapeMs = Math.round(performance.now() - scrapeStarted);
  return {
    scrapeMs,
    mono,
    wall,
    ticks,
    postgresTicks,
    fleetTicks,
    selfTicks,
    machine,
    tcp,
    memory,
    metrics,
    fleetStats: fleet?.latest(),
  };
};
// CPU used in a window by everything but the aggregator, the fleet and this script (other work on
// the machine distorts the figures: reported so a reader can tell), and the machine's I/O wait.
const machineWindow = (a, b) => {
  if (!a?.machine || !b?.machine) return { otherCpuPct: null, iowaitPct: null };
  const seconds = (b.wall - a.wall) / 1000;
  const ours = ['ticks', 'postgresTicks', 'fleetTicks', 'selfTicks'].reduce(
    (sum, k) => sum + ((b[k] ?? 0) - (a[k] ?? 0)),
    0,
  );
  return {
    otherCpuPct: round(((b.machine.busy - a.machine.busy - ours) / clk / seconds) * 100),
    iowaitPct: round(((b.machine.iowait - a.machine.iowait) / clk / seconds) * 100),
  };
};
// % of one core over the window; the fleet did not exist yet at the first snapshot (0 ticks then).
const cpuPct = (a, b, key = 'ticks') =>
  b?.[key] === undefined || (a?.[key] === undefined && key !== 'fleetTicks')
    ? null
    : round((((b[key] - (a?.[key] ?? 0)) / clk) * 100) / ((b.wall - a.wall) / 1000));
const LATENCY = 'envparity_ingest_latency_seconds';
const windowLatency = (a, b) => {
  const later = b?.metrics && lg.promHistogram(b.metrics, LATENCY);
  if (!later) return {};
  const h = lg.subtractPromHistograms(later, a?.metrics ? lg.promHistogram(a.metrics, LATENCY) : undefined);
  const q = (x) => {
    const s = lg.promQuantile(h, x);
    return s === undefined ? null : round(s * 1000, 2);
  };
  return { count: h.count, p50Ms: q(0.5), p99Ms: q(0.99) };
};
const counterDelta = (a, b, name, filter) => {
  const later = b?.metrics ? lg.sumSamples(b.metrics, name, filter) : undefined;
  if (later === undefined) return undefined;
  return later - ((a?.metrics ? lg.sumSamples(a.metrics, name, filter) : undefined) ?? 0);
};
const rtt = (a, b, key) => {
  const later = b?.fleetStats?.[key];
  if (!later) return { count: 0, p50Ms: null, p99Ms: null };
  const h = a?.fleetStats?.[key] ? lg.subtractSnapshots(later, a.fleetStats[key]) : later;
  return {
    count: h.count,
    p50Ms: round(lg.snapshotQuantile(h, 0.5), 2),
    p99Ms: round(lg.snapshotQuantile(h, 0.99), 2),
  };
};

// --- fleet ---------------------------------------------------------------------------------------
const start = await snapshot();
fleet = lg.forkFleet(
  {
    url: wsUrl,
    urls: wsUrls,
    agents,
    enrollSecret,
    intervalSeconds,
    changeRatePerMinute: changeRate,
    rampSeconds,
    maxConnecting,
    seed,
    ...(roles ? { model: { roles } } : {}),
  },
  { nofile, nice },
);
log(
  `fleet pid ${fleet.pid}: ${agents} agents, ramp ${rampSeconds} s, interval ${intervalSeconds} s, ` +
    `change rate ${changeRate}/host/min, duration ${durationSeconds} s`,
);
const startWall = performance.now();
const endWall = startWall + durationSeconds * 1000;
let stormEnd;
let steadyStart;
let midpoint;
let peakRssKb = 0;
let lastProgress = 0;
while (performance.now() < endWall) {
  await sleep(Math.min(1000, Math.max(0, endWall - performance.now())));
  const stats = fleet.latest();
  const memory = aggregatorMemory();
  if (memory) peakRssKb = Math.max(peakRssKb, memory.vmRssKb);
  for (const { proc } of handles) {
    if (!running(proc)) await fail(`an aggregator died during the run (exit ${proc.exitCode ?? proc.signalCode})`);
  }
  if (stats && stats.stormMs !== null && stormEnd === undefined) {
    stormEnd = await snapshot();
    log(`storm absorbed: all ${agents} initial full reports acknowledged after ${(stats.stormMs / 1000).toFixed(1)} s`);
  }
  const remaining = endWall - performance.now();
  if (!midpoint && performance.now() - startWall >= (durationSeconds * 1000) / 2) midpoint = await snapshot();
  if (stormEnd && !steadyStart && performance.now() - stormEnd.wall >= Math.min(settleSeconds * 1000, remaining / 2)) {
    steadyStart = await snapshot();
    log(`steady window starts (${(remaining / 1000).toFixed(0)} s left)`);
    if (remaining < intervalSeconds * 1000) {
      log(`note: the steady window is shorter than one interval (${intervalSeconds} s): use a longer --duration`);
    }
  }
  if (stats && performance.now() - lastProgress >= 5000) {
    lastProgress = performance.now();
    log(
      `t=${(stats.elapsedMs / 1000).toFixed(0)}s connected ${stats.connected}/${agents} fullAcked ${stats.fullAcked} ` +
        `deltas ${stats.deltaReportsSent} heartbeats ${stats.heartbeatsSent} aggRss ${memory ? Math.round(memory.vmRssKb / 1024) : '?'} MB ` +
        `fleet cpu ${(((stats.process.cpuUserMs + stats.process.cpuSystemMs) / stats.elapsedMs) * 100).toFixed(0)}% ` +
        `closes ${JSON.stringify(stats.closes)}`,
    );
  }
}
const end = await snapshot();
if (end.memory) peakRssKb = Math.max(peakRssKb, end.memory.vmRssKb, end.memory.vmHwmKb);
const finalFleet = await fleet.stop(10_000);
fleet = undefined;
const stats = finalFleet ?? end.fleetStats;

// Without a completed storm there is no steady state: the window falls back to the second half of the run.
const steadyFrom = steadyStart ?? midpoint ?? start;
const steadyFallback = steadyStart === undefined;
const steadySeconds = (end.wall - steadyFrom.wall) / 1000;
const steadyLatency = windowLatency(steadyFrom, end);
const stormLatency = stormEnd ? windowLatency(start, stormEnd) : windowLatency(start, end);
const reports = counterDelta(steadyFrom, end, 'envparity_ingest_messages_total', { type: 'report' });
const messages = counterDelta(steadyFrom, end, 'envparity_ingest_messages_total');
const steadyRtt = rtt(steadyFrom, end, 'deltaRtt');
const stormRtt = rtt(undefined, stormEnd ?? end, 'fullRtt');
const connectedGauge = end.metrics ? lg.sumSamples(end.metrics, 'envparity_agents_connected') : undefined;
// Each aggregator reports the same database's size: counted once.
const storeBytes = postgres
  ? await postgres.databaseBytes().catch(() => undefined)
  : end.metrics
    ? lg.sumSamples(end.metrics, 'envparity_store_bytes')
    : undefined;
const ingestBytes = end.metrics ? lg.sumSamples(end.metrics, 'envparity_ingest_bytes_total') : undefined;
// Sockets the aggregator closed, by reason (only the non-zero ones).
const rejected = {};
for (const sample of end.metrics ?? []) {
  if (sample.name === 'envparity_ingest_rejected_total' && sample.value > 0) {
    rejected[sample.labels.reason ?? '?'] = (rejected[sample.labels.reason ?? '?'] ?? 0) + sample.value;
  }
}
const dirBytes = (dir) => {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(path) : statSync(path).size;
  }
  return total;
};
const dataDirBytes = existsSync(dataDir) ? dirBytes(dataDir) : undefined;
const stormSeconds = stats?.stormMs === null || stats?.stormMs === undefined ? null : round(stats.stormMs / 1000, 1);
const aggregatorCpuPct = cpuPct(steadyFrom, end);
const stormMachine = machineWindow(start, stormEnd ?? end);
const steadyMachine = machineWindow(steadyFrom, end);
const aggregatorRssMb = end.memory ? round(end.memory.vmRssKb / 1024, 0) : null;
const postgresCpuPct = postgres ? cpuPct(steadyFrom, end, 'postgresTicks') : null;
const stormPostgresCpuPct = postgres ? cpuPct(start, stormEnd ?? end, 'postgresTicks') : null;

// --- CPU profile (optional): stop the aggregator so it writes it, then slice storm and steady ----
let profile;
if (profDir) {
  aggregator.kill('SIGTERM');
  const killer = setTimeout(() => aggregator.kill('SIGKILL'), 20_000);
  const exit = await aggregatorExited;
  clearTimeout(killer);
  const files = readdirSync(profDir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(profDir, f))
    .filter((f) => statSync(f).mtimeMs >= Date.now() - (performance.now() - startWall) - 120_000)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (files[0]) {
    const cpu = JSON.parse(readFileSync(files[0], 'utf8'));
    if (Math.abs(cpu.startTime - aggregatorStartedMono) > 60_000_000) {
      log('note: the profile clock does not match process.hrtime; summarising the whole profile');
    }
    const summarize = (from, to) => lg.summarizeCpuProfile(cpu, { fromUs: from?.mono, toUs: to?.mono, limit: 20 });
    profile = {
      file: files[0],
      storm: summarize(start, stormEnd ?? end),
      steady: summarize(steadyFrom, end),
      whole: lg.summarizeCpuProfile(cpu, { limit: 20 }),
    };
  } else {
    log(`no .cpuprofile in ${profDir} (aggregator exit ${JSON.stringify(exit)}): does it exit cleanly on SIGTERM?`);
  }
}

await cleanup();

const result = {
  store: postgres ? `postgres ${postgres.version}` : 'sqlite',
  aggregators: aggregatorCount,
  agents,
  connected: connectedGauge ?? end.fleetStats?.connected ?? 0,
  fleetConnected: end.fleetStats?.connected ?? 0,
  stormSeconds,
  allWelcomedSeconds: stats?.allWelcomedMs == null ? null : round(stats.allWelcomedMs / 1000, 1),
  stormP50Ms: stormLatency.p50Ms ?? null,
  stormP99Ms: stormLatency.p99Ms ?? null,
  stormRttP50Ms: stormRtt.p50Ms,
  stormRttP99Ms: stormRtt.p99Ms,
  stormCpuPct: cpuPct(start, stormEnd ?? end),
  steadySeconds: round(steadySeconds, 0),
  steadyWindowFallback: steadyFallback,
  reportsPerSec: round((reports ?? steadyRtt.count) / steadySeconds, 2),
  messagesPerSec: messages === undefined ? null : round(messages / steadySeconds, 1),
  p50Ms: steadyLatency.p50Ms ?? steadyRtt.p50Ms,
  p99Ms: steadyLatency.p99Ms ?? steadyRtt.p99Ms,
  latencySource: steadyLatency.p50Ms != null ? 'aggregator histogram' : 'client rtt',
  steadyReports: steadyLatency.count ?? reports ?? null,
  rttP50Ms: steadyRtt.p50Ms,
  rttP99Ms: steadyRtt.p99Ms,
  aggregatorRssMb,
  aggregatorPeakRssMb: round(peakRssKb / 1024, 0),
  aggregatorCpuPct,
  perAggregatorRssMb: end.memory ? end.memory.perAggregatorRssKb.map((kb) => round(kb / 1024, 0)) : null,
  postgresCpuPct,
  stormPostgresCpuPct,
  storeMb: storeBytes === undefined ? null : round(storeBytes / 1048576, 1),
  dataDirMb: dataDirBytes === undefined ? null : round(dataDirBytes / 1048576, 1),
  ingestMb: ingestBytes === undefined ? null : round(ingestBytes / 1048576, 1),
  // How long the final GET /metrics took (null: no answer within 15 s): a blocked event loop shows here.
  metricsScrapeMs: end.metrics ? end.scrapeMs : null,
  fleetCpuPct: cpuPct(steadyFrom, end, 'fleetTicks'),
  stormFleetCpuPct: cpuPct(start, stormEnd ?? end, 'fleetTicks'),
  otherCpuPct: steadyMachine.otherCpuPct,
  stormOtherCpuPct: stormMachine.otherCpuPct,
  stormIowaitPct: stormMachine.iowaitPct,
  cpus: availableParallelism(),
  // Machine-wide, over the storm: accept-queue overflows mean the aggregator did not accept() in time.
  stormListenOverflows:
    (stormEnd ?? end).tcp && start.tcp ? (stormEnd ?? end).tcp.listenOverflows - start.tcp.listenOverflows : null,
  stormSynRetrans: (stormEnd ?? end).tcp && start.tcp ? (stormEnd ?? end).tcp.synRetrans - start.tcp.synRetrans : null,
  nice: nice ?? 0,
  fleetRssMb: stats?.process.rssMb ?? null,
  fleetLoopDelayP99Ms: stats?.process.loopDelayP99Ms ?? null,
  fullReports: stats?.fullReportsSent ?? 0,
  deltaReports: stats?.deltaReportsSent ?? 0,
  heartbeats: stats?.heartbeatsSent ?? 0,
  resyncs: stats?.resyncs ?? 0,
  closes: stats?.closes ?? {},
  rejected,
  errors: stats?.errors ?? {},
  intervalSeconds,
  aggregatorHeartbeatSeconds: stats?.heartbeatSeconds ?? null,
  changeRate,
  roles: (roles ?? lg.DEFAULT_ROLES).map((r) => r.name).join(','),
  rampSeconds,
  durationSeconds,
  targets: {
    storm60s: stormSeconds !== null && stormSeconds <= 60,
    cpu25pct: aggregatorCpuPct !== null && !steadyFallback && aggregatorCpuPct <= 25,
    rss1GB: aggregatorRssMb !== null && aggregatorRssMb <= 1024,
  },
};

if (profile) {
  const show = (title, s) => {
    console.log(`\n== aggregator CPU profile, ${title}: window ${s.windowMs} ms, main thread busy ${s.busyPct}%`);
    console.log('self time by area:');
    for (const e of s.selfByArea.slice(0, 12)) console.log(`  ${String(e.pct).padStart(5)}%  ${e.ms} ms  ${e.name}`);
    console.log('self time by function:');
    for (const e of s.selfByFunction.slice(0, 15))
      console.log(`  ${String(e.pct).padStart(5)}%  ${e.ms} ms  ${e.name}`);
    console.log('inclusive time by function:');
    for (const e of s.inclusiveByFunction.slice(0, 15))
      console.log(`  ${String(e.pct).padStart(5)}%  ${e.ms} ms  ${e.name}`);
  };
  show('storm', profile.storm);
  show('steady state', profile.steady);
  console.log(`\nprofile: ${profile.file}`);
}
console.log(
  `\nagents ${agents}: storm ${stormSeconds ?? 'not completed'} s, steady ${result.reportsPerSec} reports/s, ` +
    `p50 ${result.p50Ms} ms p99 ${result.p99Ms} ms (${result.latencySource}), aggregator ${aggregatorCpuPct}% CPU ` +
    `${aggregatorRssMb} MB RSS (peak ${result.aggregatorPeakRssMb} MB)`,
);
console.log(JSON.stringify(result));
process.exit(0);
