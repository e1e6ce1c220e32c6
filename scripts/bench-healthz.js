#!/usr/bin/env node
// `npm run bench:healthz [-- --environments 1000] [--baseline-seconds 10]`
//
// Issue 10, requirement 3: how long `/healthz` takes while the drift engine works on many
// environments. A real aggregator (127.0.0.1, temp data dir) is polled every 50 ms, first idle
// (the baseline, same process, same invocation), then while N simulated agents, each in its own
// environment with no promotion order, enroll (ramped at 50/s), settle, and all send a changed
// report (what froze the aggregator for 39 s before the fix). The storm's first 2 s are a phase of
// their own: the aggregator's code is still cold (not yet optimized) when its first agents arrive.
// Prints p50/p99/max per phase, the
// ratio of the loaded max to the idle max, and the 100 ms target. The fleet runs in a child
// process (packages/loadgen) so its load is visible apart; on 2 cores it competes with the
// aggregator, so measure on a quiet machine and say how quiet.
// Needs a build (`npx tsc -b`). Last stdout line: one JSON object.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const TARGET_MS = 100;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const loadgenDist = join(root, 'packages', 'loadgen', 'dist', 'index.js');
const aggregatorBin = join(root, 'aggregator', 'bin', 'envparity-aggregator.js');
const { values: args } = parseArgs({
  options: {
    environments: { type: 'string', default: '1000' },
    'baseline-seconds': { type: 'string', default: '10' },
    // Writes a V8 CPU profile of the aggregator into this dir (to find what holds the loop).
    'cpu-prof': { type: 'string' },
  },
});
const environments = Number(args.environments);
const baselineSeconds = Number(args['baseline-seconds']);
if (!existsSync(loadgenDist) || !existsSync(join(root, 'aggregator', 'dist', 'cli.js'))) {
  console.error('the build is missing: run `npx tsc -b` first');
  process.exit(2);
}
const { forkFleet } = await import(loadgenDist);
const log = (text) => process.stderr.write(`bench:healthz: ${text}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const work = mkdtempSync(join(tmpdir(), 'envparity-bench-healthz-'));
const enrollSecret = randomBytes(18).toString('base64url');
const aggregator = spawn(
  process.execPath,
  [
    ...(args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${args['cpu-prof']}`] : []),
    // Extra node flags for the aggregator only (e.g. `--require probe.cjs` for diagnostics).
    ...(process.env.ENVPARITY_BENCH_AGGREGATOR_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    aggregatorBin,
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--data',
    join(work, 'data'),
    '--log-level',
    'warn',
  ],
  {
    env: {
      ...process.env,
      ENVPARITY_ENROLL_SECRET: enrollSecret,
      ENVPARITY_ADMIN_TOKEN: randomBytes(24).toString('hex'),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const url = await new Promise((resolve, reject) => {
  let rest = '';
  aggregator.stdout.setEncoding('utf8');
  aggregator.stdout.on('data', (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      try {
        const entry = JSON.parse(line);
        if (entry.msg === 'listening') resolve(entry.url);
      } catch {}
    }
  });
  aggregator.once('exit', (code) => reject(new Error(`the aggregator exited with ${code} before listening`)));
});

/** Sequential polls every ~50 ms; each phase keeps its own latencies. */
const phases = new Map();
// The first polls open the connection and warm up both processes: not part of any phase.
let phase = 'warmup';
// Spawning the fleet blocks this process for a moment: no poll is in flight meanwhile, or it would
// time this process's own pause instead of the aggregator.
let paused = false;
let idle = Promise.resolve();
const WARMUP_POLLS = 10;
let polls = 0;
let polling = true;
const poller = (async () => {
  while (polling) {
    if (paused) {
      await sleep(5);
      continue;
    }
    let done;
    idle = new Promise((resolve) => {
      done = resolve;
    });
    const started = performance.now();
    let ok = true;
    try {
      const response = await fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(5000) });
      await response.text();
      ok = response.status === 200;
    } catch {
      ok = false;
    }
    const took = performance.now() - started;
    if (!phases.has(phase)) phases.set(phase, { latencies: [], failures: 0 });
    const entry = phases.get(phase);
    entry.latencies.push(took);
    if (!ok) entry.failures++;
    done();
    if (++polls === WARMUP_POLLS) phase = 'baseline';
    await sleep(Math.max(0, 50 - took));
  }
})();

let fleet;
try {
  log(`baseline: idle aggregator for ${baselineSeconds} s (load average ${loadavg()[0].toFixed(2)})`);
  await sleep(baselineSeconds * 1000);
  paused = true;
  await idle;
  setTimeout(() => {
    if (phase === 'storm-first-2s') phase = 'storm';
  }, 2000);
  log(`storm: ${environments} agents, one environment each, no promotion`);
  fleet = forkFleet(
    {
      url: `${url.replace(/^http/, 'ws')}/api/v1/agent`,
      agents: environments,
      enrollSecret,
      changeRatePerMinute: 0,
      intervalSeconds: 30,
      rampSeconds: environments / 50,
      maxConnecting: 10,
      model: { environmentPerHost: 'pr-' },
    },
    { statsIntervalMs: 250 },
  );
  phase = 'storm-first-2s';
  paused = false;
  const deadline = Date.now() + 120_000;
  while ((fleet.latest()?.fullAcked ?? 0) < environments) {
    if (Date.now() > deadline) throw new Error('the initial reports were not all acknowledged within 120 s');
    await sleep(250);
  }
  phase = 'settling';
  log('settling: drift passes over the new fleet (10 s)');
  await sleep(10_000);
  phase = 'changed';
  log('changed: every agent sends a changed report (12 s)');
  fleet.change(environments);
  await sleep(12_000);
} finally {
  polling = false;
  await poller;
  if (fleet) await fleet.stop(10_000).catch(() => {});
  aggregator.kill('SIGTERM');
  await new Promise((resolve) => (aggregator.exitCode === null ? aggregator.once('exit', resolve) : resolve()));
  rmSync(work, { recursive: true, force: true });
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const summary = {};
for (const [name, { latencies, failures }] of phases) {
  if (name === 'warmup') continue;
  const sorted = [...latencies].sort((a, b) => a - b);
  summary[name] = {
    polls: sorted.length,
    failures,
    p50Ms: Number(quantile(sorted, 0.5).toFixed(1)),
    p99Ms: Number(quantile(sorted, 0.99).toFixed(1)),
    maxMs: Number(sorted.at(-1).toFixed(1)),
  };
  log(
    `${name.padEnd(9)} polls ${String(sorted.length).padStart(4)}  p50 ${summary[name].p50Ms} ms  p99 ${summary[name].p99Ms} ms  max ${summary[name].maxMs} ms  failures ${failures}`,
  );
}
const loaded = ['storm-first-2s', 'storm', 'settling', 'changed'].filter((name) => summary[name]);
const loadedMax = Math.max(...loaded.map((name) => summary[name].maxMs));
const result = {
  environments,
  targetMs: TARGET_MS,
  loadedMaxMs: loadedMax,
  baselineMaxMs: summary.baseline.maxMs,
  maxRatioToBaseline: Number((loadedMax / summary.baseline.maxMs).toFixed(2)),
  withinTarget: loadedMax < TARGET_MS,
  loadAverageAtEnd: Number(loadavg()[0].toFixed(2)),
  phases: summary,
};
log(`loaded max ${loadedMax} ms (target ${TARGET_MS} ms), ${result.maxRatioToBaseline}x the idle max`);
console.log(JSON.stringify(result));
