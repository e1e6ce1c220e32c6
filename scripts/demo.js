#!/usr/bin/env node
// `npm run demo`: envparity with something to look at, like `fleetctl preview`. Builds what is
// missing, then runs on a temporary store:
// - the aggregator, promotion order dev -> staging -> production;
// - a real agent for this host, in an environment of its own ("local": it is nothing like the
//   simulated web hosts, and in dev it would be one more outlier and, in a small dev, move the
//   baseline; compare it with any environment on demand);
// - a simulated fleet of a few hundred web hosts over dev, staging and production (packages/loadgen,
//   in this process, speaking the real agent protocol) with planted differences: a security patch in
//   production that staging never got, an emergency change made after start, a scale difference, a
//   differing secret, one outlier host, a justified difference and one whose exception expires a
//   minute after start (packages/loadgen/src/demo-fleet.ts says which facts).
// Prints the dashboard sign-in URL and where to look; Ctrl-C stops everything and removes the store.
//
// Environment: PORT (default 7300; 0 = any free port), ENVPARITY_DEMO_HOSTS (simulated hosts,
// default 300, from 10 to 2000), ENVPARITY_LOG_LEVEL (default info). ENVPARITY_ADMIN_TOKEN and
// ENVPARITY_ENROLL_SECRET are used when set, else generated into the store.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildOrExit, createSupervisor, readSecret, ROOT as root, say, waitForListening } from './lib/processes.js';

const port = process.env.PORT ?? '7300';
const logLevel = process.env.ENVPARITY_LOG_LEVEL ?? 'info';
const hostsText = process.env.ENVPARITY_DEMO_HOSTS ?? '300';
const hosts = Number(hostsText);
const LOCAL_ENVIRONMENT = 'local';
const STORM_TIMEOUT_MS = 180_000;

const fail = (message) => {
  say(`envparity demo: ${message}`);
  process.exit(1);
};
if (!Number.isInteger(hosts) || hosts < 10 || hosts > 2000) {
  fail(`ENVPARITY_DEMO_HOSTS must be an integer from 10 to 2000, got ${JSON.stringify(hostsText)}`);
}

// 1. Build (incremental: a no-op when every dist/ is current); the fleet comes from packages/loadgen.
const loadgenDist = join('packages', 'loadgen', 'dist', 'index.js');
buildOrExit([join('aggregator', 'dist', 'cli.js'), join('agent', 'dist', 'cli.js'), loadgenDist]);
const lg = await import(pathToFileURL(join(root, loadgenDist)).href);
try {
  lg.demoFleetPlan({ hosts });
} catch (error) {
  fail(error.message);
}

// 2. The temporary store: the aggregator's data dir, with the logs, the configs and the agent's state.
const dataDir = mkdtempSync(join(tmpdir(), 'envparity-demo-'));
const logsDir = join(dataDir, 'logs');
mkdirSync(logsDir, { recursive: true, mode: 0o700 });
const removeStore = () => rmSync(dataDir, { recursive: true, force: true });

let fleet;
const supervisor = createSupervisor({
  logsDir,
  tailLines: 20,
  // The simulated agents say goodbye while the aggregator still listens.
  beforeKill: async () => {
    const running = fleet;
    fleet = undefined;
    await running?.stop(3000);
  },
  afterExit: removeStore,
  killOnExit: true,
});
// Last resort (a crash of this script): the children are killed (above), the store removed.
process.on('exit', removeStore);
const stop = supervisor.stop;
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
// Output piped into a pager that quit (EPIPE) is no reason to stop the demo.
process.stdout.on('error', () => {});
process.on('uncaughtException', (error) => {
  say(`envparity demo: ${error.stack ?? error.message}`);
  stop(1);
});

class Stopping extends Error {}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const checkRunning = () => {
  if (supervisor.stopping) throw new Stopping();
};

try {
  await main();
} catch (error) {
  if (!(error instanceof Stopping)) {
    say(`envparity demo: ${error.message}`);
    stop(1);
  }
}

