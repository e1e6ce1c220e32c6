#!/usr/bin/env node
// `npm start`: the quick start. Builds what is missing, runs the aggregator on an embedded SQLite
// store in ./envparity-data plus one local agent reporting to it, and prints where to look.
// Ctrl-C stops both cleanly. Logs (JSON lines) go to ./envparity-data/logs/.
//
// Environment: PORT (default 7300; 0 = any free port), ENVPARITY_DATA (default ./envparity-data),
// ENVPARITY_LOG_LEVEL (default info), ENVPARITY_ENVIRONMENT (the local agent's environment, default local).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildOrExit, createSupervisor, readSecret, ROOT as root, say, waitForListening } from './lib/processes.js';

const dataDir = resolve(process.env.ENVPARITY_DATA ?? 'envparity-data');
const port = process.env.PORT ?? '7300';
const logLevel = process.env.ENVPARITY_LOG_LEVEL ?? 'info';
const environment = process.env.ENVPARITY_ENVIRONMENT ?? 'local';
const logsDir = join(dataDir, 'logs');

// 1. Build (incremental: a no-op when dist/ is current).
buildOrExit();

mkdirSync(logsDir, { recursive: true, mode: 0o700 });

// The local agent watches this repository as a demo project and a few common env vars.
const agentConfig = join(dataDir, 'agent.yaml');
if (!existsSync(agentConfig)) {
  writeFileSync(
    agentConfig,
    [
      '# Written by `npm start` for the local demo agent; edit freely (see README.md).',
      `environment: ${environment}`,
      'labels: { started-by: npm-start }',
      'watch:',
      '  envVars: ["NODE_ENV", "LOG_LEVEL", "TZ", "LANG"]',
      `  projects: [${JSON.stringify(root)}]`,
      '',
    ].join('\n'),
  );
}

// Ctrl-C or a child exiting stops both (SIGTERM, SIGKILL after 10 s), then `envparity: stopped.`
const { start: startChild, stop } = createSupervisor({ logsDir });

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

// 2. The aggregator: wait for its `listening` line to learn the URL.
const aggregator = startChild(
  'aggregator',
  [
    join(root, 'aggregator', 'bin', 'envparity-aggregator.js'),
    'serve',
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

const adminToken = readSecret(dataDir, 'admin-token', 'ENVPARITY_ADMIN_TOKEN');

// 3. One local agent, enrolled with the aggregator's enroll secret, state under the data dir.
startChild(
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
  { ENVPARITY_ENROLL_SECRET: readSecret(dataDir, 'enroll-secret', 'ENVPARITY_ENROLL_SECRET') },
);

// 4. A one-time sign-in link for the dashboard: the browser gets a session, the link holds no token.
const signIn = await fetch(`${url}/api/v1/sign-in-codes`, {
  method: 'POST',
  headers: { authorization: `Bearer ${adminToken}` },
})
  .then((response) => (response.status === 201 ? response.json() : undefined))
  .catch(() => undefined);
const dashboard = signIn ? `${url}${signIn.path}` : `${url}/login`;
const dashboardNote = signIn
  ? `one-time sign-in link, valid until ${signIn.expiresAt}; later sign in at ${url}/login with the token below`
  : `sign in with the admin token below`;

say(`
Dashboard: ${dashboard}
           (${dashboardNote})

envparity is running.
  dashboard    ${url}/
  API          ${url}/api/v1   (OpenAPI: ${url}/api/v1/openapi.json)
  health       ${url}/healthz
  metrics      ${url}/metrics
  agent        environment "${environment}", config ${agentConfig}
  data + logs  ${dataDir}  (logs/aggregator.log, logs/agent.log)

Try:
  curl -s -H "Authorization: Bearer ${adminToken}" ${url}/api/v1/hosts
  curl -s -H "Authorization: Bearer ${adminToken}" ${url}/api/v1/environments

Ctrl-C stops both.
ready ${url}`);
