#!/usr/bin/env node
// `npm run bench:collect [-- --config FILE] [--baseline-bundle FILE]`: cold `envparity-agent
// collect --json` (a new process each run) against `facter --json`, run alternately in this one invocation so all see the same
// machine state. Side by side: the workspace bin (node + dist/ + node_modules), the one-file
// bundle (agent/dist/envparity-agent.mjs, `npm run build`) and the single executable
// (agent/dist/pkg/envparity-agent, `npm run package:agent`), each when built. Reports medians,
// wall-time ratios to facter (targets: workspace <= 0.75, bundle and binary <= 0.6), leaf-fact
// counts (target >= 5x facter), peak RSS (target <= 100 MB) and the median of a bare `--version`
// (target <= 80 ms). Where facter is absent it says so and skips the ratios. `--baseline-bundle`
// adds another build's one-file bundle as a `baseline-bundle` variant, for before/after.
//
// NODE_EXTRA_CA_CERTS is removed from the agents' environment (BENCH_KEEP_EXTRA_CA=1 keeps it):
// Node then loads that whole CA file at every start (+70 ms on the VM of docs/BENCHMARKS.md), a
// cost of the machine's setup, not of the agent, that facter does not pay.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.env.BENCH_RUNS ?? 9);
const TARGETS = { workspace: 0.75, bundle: 0.6, binary: 0.6 };
const VERSION_TARGET_MS = 80;

if (!existsSync(join(root, 'agent', 'dist', 'cli.js'))) {
  console.error('agent is not built: run `npm run build` first');
  process.exit(2);
}
const facter = spawnSync('sh', ['-c', 'command -v facter'], { encoding: 'utf8' }).stdout.trim();

// Peak RSS of each agent run, printed on exit by a --require hook (the single executable honors
// NODE_OPTIONS --require, not --import): the same hook for every variant.
const work = mkdtempSync(join(tmpdir(), 'envparity-bench-collect-'));
const rssHook = join(work, 'report-max-rss.cjs');
writeFileSync(
  rssHook,
  "process.on('exit', () => process.stderr.write('\\nENVPARITY_MAX_RSS_KB=' + process.resourceUsage().maxRSS + '\\n'));\n",
);
const agentEnv = { ...process.env };
if (process.env.BENCH_KEEP_EXTRA_CA !== '1') delete agentEnv.NODE_EXTRA_CA_CERTS;
const measuredEnv = { ...agentEnv, NODE_OPTIONS: `${agentEnv.NODE_OPTIONS ?? ''} --require ${rssHook}`.trim() };

const argAfter = (flag) => (process.argv.includes(flag) ? process.argv[process.argv.indexOf(flag) + 1] : undefined);
const baselineBundle = argAfter('--baseline-bundle');
const configFile = argAfter('--config');
const configArgs = configFile ? ['--config', configFile] : [];
const CANDIDATES = [
  { name: 'workspace', file: join(root, 'agent', 'bin', 'envparity-agent.js'), node: true },
  { name: 'bundle', file: join(root, 'agent', 'dist', 'envparity-agent.mjs'), node: true },
  { name: 'binary', file: join(root, 'agent', 'dist', 'pkg', 'envparity-agent'), node: false },
  ...(baselineBundle ? [{ name: 'baseline-bundle', file: baselineBundle, node: true }] : []),
];
const variants = CANDIDATES.filter((variant) => {
  if (existsSync(variant.file)) return true;
  console.log(`${variant.name}: ${variant.file} is not built: skipped`);
  return false;
});
const commandOf = (variant, args) =>
  variant.node ? [process.execPath, [variant.file, ...args]] : [variant.file, args];

function timed(command, args, { allowFailure = false, env = process.env } = {}) {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env });
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
const round = (x, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits;

const samples = Object.fromEntries(variants.map((v) => [v.name, { collect: [], version: [], rssMb: [] }]));
const last = {};
const facterMs = [];
let facterLeaves = 0;
console.log(
  `load average before: ${loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')}`,
);
try {
  for (let i = 0; i < runs; i++) {
    for (const variant of variants) {
      const [command, args] = commandOf(variant, ['collect', '--json', ...configArgs]);
      const run = timed(command, args, { env: measuredEnv });
      const doc = JSON.parse(run.stdout);
      samples[variant.name].collect.push(run.ms);
      // Leaves counted the same way for both tools: every scalar, array elements included.
      last[variant.name] = { leaves: countLeaves(doc.facts), paths: Object.keys(doc.facts).length, errors: doc.errors };
      const match = /ENVPARITY_MAX_RSS_KB=(\d+)/.exec(run.stderr);
      if (match) samples[variant.name].rssMb.push(Number(match[1]) / 1024);
      const [versionCommand, versionArgs] = commandOf(variant, ['--version']);
      samples[variant.name].version.push(timed(versionCommand, versionArgs, { env: agentEnv }).ms);
    }
    if (facter) {
      // facter exits 1 when some resolvers fail (e.g. /proc/1/environ in a sandbox) but still prints its JSON.
      const f = timed(facter, ['--json'], { allowFailure: true });
      facterMs.push(f.ms);
      facterLeaves = countLeaves(JSON.parse(f.stdout));
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(
  `load average after: ${loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')}`,
);

const result = { runs, extraCaCerts: Boolean(agentEnv.NODE_EXTRA_CA_CERTS) };
if (facter) Object.assign(result, { facterMedianMs: round(median(facterMs)), facterLeafFacts: facterLeaves });
for (const variant of variants) {
  const s = samples[variant.name];
  const entry = {
    collectMedianMs: round(median(s.collect)),
    versionMedianMs: round(median(s.version)),
    collectLeafFacts: last[variant.name].leaves,
    collectPaths: last[variant.name].paths,
    collectPeakRssMb: s.rssMb.length ? round(Math.max(...s.rssMb), 1) : null,
    collectorErrors: last[variant.name].errors.length,
  };
  if (facter) {
    entry.wallTimeRatio = round(median(s.collect) / median(facterMs), 3);
    entry.leafFactRatio = round(last[variant.name].leaves / facterLeaves, 1);
  }
  result[variant.name] = entry;
}
if (!facter) console.log('facter is not installed (apt-get install facter): ratios skipped');
const ratioTargets = variants
  .filter((v) => TARGETS[v.name])
  .map((v) => `${v.name} <= ${TARGETS[v.name]}`)
  .join(', ');
console.log(
  `targets: wallTimeRatio ${ratioTargets}; leafFactRatio >= 5; collectPeakRssMb <= 100; versionMedianMs <= ${VERSION_TARGET_MS}`,
);
for (const variant of variants) {
  for (const e of last[variant.name].errors)
    console.log(`${variant.name}: collector error: ${e.collector}: ${e.message}`);
}
console.log(JSON.stringify(result));
