#!/usr/bin/env node
import { createFleetModel } from '@envparity/loadgen';
/**
 * In-process timing of time travel (`HistoryQueries.baselineAt`, `compareAt`) on a :memory: store:
 * HOSTS hosts (default 3,300) in `production` and a few in `staging`, facts from the loadgen's
 * fleet model (~700 dpkg packages), T taken, then one random package changed on every host (each
 * host ends with its own library blob). Needs `npx tsc -b` first (reads the built dist/).
 *   [MIXED=1] [PROFILE=file.cpuprofile] node scripts/bench-baseline-at.mjs [hosts] [runs]
 */
import { categoryOf, fingerprintMap, groupByCategory } from '@envparity/shared';
import { createAggregator } from '../aggregator/dist/aggregator.js';
import { hashToken } from '../aggregator/dist/token-hash.js';

const keepAlive = setInterval(() => {}, 1000);
const HOSTS = Number(process.argv[2] ?? 3300);
const RUNS = Number(process.argv[3] ?? 7);
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const clock = { now: T0 };
const online = new Set();
const presence = { isOnline: (id) => online.has(id), onPresenceChange: () => () => {} };
const aggregator = createAggregator({
  adminToken: 'x',
  flushIntervalMs: 1,
  presence,
  now: () => clock.now,
  promotion: ['dev', 'staging', 'production'],
});
const { store, history } = aggregator;
// MIXED=1: the loadgen's own environment mix (production 6 : staging 3 : dev 1), as `npm run bench` has it.
const mixed = process.env.MIXED === '1';
const model = createFleetModel(mixed ? {} : { environments: [{ name: 'production', weight: 1 }] });

function fullReport(seq, at, facts) {
  const full = {};
  const fingerprints = {};
  for (const [category, map] of groupByCategory(facts, categoryOf)) {
    full[category] = map;
    fingerprints[category] = fingerprintMap(map);
  }
  return { type: 'report', seq, observedAt: at, full, fingerprints };
}

const sims = [];
for (let i = 0; i < HOSTS + 30; i++) {
  const sim = model.host(i);
  const environment = mixed ? sim.environment : i < HOSTS ? 'production' : 'staging';
  sims.push({ sim, environment, seq: 1 });
  await store.enrollHost({
    hostId: sim.hostId,
    tokenHash: hashToken(sim.hostId),
    environment,
    labels: sim.labels,
    agentVersion: '0.1.0',
    at: T0,
  });
  await store.ingestReport({ hostId: sim.hostId, report: fullReport(1, T0, model.facts(sim)), receivedAt: T0 });
  online.add(sim.hostId);
}
const T = T0 + 60_000;
let seed = 42;
const random = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
let at = T + 1000;
for (const host of sims) {
  const library = model.categories(host.sim).library;
  const paths = Object.keys(library).filter((p) => p.startsWith('library.dpkg'));
  const path = paths[Math.floor(random() * paths.length)];
  host.seq++;
  await store.ingestReport({
    hostId: host.sim.hostId,
    report: {
      type: 'report',
      seq: host.seq,
      observedAt: at,
      delta: { library: { set: { [path]: `${library[path]}+1` }, unset: [] } },
    },
    receivedAt: at,
  });
  at += 1;
}
clock.now = at + 60_000;
// RETIRE=1: one host retired after T (it counts at T, not in the live baseline: no shortcut from it).
if (process.env.RETIRE === '1') await store.retireHost(sims[0].sim.hostId, at + 1000, 'bench');
await new Promise((resolve) => setTimeout(resolve, 50));
const live = aggregator.queries.environment('production');
{
  const { facts, support, ties, hosts } = live.baseline;
  const weak = Object.keys(facts).filter((path) => 2 * support[path] <= hosts).length;
  console.log(`live baseline: ${weak} paths without a strict majority, ${ties.length} ties`);
}
console.log(
  `hosts ${HOSTS}, live baseline ${live.baseline.hosts} hosts, ${Object.keys(live.baseline.facts).length} paths`,
);

