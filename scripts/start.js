#!/usr/bin/env node
// `npm start`: the quick start. Builds what is missing, runs the aggregator on an embedded SQLite
// store in ./envparity-data plus one local agent reporting to it, and prints where to look.
// Ctrl-C stops both cleanly. Logs (JSON lines) go to ./envparity-data/logs/.
//
// Environment: PORT (default 7300; 0 = any free port), ENVPARITY_DATA (default ./envparity-data),
// ENVPARITY_LOG_LEVEL (default info), ENVPARITY_ENVIRONMENT (the local agent's environment, default local).
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = resolve(process.env.ENVPARITY_DATA ?? 'envparity-data');
const port = process.env.PORT ?? '7300';
const logLevel = process.env.ENVPARITY_LOG_LEVEL ?? 'info';
const environment = process.env.ENVPARITY_ENVIRONMENT ?? 'local';
const logsDir = join(dataDir, 'logs');

function say(line) {
  process.stdout.write(`${line}\n`);
}

// 1. Build (incremental: a no-op when dist/ is current).
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (existsSync(tsc)) {
  const build = spawnSync(process.execPath, [tsc, '-b'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) {
    say('envparity: the build failed (see above)');
    process.exit(1);
  }
} else if (!existsSync(join(root, 'aggregator', 'dist', 'cli.js'))) {
  say('envparity: not built and TypeScript is not installed: run `npm ci` first');
  process.exit(1);
}

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

const children = new Set();
let stopping = false;

function startChild(name, args, env) {
  const log = createWriteStream(join(logsDir, `${name}.log`), { flags: 'a' });
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  child.on('exit', (code, signal) => {
    children.delete(child);
    if (!stopping) {
      say(`envparity: ${name} exited unexpectedly (${signal ?? `code ${code}`}); see ${join(logsDir, `${name}.log`)}`);
      stop(1);
    } else if (children.size === 0) {
      say('envparity: stopped.');
      process.exit(process.exitCode ?? 0);
    }
  });
  return child;
}

function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  process.exitCode = code;
  if (children.size === 0) process.exit(code);
  // Agent first, so its last report reaches a live aggregator... then the aggregator.
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => {
    for (const child of children) child.kill('SIGKILL');
  }, 10_000).unref();
}

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
const url = await new Promise((resolveUrl) => {
  let buffered = '';
  aggregator.stdout.on('data', (chunk) => {
    buffered += chunk.toString('utf8');
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      try {
        const entry = JSON.parse(line);
        if (entry.msg === 'listening' && entry.url) resolveUrl(entry.url);
      } catch {
        // not a JSON line
      }
      newline = buffered.indexOf('\n');
    }
  });
});

const readSecret = (name, envName) => process.env[envName] || readFileSync(join(dataDir, name), 'utf8').trim();
const adminToken = readSecret('admin-token', 'ENVPARITY_ADMIN_TOKEN');

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
  { ENVPARITY_ENROLL_SECRET: readSecret('enroll-secret', 'ENVPARITY_ENROLL_SECRET') },
);

say(`
envparity is running.
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
