#!/usr/bin/env node
// `npm run bench [-- --hosts 10000 --verify-hosts 1000 --queries 40]`
//
// Query speed of the drift engine and end-to-end `verify`, each against a baseline measured in the
// same invocation on the same aggregator:
// 1. compare and outliers over --hosts simulated hosts (packages/loadgen, the real protocol): after
//    every host's full report is acknowledged, each route is requested --queries times in a row;
//    p50/p99 are reported with their ratio to GET /healthz (the HTTP floor) measured the same way.
//    The first answer after the fleet settles is reported separately (cold: baselines computed).
// 2. `envparity-agent verify --against production` (collect + fetch baseline + compare), a new
//    process each run, against an aggregator holding --verify-hosts hosts, alternated with a cold
//    `envparity-agent collect --json`; the ratio shows what verify adds on top of a collection.
//    Timed for each form of the agent that is built (workspace bin, bundle, single executable),
//    alternating run by run; `verify.forms` has each form's medians.
//    The dashboard's pages (overview, an environment, a compare, a host, a hosts list) are measured
//    the same way.
// 3. Audits, promotion and time travel (issue 13) on the same fleet: the live audit of the three
//    environments, promotion tracking of every adjacent pair, and a compare at an instant T taken
//    after the fleet settled, once --history-changes host changes (default one per host: a day in
//    which every host changed once) have been made after T, so the answer undoes all of them.
// Targets (issues 5, 6, 12 and 13): compare/outliers p50 <= 100 ms and each dashboard page <= 150 ms
// p50 at 10,000 hosts; audit <= 500 ms, promotion <= 200 ms, compare at T <= 300 ms; verify <= 1.0 s wall (issue 14; it was 1.5 s).
// Only 127.0.0.1 is contacted; everything started here is stopped here. Last stdout line: JSON.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    hosts: { type: 'string', default: '10000' },
    'verify-hosts': { type: 'string', default: '1000' },
    queries: { type: 'string', default: '40' },
    'verify-runs': { type: 'string', default: '5' },
    'history-changes': { type: 'string', default: '' },
    // Node flags for the aggregator process, e.g. --aggregator-node-args="--cpu-prof --cpu-prof-dir=/tmp/prof".
    'aggregator-node-args': { type: 'string', default: '' },
    skip: { type: 'string', default: '' },
  },
});
const hosts = Number(args.hosts);
const verifyHosts = Number(args['verify-hosts']);
const queries = Number(args.queries);
const verifyRuns = Number(args['verify-runs']);
const skip = new Set(args.skip.split(',').filter(Boolean));
const historyChanges = args['history-changes'] === '' ? hosts : Number(args['history-changes']);

for (const built of ['packages/loadgen/dist/index.js', 'aggregator/dist/cli.js', 'agent/dist/cli.js']) {
  if (!existsSync(join(root, built))) {
    console.error(`${built} is missing: run \`npm run build\` first`);
    process.exit(2);
  }
}
const { forkFleet } = await import(join(root, 'packages/loadgen/dist/index.js'));

const log = (line) => process.stderr.write(`${line}\n`);
// The fleet child raises its soft open-file limit; it can never go above the hard limit.
const hardNofileText = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim();
const hardNofile = hardNofileText === 'unlimited' ? 1_048_576 : Number(hardNofileText) || 4096;
const cleanups = [];
process.on('SIGINT', async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  process.exit(130);
});

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

async function startAggregator() {
  const dataDir = mkdtempSync(join(tmpdir(), 'envparity-bench-'));
  // The simulated fleet's environments in promotion order (promotion tracking needs one).
  const configFile = join(dataDir, 'aggregator.yaml');
  writeFileSync(configFile, 'promotion: [dev, staging, production]\n');
  const adminToken = randomBytes(18).toString('base64url');
  const enrollSecret = randomBytes(18).toString('base64url');
  const child = spawn(
    process.execPath,
    [
      ...args['aggregator-node-args'].split(' ').filter(Boolean),
      join(root, 'aggregator/bin/envparity-aggregator.js'),
      'serve',
      '--port',
      '0',
      '--data',
      dataDir,
      '--log-level',
      'warn',
      '--config',
      configFile,
    ],
    {
      env: { ...process.env, ENVPARITY_ADMIN_TOKEN: adminToken, ENVPARITY_ENROLL_SECRET: enrollSecret },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      for (const line of buffered.split('\n')) {
        try {
          const entry = JSON.parse(line);
          if (entry.msg === 'listening') resolve(entry.url);
        } catch {}
      }
    });
    child.once('exit', (code) => reject(new Error(`aggregator exited ${code}`)));
  });
  child.stdout.resume();
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  cleanups.push(stop);
  return { url, adminToken, enrollSecret, stop, dataDir };
}