// LIVE=1: what one host's change costs the live state of its environment (recomputed on the next read).
if (process.env.LIVE === '1') {
  const host = sims.find((candidate) => candidate.environment === 'production');
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    host.seq++;
    await store.ingestReport({
      hostId: host.sim.hostId,
      report: {
        type: 'report',
        seq: host.seq,
        observedAt: at + i,
        delta: { config: { set: { 'config.env.BENCH': `${i}` }, unset: [] } },
      },
      receivedAt: at + i,
    });
    await store.flush();
    const start = performance.now();
    aggregator.queries.environment('production');
    times.push(performance.now() - start);
  }
  console.log(`live production state after one host's change: ${times.map((t) => t.toFixed(1)).join(', ')} ms`);
}
// ROUTES=a,b: time these HTTP routes in process (after the changes; the admin token is `x`);
// ROUTES_ONLY=1 stops after them.
if (process.env.ROUTES) {
  for (const route of process.env.ROUTES.split(',')) {
    await time(`GET ${route}`, async () => {
      const response = await aggregator.app.request(route, { headers: { authorization: 'Bearer x' } });
      if (response.status !== 200) throw new Error(`${route}: ${response.status}`);
      await response.text();
    });
  }
  if (process.env.ROUTES_ONLY === '1') {
    await aggregator.stop();
    process.exit(0);
  }
}
// PHASES=1: time the store reads baselineAt makes.
if (process.env.PHASES === '1') {
  for (const name of ['listEnvironmentChanges', 'historyStarts', 'listHosts', 'listRetiredHosts']) {
    const original = store[name].bind(store);
    store[name] = (...args) => {
      const start = performance.now();
      const out = original(...args);
      const done = () => console.log(`  ${name}: ${(performance.now() - start).toFixed(1)} ms`);
      if (out && typeof out.then === 'function') out.then(done);
      else done();
      return out;
    };
  }
}
if (process.env.PHASES === '1') {
  const { pastBaseline } = await import('../aggregator/dist/queries/baseline-at.js');
  await history.baselineAt('production', T);
  for (let i = 0; i < 5; i++) {
    let start = performance.now();
    const state = aggregator.queries.environment('production');
    const { hosts } = await history.environmentHostsAt('production', T, state);
    const read = performance.now() - start;
    start = performance.now();
    const byId = new Map(state.hosts.map((snapshot) => [snapshot.id, snapshot]));
    const same = hosts.every((host) => host.current === byId.get(host.id)?.categories);
    const liveBaseline = state.baseline.hosts === hosts.length && same ? state.baseline : undefined;
    const check = performance.now() - start;
    start = performance.now();
    const result = pastBaseline('production', hosts, aggregator.queries.classify, liveBaseline);
    if (i === 0) {
      const undone = new Set(hosts.flatMap((host) => [...host.patch.keys()]));
      const easy = [...undone].filter(
        (path) => liveBaseline && 2 * (liveBaseline.support[path] ?? 0) > hosts.length,
      ).length;
      const other = [...undone].filter((path) => !(path in liveBaseline.facts)).slice(0, 3);
      for (const path of other)
        console.log(
          '   ',
          path,
          liveBaseline.ties.find((tie) => tie.path === path),
          result.facts[path],
          result.support[path],
        );
      console.log(
        `  ${undone.size} undone paths, ${easy} with a strict majority now, ${Object.keys(result.facts).length} facts at T`,
      );
    }
    const shortcut = performance.now() - start;
    start = performance.now();
    pastBaseline('production', hosts, aggregator.queries.classify);
    const own = performance.now() - start;
    if (i === 0 && process.env.PROFILE_SHORTCUT) {
      const { Session } = await import('node:inspector/promises');
      const probe = new Session();
      probe.connect();
      await probe.post('Profiler.enable');
      await probe.post('Profiler.start');
      for (let j = 0; j < 20; j++) pastBaseline('production', hosts, aggregator.queries.classify, liveBaseline);
      const { profile } = await probe.post('Profiler.stop');
      (await import('node:fs')).writeFileSync(process.env.PROFILE_SHORTCUT, JSON.stringify(profile));
    }
    console.log(
      `  hosts at T ${read.toFixed(1)} ms, live check ${check.toFixed(1)} ms (${liveBaseline ? 'same hosts' : 'differ'}), ` +
        `from live ${shortcut.toFixed(1)} ms, from own current baseline ${own.toFixed(1)} ms`,
    );
  }
}
async function time(label, fn) {
  const times = [];
  let result;
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    result = await fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  console.log(
    `${label}: p50 ${times[Math.floor(times.length / 2)].toFixed(1)} ms, min ${times[0].toFixed(1)} ms, max ${times.at(-1).toFixed(1)} ms`,
  );
  return result;
}
// PROFILE=file: a CPU profile of the timed runs only.
let session;
if (process.env.PROFILE) {
  const { Session } = await import('node:inspector/promises');
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}
const past = await time('baselineAt(production, T)', () => history.baselineAt('production', T));
await time('compareAt(staging -> production at T)', () =>
  history.compareAt({ environment: 'staging' }, { environment: 'production' }, { fromAt: T, toAt: T }),
);
if (session) {
  const { profile } = await session.post('Profiler.stop');
  (await import('node:fs')).writeFileSync(process.env.PROFILE, JSON.stringify(profile));
}
const b = past.baseline;
console.log(
  `at T: ${b.hosts} hosts, ${Object.keys(b.facts).length} facts, ${b.ties.length} ties, fingerprint ${b.fingerprint}`,
);
await aggregator.stop();
clearInterval(keepAlive);
