#!/usr/bin/env node
// `npm run bench:agent-rss -- [--minutes 4] [--interval 60] [--variants workspace,bundle,binary,bundle-jit]`
//
// Issue "Install the agent anywhere", requirement 7: the agent daemon's steady RSS at a 60 s
// interval (target <= 64 MB). A real aggregator (127.0.0.1, temp data dir) and one real
// `envparity-agent run` per variant (the workspace bin, the one-file bundle, the single executable
// when `npm run package:agent` built it, and as the baseline the bundle with V8's optimizing tiers
// on, `bundle-jit`), side by side, each enrolled as its own host. Each agent's VmRSS and CPU time
// are read from /proc every second; CPU is reported per minute of the steady window. Steady = the
// median after the first minute (from the first periodic pass on: enrollment, the first full
// report and code warm-up are over); also the window's maximum and the process's peak (VmHWM).
// RSS counts the pages of the Node binary the process touched (file-backed, ~40 MB, shared between
// node processes but not with the single executable, a file of its own). Last stdout line: one
// JSON object.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT as root, waitForListening } from './lib/processes.js';

const TARGET_MB = 64;
const SECRET = 'bench-rss-enroll-secret';
const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '4' },
    interval: { type: 'string', default: '60' },
    variants: { type: 'string', default: 'workspace,bundle,binary,bundle-jit' },
    // KEY=VALUE added to the agents' environment (repeatable), e.g. NODE_OPTIONS=--max-semi-space-size=1.
    'agent-env': { type: 'string', multiple: true, default: [] },
  },
});
const agentEnv = { ...process.env, ENVPARITY_ENROLL_SECRET: SECRET };
// As in bench-collect.js: Node would load this whole CA file into every agent (a setting of the
// machine, not of the agent); BENCH_KEEP_EXTRA_CA=1 keeps it.
if (process.env.BENCH_KEEP_EXTRA_CA !== '1') delete agentEnv.NODE_EXTRA_CA_CERTS;
for (const pair of args['agent-env']) {
  const at = pair.indexOf('=');
  agentEnv[pair.slice(0, at)] = pair.slice(at + 1);
}
const minutes = Number(args.minutes);
const warmupSeconds = 60;

const BUNDLE = join(root, 'agent', 'dist', 'envparity-agent.mjs');
const VARIANTS = {
  workspace: { file: join(root, 'agent', 'bin', 'envparity-agent.js'), command: (file) => [process.execPath, file] },
  bundle: { file: BUNDLE, command: (file) => [process.execPath, file] },
  binary: { file: join(root, 'agent', 'dist', 'pkg', 'envparity-agent'), command: (file) => [file] },
  // The baseline: the bundle with V8's optimizing tiers as Node ships them (an explicit tier flag
  // makes the daemon keep them, daemon-v8-flags.ts), to see what turning them off saves and costs.
  'bundle-jit': { file: BUNDLE, command: (file) => [process.execPath, '--turbofan', '--sparkplug', file] },
};
const variants = args.variants.split(',').filter((name) => {
  if (!VARIANTS[name]) throw new Error(`unknown variant ${name}`);
  if (existsSync(VARIANTS[name].file)) return true;
  console.log(`${name}: ${VARIANTS[name].file} is missing (npm run build / npm run package:agent): skipped`);
  return false;
});

/** User + system CPU of a process so far, in ms (/proc/PID/stat fields 14 and 15, in clock ticks of 10 ms). */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function statusKb(pid, field) {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : undefined;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mb = (kb) => Math.round((kb / 1024) * 10) / 10;

const work = mkdtempSync(join(tmpdir(), 'envparity-bench-rss-'));
const children = [];
const stopAll = () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
};
process.on('SIGINT', () => {
  stopAll();
  process.exit(130);
});

try {
  console.log(
    `load average before: ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}`,
  );
  const aggregator = spawn(
    process.execPath,
    [
      join(root, 'aggregator', 'bin', 'envparity-aggregator.js'),
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--data',
      join(work, 'aggregator'),
    ],
    {
      env: { ...process.env, ENVPARITY_ENROLL_SECRET: SECRET, ENVPARITY_ADMIN_TOKEN: 'bench-rss-admin' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(aggregator);
  const url = await waitForListening(aggregator);

  // A file the packager just wrote sits in the page cache in large folios, and mapping one maps all
  // of it: the freshly built single executable showed ~14 MB more of its own file resident than
  // the same binary does once its pages come from disk (49 vs 35 MB). Dropping each executable's
  // cached pages first (clean, unmapped pages only: nothing running loses any) measures every
  // variant as it runs after an install or a reboot.
  for (const name of variants) {
    const [command] = VARIANTS[name].command(VARIANTS[name].file);
    spawnSync('dd', [`if=${command}`, 'iflag=nocache', 'count=0', 'status=none']);
  }
  const agents = variants.map((name) => {
    const [command, ...prefix] = VARIANTS[name].command(VARIANTS[name].file);
    const child = spawn(
      command,
      [
        ...prefix,
        'run',
        '--aggregator',
        url,
        '--environment',
        'bench',
        '--host-id',
        `rss-${name}`,
        '--state-dir',
        join(work, name),
        '--interval',
        args.interval,
        '--log-level',
        'warn',
      ],
      { env: agentEnv, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    children.push(child);
    return { name, child, samples: [] };
  });

  const started = Date.now();
  while (Date.now() - started < minutes * 60_000) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const at = (Date.now() - started) / 1000;
    for (const agent of agents) {
      if (agent.child.exitCode !== null) throw new Error(`${agent.name} agent exited ${agent.child.exitCode}`);
      agent.samples.push({ at, rssKb: statusKb(agent.child.pid, 'VmRSS'), cpuMs: cpuMs(agent.child.pid) });
    }
  }
  const result = {
    minutes,
    intervalSeconds: Number(args.interval),
    agentEnv: args['agent-env'],
    extraCaCerts: Boolean(agentEnv.NODE_EXTRA_CA_CERTS),
    targetMb: TARGET_MB,
    agents: {},
  };
  for (const agent of agents) {
    const window = agent.samples.filter((sample) => sample.at >= warmupSeconds);
    const steady = window.map((sample) => sample.rssKb);
    const windowMinutes = (window.at(-1).at - window[0].at) / 60;
    result.agents[agent.name] = {
      steadyRssMb: mb(median(steady)),
      // CPU the passes cost once started (every periodic pass, heartbeats, GC).
      steadyCpuMsPerMinute: Math.round((window.at(-1).cpuMs - window[0].cpuMs) / windowMinutes),
      totalCpuMs: window.at(-1).cpuMs,
      steadyMaxRssMb: mb(Math.max(...steady)),
      peakRssMb: mb(statusKb(agent.child.pid, 'VmHWM')),
    };
  }
  console.log(
    `load average after: ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}`,
  );
  console.log(`target: steadyRssMb <= ${TARGET_MB}`);
  console.log(JSON.stringify(result));
} finally {
  stopAll();
  await new Promise((resolve) => setTimeout(resolve, 500));
  rmSync(work, { recursive: true, force: true });
}