async function fillFleet(aggregator, count) {
  const fleet = forkFleet(
    {
      url: `${aggregator.url.replace(/^http/, 'ws')}/api/v1/agent`,
      agents: count,
      enrollSecret: aggregator.enrollSecret,
      intervalSeconds: 60,
      changeRatePerMinute: 0.01,
      seed: 7,
    },
    { nofile: Math.min(hardNofile, Math.max(4096, count * 2 + 1024)) },
  );
  cleanups.push(() => fleet.stop());
  const started = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    const stats = fleet.latest();
    if (stats && stats.fullAcked >= count) break;
    if (Date.now() - started > 600_000)
      throw new Error(`fleet of ${count} not acknowledged after 10 min: ${JSON.stringify(stats?.fullAcked)}`);
  }
  log(`  ${count} hosts reported in ${round((Date.now() - started) / 1000)} s`);
  return fleet;
}

async function timeRequest(url, token) {
  const started = performance.now();
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return performance.now() - started;
}

/** Changes stored since `since` in the simulated fleet's three environments (the change feed, paged). */
async function countChanges(aggregator, since) {
  let total = 0;
  for (const environment of ['dev', 'staging', 'production']) {
    let before;
    for (;;) {
      const query = new URLSearchParams({ environment, since, limit: '1000', ...(before ? { before } : {}) });
      const response = await fetch(`${aggregator.url}/api/v1/changes?${query}`, {
        headers: { authorization: `Bearer ${aggregator.adminToken}` },
      });
      if (!response.ok) throw new Error(`/api/v1/changes: ${response.status} ${await response.text()}`);
      const body = await response.json();
      total += body.changes.length;
      if (!body.next) break;
      before = body.next;
    }
  }
  return total;
}

async function measureRoutes(aggregator, routes) {
  const result = {};
  for (const [name, path] of Object.entries(routes)) {
    const cold = await timeRequest(`${aggregator.url}${path}`, aggregator.adminToken);
    const samples = [];
    for (let i = 0; i < queries; i++)
      samples.push(await timeRequest(`${aggregator.url}${path}`, aggregator.adminToken));
    result[name] = {
      coldMs: round(cold),
      p50Ms: round(percentile(samples, 50)),
      p99Ms: round(percentile(samples, 99)),
    };
  }
  return result;
}

const output = { hosts, verifyHosts, queries };

if (!skip.has('queries')) {
  log(`queries: ${hosts} simulated hosts`);
  const aggregator = await startAggregator();
  const fleet = await fillFleet(aggregator, hosts);
  const routes = await measureRoutes(aggregator, {
    healthz: '/healthz',
    compareStagingProduction: '/api/v1/compare?from=staging&to=production',
    compareDevStaging: '/api/v1/compare?from=dev&to=staging',
    outliersProduction: '/api/v1/environments/production/outliers',
    baselineProduction: '/api/v1/environments/production/baseline',
    environments: '/api/v1/environments',
  });
  // The dashboard's pages (issue 12: each <= 150 ms p50 at 10,000 hosts), with a bearer token as a script would.
  const productionHosts = await fetch(`${aggregator.url}/api/v1/hosts?environment=production`, {
    headers: { authorization: `Bearer ${aggregator.adminToken}` },
  }).then((response) => response.json());
  const hostId = productionHosts.hosts[0]?.id;
  Object.assign(
    routes,
    await measureRoutes(aggregator, {
      pageOverview: '/',
      pageEnvironmentProduction: '/environments/production',
      pageCompareStagingProduction: '/compare?from=staging&to=production',
      pageHost: `/hosts/${encodeURIComponent(hostId)}`,
      pageHostsProduction: '/hosts?env=production',
    }),
  );
  // Issue 13: audits and promotion now; then T, then a day of changes after it, then compare at T.
  Object.assign(
    routes,
    await measureRoutes(aggregator, {
      auditAllEnvironments: '/api/v1/audit',
      promotionAdjacentPairs: '/api/v1/promotion',
    }),
  );
  const instant = new Date(Date.now() - 1000).toISOString();
  await new Promise((r) => setTimeout(r, 1500));
  const changedBefore = await countChanges(aggregator, instant);
  for (let made = 0; made < historyChanges; made += 1000) fleet.change(Math.min(1000, historyChanges - made));
  // Wait until the changes are stored (counted through the change feed of each environment).
  const waitStarted = Date.now();
  let changedAfter = changedBefore;
  while (changedAfter - changedBefore < historyChanges * 0.95 && Date.now() - waitStarted < 300_000) {
    await new Promise((r) => setTimeout(r, 2000));
    changedAfter = await countChanges(aggregator, instant);
  }
  log(`  ${changedAfter} changes stored after T (${instant})`);
  output.history = { instant, changesAfterInstant: changedAfter };
  Object.assign(
    routes,
    await measureRoutes(aggregator, {
      compareStagingProductionAtInstant: `/api/v1/compare?from=staging&to=production&at=${encodeURIComponent(instant)}`,
      baselineProductionAtInstant: `/api/v1/environments/production/baseline?at=${encodeURIComponent(instant)}`,
      compareStagingProductionLive: '/api/v1/compare?from=staging&to=production',
    }),
  );
  const floor = routes.healthz.p50Ms || 0.1;
  for (const [name, r] of Object.entries(routes)) if (name !== 'healthz') r.ratioToHealthz = round(r.p50Ms / floor);
  output.routes = routes;
  await fleet.stop();
  await aggregator.stop();
}

