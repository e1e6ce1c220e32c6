import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClassifier, type FactMap, type ReportMeta } from '@envparity/shared';
import type { Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CollectedFacts } from './collected-facts.js';
import { Outbox, type ReportOutcome } from './outbox.js';
import { ReportPolicy, type ReportPolicyOptions } from './report-policy.js';

let dir: string;
const silent = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envparity-policy-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A policy over a synced outbox; `collect(facts)` records a complete pass of collector `all`. */
async function setup(options: Partial<ReportPolicyOptions> = {}) {
  const outbox = await Outbox.open({ stateDir: dir, logger: silent, fsync: false });
  await outbox.welcome(0);
  const collected = new CollectedFacts();
  const bodies: Extract<ReportOutcome, { status: 'spooled' }>['body'][] = [];
  const report = outbox.report.bind(outbox);
  outbox.report = async (input) => {
    const outcome = await report(input);
    if (outcome.status === 'spooled') bodies.push(outcome.body);
    return outcome;
  };
  let spooled = 0;
  const policy = new ReportPolicy({
    outbox,
    collected,
    classify: createClassifier(),
    logger: silent,
    canReport: () => true,
    spooled: () => spooled++,
    ...options,
  });
  const collect = (facts: FactMap, errors: ReportMeta['errors'] = []) => {
    collected.record({ results: [{ name: 'all', facts }], complete: true });
    policy.passDone(Date.now(), { durationMs: 1, collectors: [], errors });
  };
  return { outbox, policy, collect, bodies, spooledCount: () => spooled };
}

describe('ReportPolicy', () => {
  it('holds volatile-only changes back between refreshes, and sends them once the refresh is due', async () => {
    const { policy, collect, bodies } = await setup({ volatileRefreshMs: 150 });
    collect({ 'os.release': '12', 'os.uptime': 10 });
    expect(await policy.produce('first')).toBe('spooled');
    collect({ 'os.release': '12', 'os.uptime': 70 });
    expect(await policy.produce('volatile only')).toBe('unchanged');
    collect({ 'os.release': '13', 'os.uptime': 80 });
    expect(await policy.produce('one change')).toBe('spooled');
    // The behavior change goes alone: the uptime rides along only once the refresh is due.
    expect(bodies.at(-1)?.delta).toEqual({ os: { set: { 'os.release': '13' }, unset: [] } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await policy.produce('refresh')).toBe('spooled');
    expect(bodies.at(-1)?.delta).toEqual({ os: { set: { 'os.uptime': 80 }, unset: [] } });
  });

  it('sends meta with the first report, not with a quick change, but at once when collector errors change', async () => {
    const { policy, collect, bodies } = await setup();
    collect({ 'config.a': 1 });
    await policy.produce('first');
    expect(bodies.at(-1)?.meta).toBeDefined();
    collect({ 'config.a': 2 });
    await policy.produce('change');
    expect(bodies.at(-1)?.meta).toBeUndefined();
    collect({ 'config.a': 3 }, [{ collector: 'config', message: 'unreadable' }]);
    await policy.produce('change');
    expect(bodies.at(-1)?.meta?.errors).toEqual([{ collector: 'config', message: 'unreadable' }]);
  });

  it('sends required categories full once, from the last collected facts (welcome.need, resync)', async () => {
    const { policy, collect, bodies, spooledCount } = await setup({ aggregatorRequestIntervalMs: 0 });
    collect({ 'os.a': 1, 'config.b': 2 });
    await policy.produce('first');
    policy.requireFull(['config']);
    expect(await policy.produce('welcome')).toBe('spooled');
    expect(bodies.at(-1)?.full).toEqual({ config: { 'config.b': 2 } });
    expect(await policy.produce('again')).toBe('unchanged');
    policy.resync('fingerprint mismatch', ['os']);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(bodies.at(-1)?.full).toEqual({ os: { 'os.a': 1 } });
    expect(spooledCount()).toBe(3);
  });

  it('makes no report before the fleet key, before a pass, or after stop', async () => {
    let enrolled = false;
    const { policy, collect } = await setup({ canReport: () => enrolled });
    expect(await policy.produce('no pass yet')).toBe('skipped');
    collect({ 'os.a': 1 });
    expect(await policy.produce('not enrolled')).toBe('skipped');
    enrolled = true;
    policy.stop();
    expect(await policy.produce('stopped')).toBe('skipped');
  });
});