async function main() {
  const plan0 = lg.demoFleetPlan({ hosts });
  say(`envparity demo: starting the aggregator on a temporary store (${dataDir})...`);
  const aggregatorConfig = join(dataDir, 'aggregator.json');
  writeFileSync(aggregatorConfig, `${JSON.stringify(plan0.aggregatorConfig, null, 2)}\n`);

  // 3. The aggregator: wait for its `listening` line to learn the URL.
  const aggregator = supervisor.start(
    'aggregator',
    [
      join(root, 'aggregator', 'bin', 'envparity-aggregator.js'),
      'serve',
      '--config',
      aggregatorConfig,
      '--data',
      dataDir,
      '--port',
      port,
      '--log-level',
      logLevel,
    ],
    {},
  );
  const url = await waitForListening(aggregator);
  checkRunning();
  const adminToken = readSecret(dataDir, 'admin-token', 'ENVPARITY_ADMIN_TOKEN');
  const enrollSecret = readSecret(dataDir, 'enroll-secret', 'ENVPARITY_ENROLL_SECRET');
  const api = async (method, path, body) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, json, text };
  };
  const apiOk = async (method, path, body) => {
    const answer = await api(method, path, body);
    if (answer.status < 200 || answer.status >= 300) {
      throw new Error(`${method} ${path} answered ${answer.status}: ${answer.json?.error?.message ?? answer.text}`);
    }
    return answer.json;
  };

  // The fleet key, so the simulated agents hash their secrets exactly as real agents of this fleet do.
  const { fleetKey } = await apiOk('GET', '/api/v1/fleet-key');
  const plan = lg.demoFleetPlan({ hosts, fleetKey });

  // 4. The exceptions: a justified difference, and one that expires a minute from now.
  const exceptions = [];
  for (const exception of plan.exceptions) {
    const body = {
      path: exception.path,
      environments: exception.environments,
      reason: exception.reason,
      ...(exception.impact ? { impact: exception.impact } : {}),
      ...(exception.owner ? { owner: exception.owner } : {}),
      ...(exception.expiresInSeconds
        ? { expiresAt: new Date(Date.now() + exception.expiresInSeconds * 1000).toISOString() }
        : {}),
    };
    exceptions.push({ ...exception, created: await apiOk('POST', '/api/v1/exceptions', body) });
  }
  checkRunning();

  // 5. A real agent for this host, like `npm start`'s.
  const agentConfig = join(dataDir, 'agent.yaml');
  writeFileSync(
    agentConfig,
    [
      '# Written by `npm run demo` for the local agent (see README.md).',
      `environment: ${LOCAL_ENVIRONMENT}`,
      'labels: { started-by: npm-run-demo }',
      'watch:',
      '  envVars: ["NODE_ENV", "LOG_LEVEL", "TZ", "LANG"]',
      `  projects: [${JSON.stringify(root)}]`,
      '',
    ].join('\n'),
  );
  supervisor.start(
    'agent',
    [
      join(root, 'agent', 'bin', 'envparity-agent.js'),
      'run',
      '--aggregator',
      url,
      '--config',
      agentConfig,
      '--state-dir',
      join(dataDir, 'agent'),
      '--log-level',
      logLevel,
    ],
    { ENVPARITY_ENROLL_SECRET: enrollSecret },
  );

  // 6. The simulated fleet: every host's first report, then the emergency change.
  say(`envparity demo: starting ${hosts} simulated hosts...`);
  fleet = lg.startFleet({
    url: `${url.replace(/^http/, 'ws')}/api/v1/agent`,
    agents: hosts,
    enrollSecret,
    intervalSeconds: 30,
    changeRatePerMinute: 0,
    rampSeconds: Math.min(10, hosts / 100),
    maxConnecting: 100,
    seed: plan.seed,
    model: plan.model,
  });
  const deadline = Date.now() + STORM_TIMEOUT_MS;
  while (fleet?.stats().stormMs === null) {
    checkRunning();
    if (Date.now() > deadline) {
      const stats = fleet.stats();
      throw new Error(
        `the simulated hosts did not all report within ${STORM_TIMEOUT_MS / 1000} s ` +
          `(${stats.fullAcked}/${hosts} acknowledged; closes ${JSON.stringify(stats.closes)}, errors ${JSON.stringify(stats.errors)})`,
      );
    }
    await sleep(100);
  }
  checkRunning();
  for (const change of plan.laterChanges) fleet.setFact(change.index, change.path, change.value);
  while (fleet && fleet.pendingFacts() > 0) {
    checkRunning();
    await sleep(50);
  }
  checkRunning();

  // 7. A one-time sign-in link for the dashboard (the admin token itself is never printed).
  let dashboard = `${url}/login`;
  let signInNote = `sign in with the admin token (${tokenSource(dataDir)})`;
  const code = await api('POST', '/api/v1/sign-in-codes', {});
  if (code.status === 201 && typeof code.json?.path === 'string') {
    dashboard = `${url}${code.json.path}`;
    signInNote = `one-time sign-in link${code.json.expiresAt ? `, valid until ${code.json.expiresAt}` : ''}`;
  }
  checkRunning();

  const expiring = exceptions.find((e) => e.kind === 'expiring-exception');
  const counts = Object.entries(plan.environments)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
  const lines = [
    `Dashboard: ${dashboard}`,
    `           (${signInNote})`,
    '',
    'envparity demo is running.',
    `  aggregator   ${url}  (API ${url}/api/v1, promotion ${plan.aggregatorConfig.promotion.join(' -> ')})`,
    `  local agent  this host, environment "${LOCAL_ENVIRONMENT}" (compare it: /compare?from=${LOCAL_ENVIRONMENT}&to=dev)`,
    `  fleet        ${hosts} simulated web hosts: ${counts}`,
    `  data + logs  ${dataDir}  (temporary: removed on exit; logs/aggregator.log, logs/agent.log)`,
    `  admin token  ${tokenSource(dataDir)}`,
    '',
    'Planted differences, and where to look (dashboard path; API path with the admin token):',
  ];
  plan.differences.forEach((difference, i) => {
    lines.push(`  ${i + 1}. ${difference.title}`);
    lines.push(`       ${difference.look}    ${difference.api}`);
  });
  if (expiring?.created?.expiresAt) {
    lines.push('', `The exception on ${expiring.path} expires at ${expiring.created.expiresAt}: then it is drift.`);
  }
  lines.push(
    '',
    'Try:',
    `  curl -s -H "Authorization: Bearer $(${tokenShell(dataDir)})" "${url}/api/v1/compare?from=staging&to=production"`,
    '',
    'Ctrl-C stops everything and removes the temporary store.',
    `ready ${url}`,
  );
  say(lines.join('\n'));

  if (expiring?.created?.expiresAt) {
    const at = Date.parse(expiring.created.expiresAt);
    setTimeout(
      () => {
        if (!supervisor.stopping) {
          say(`envparity demo: the exception on ${expiring.path} expired: it is drift now (see /drift)`);
        }
      },
      Math.max(0, at - Date.now()),
    ).unref();
  }
}

function tokenSource(dir) {
  return process.env.ENVPARITY_ADMIN_TOKEN ? 'from $ENVPARITY_ADMIN_TOKEN' : join(dir, 'admin-token');
}

function tokenShell(dir) {
  return process.env.ENVPARITY_ADMIN_TOKEN ? 'printenv ENVPARITY_ADMIN_TOKEN' : `cat ${join(dir, 'admin-token')}`;
}