// The agent's three forms (issue "Install the agent anywhere"): the workspace bin over dist/, the
// one-file bundle and the single executable; a form not built is left out of the verify phase.
const AGENT_FORMS = {
  workspace: [process.execPath, join(root, 'agent/bin/envparity-agent.js')],
  bundle: [process.execPath, join(root, 'agent/dist/envparity-agent.mjs')],
  binary: [join(root, 'agent/dist/pkg/envparity-agent')],
};

function runCli(cliArgs, env, form = 'workspace') {
  const [command, ...prefix] = AGENT_FORMS[form];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, [...prefix, ...cliArgs], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, ms: performance.now() - started, stderr }));
  });
}

if (!skip.has('verify')) {
  log(`verify: aggregator with ${verifyHosts} simulated hosts`);
  const aggregator = await startAggregator();
  const fleet = await fillFleet(aggregator, verifyHosts);
  const stateDir = mkdtempSync(join(tmpdir(), 'envparity-bench-agent-'));
  cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
  const env = {
    ...process.env,
    ENVPARITY_TOKEN: aggregator.adminToken,
    ENVPARITY_ENROLL_SECRET: aggregator.enrollSecret,
    ENVPARITY_STATE_DIR: stateDir,
  };
  const forms = Object.keys(AGENT_FORMS).filter((form) => {
    if (existsSync(AGENT_FORMS[form].at(-1))) return true;
    log(`  ${form}: ${AGENT_FORMS[form].at(-1)} is missing (npm run build / npm run package:agent): skipped`);
    return false;
  });
  const verifyArgs = ['verify', '--against', 'production', '--aggregator', aggregator.url, '--format', 'json'];
  // One warm-up run per form (it fetches the fleet key with the token; verify never enrolls) warms the caches.
  for (const form of forms) {
    const warm = await runCli(verifyArgs, env, form);
    if (warm.code === 2) throw new Error(`verify (${form}) failed: ${warm.stderr}`);
  }
  const times = Object.fromEntries(forms.map((form) => [form, { verifyMs: [], collectMs: [] }]));
  // The forms alternate run by run, so a burst of load elsewhere on the machine hits them alike.
  for (let i = 0; i < verifyRuns; i++) {
    for (const form of forms) {
      const verify = await runCli(verifyArgs, env, form);
      if (verify.code === 2) throw new Error(`verify (${form}) failed: ${verify.stderr}`);
      times[form].verifyMs.push(verify.ms);
      times[form].collectMs.push((await runCli(['collect', '--json'], env, form)).ms);
    }
  }
  const summary = ({ verifyMs, collectMs }) => ({
    p50Ms: Math.round(percentile(verifyMs, 50)),
    maxMs: Math.round(Math.max(...verifyMs)),
    collectP50Ms: Math.round(percentile(collectMs, 50)),
    ratioToCollect: round(percentile(verifyMs, 50) / percentile(collectMs, 50), 2),
  });
  // The top-level keys stay the workspace bin's (as before); `forms` has every form side by side.
  output.verify = {
    ...summary(times.workspace),
    forms: Object.fromEntries(forms.map((form) => [form, summary(times[form])])),
  };
  await fleet.stop();
  await aggregator.stop();
}

log(
  'targets at 10,000 hosts: compare/outliers p50 <= 100 ms, pages <= 150 ms, audit <= 500 ms, promotion <= 200 ms, ' +
    'compare at T <= 300 ms; verify p50 <= 1000 ms at 1,000 hosts',
);
console.log(JSON.stringify(output));
