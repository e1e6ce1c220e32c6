#!/usr/bin/env node
// `npm run bench:collect`: cold `envparity-agent collect --json` (a new process each run) against
// `facter --json`, run alternately in this one invocation so both see the same machine state.
// Reports medians, the wall-time ratio (target <= 0.75), leaf-fact counts (target >= 5x facter)
// and our peak RSS (target <= 100 MB). Where facter is absent it says so and skips the ratios.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.env.BENCH_RUNS ?? 9);
const agentBin = join(root, 'agent', 'bin', 'envparity-agent.js');
const rssHook = join(root, 'scripts', 'report-max-rss.mjs');
const configArgs = process.argv.includes('--config')
  ? ['--config', process.argv[process.argv.indexOf('--config') + 1]]
  : [];

if (!existsSync(join(root, 'agent', 'dist', 'cli.js'))) {
  console.error('agent is not built: run `npm run build` first');
  process.exit(2);
}
const facter = spawnSync('sh', ['-c', 'command -v facter'], { encoding: 'utf8' }).stdout.trim();

function timed(command, args, { allowFailure = false } = {}) {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0 && !allowFailure)
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return { ms, stdout: result.stdout, stderr: result.stderr };
}

function countLeaves(value) {
  if (value === null || typeof value !== 'object') return 1;
  return Object.values(value).reduce((n, v) => n + countLeaves(v), 0);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const ours = [];
const theirs = [];
let ourFacts = 0;
let ourPaths = 0;
let ourErrors = [];
let facterLeaves = 0;
const rss = [];
for (let i = 0; i < runs; i++) {
  const run = timed(process.execPath, ['--import', rssHook, agentBin, 'collect', '--json', ...configArgs]);
  ours.push(run.ms);
  const doc = JSON.parse(run.stdout);
  // Leaves counted the same way for both tools: every scalar, array elements included.
  ourFacts = countLeaves(doc.facts);
  ourPaths = Object.keys(doc.facts).length;
  ourErrors = doc.errors;
  const match = /ENVPARITY_MAX_RSS_KB=(\d+)/.exec(run.stderr);
  if (match) rss.push(Number(match[1]) / 1024);
  if (facter) {
    // facter exits 1 when some resolvers fail (e.g. /proc/1/environ in a sandbox) but still prints its JSON.
    const f = timed(facter, ['--json'], { allowFailure: true });
    theirs.push(f.ms);
    facterLeaves = countLeaves(JSON.parse(f.stdout));
  }
}

const result = {
  runs,
  collectMedianMs: Math.round(median(ours)),
  collectLeafFacts: ourFacts,
  collectPaths: ourPaths,
  collectPeakRssMb: Math.round(Math.max(...rss) * 10) / 10,
  collectorErrors: ourErrors.length,
};
if (facter) {
  Object.assign(result, {
    facterMedianMs: Math.round(median(theirs)),
    facterLeafFacts: facterLeaves,
    wallTimeRatio: Math.round((median(ours) / median(theirs)) * 1000) / 1000,
    leafFactRatio: Math.round((ourFacts / facterLeaves) * 10) / 10,
  });
} else {
  console.log('facter is not installed (apt-get install facter): ratios skipped');
}
console.log(`targets: wallTimeRatio <= 0.75, leafFactRatio >= 5, collectPeakRssMb <= 100`);
for (const e of ourErrors) console.log(`collector error: ${e.collector}: ${e.message}`);
console.log(JSON.stringify(result));
