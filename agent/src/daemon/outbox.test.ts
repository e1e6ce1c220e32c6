import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyReport, decodeAgentMessage, type FactMap, type ReportMessage } from '@envparity/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Outbox } from './outbox.js';

let dir: string;
const logger = { info() {}, warn() {}, error() {} };
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envparity-outbox-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function open(): Promise<Outbox> {
  return Outbox.open({ stateDir: dir, logger, fsync: false });
}

async function frame(outbox: Outbox, afterSeq: number): Promise<ReportMessage | undefined> {
  const next = await outbox.next(afterSeq);
  if (!next) return undefined;
  return decodeAgentMessage(next.frame) as ReportMessage;
}

async function stateFile(): Promise<unknown> {
  return JSON.parse(await readFile(join(dir, 'state.json'), 'utf8'));
}

describe('Outbox', () => {
  it('numbers nothing before the first welcome (the aggregator may already hold seqs for this host)', async () => {
    const outbox = await open();
    expect(await outbox.report({ current: { 'os.a': 1 }, observedAt: 1 })).toEqual({ status: 'not-synced' });
    await outbox.welcome(41);
    const outcome = await outbox.report({ current: { 'os.a': 1 }, observedAt: 1 });
    expect(outcome.status === 'spooled' && outcome.seqs).toEqual([42]);
    expect(await stateFile()).toEqual({ lastAckedSeq: 41, nextSeq: 43, synced: true });
  });

  it('sends the first report full, then deltas against what was sent, and nothing when unchanged', async () => {
    const outbox = await open();
    await outbox.welcome(0);
    const first = await outbox.report({ current: { 'os.a': 1, 'config.b': 2 }, observedAt: 10 });
    expect(first.status === 'spooled' && first.body.full).toEqual({ config: { 'config.b': 2 }, os: { 'os.a': 1 } });
    const second = await outbox.report({ current: { 'os.a': 1, 'config.b': 3 }, observedAt: 20 });
    // Not yet acknowledged: the delta is against what was sent (spooled), not the acked state.
    expect(second.status === 'spooled' && second.body.delta).toEqual({ config: { set: { 'config.b': 3 }, unset: [] } });
    expect(await outbox.report({ current: { 'os.a': 1, 'config.b': 3 }, observedAt: 30 })).toEqual({
      status: 'unchanged',
    });
    expect(outbox.sent).toEqual({ 'os.a': 1, 'config.b': 3 });
    expect((await frame(outbox, 0))?.seq).toBe(1);
    expect((await frame(outbox, 1))?.seq).toBe(2);
    expect(await frame(outbox, 2)).toBeUndefined();
    expect(outbox.inFlight(2)).toBe(2);
  });

  it('on ack: applies to the acknowledged state, persists it, then deletes the spool files', async () => {
    const outbox = await open();
    await outbox.welcome(0);
    await outbox.report({ current: { 'os.a': 1 }, observedAt: 1 });
    await outbox.report({ current: { 'os.a': 2 }, observedAt: 2 });
    await outbox.acknowledge(1);
    expect(await readdir(join(dir, 'spool'))).toHaveLength(1);
    expect(outbox.lastAckedSeq).toBe(1);
    expect(outbox.ackedFingerprints()).toEqual((await Outbox.open({ stateDir: dir, logger })).ackedFingerprints());
    await outbox.acknowledge(2);
    expect(await readdir(join(dir, 'spool'))).toEqual([]);
    expect(await stateFile()).toEqual({ lastAckedSeq: 2, nextSeq: 3, synced: true });
  });

  it('after a restart (even without a clean stop) continues with deltas, never reusing a seq', async () => {
    const first = await open();
    await first.welcome(0);
    await first.report({ current: { 'os.a': 1, 'os.b': 1 }, observedAt: 1 });
    await first.acknowledge(1);
    await first.report({ current: { 'os.a': 2, 'os.b': 1 }, observedAt: 2 }); // seq 2: spooled, never acked
    // "SIGKILL": no close, no flush; a new process opens the same state dir.
    const second = await open();
    expect(second.lastAckedSeq).toBe(1);
    expect(second.nextSeq).toBe(3);
    expect(second.neverReported).toBe(false);
    expect(second.sent).toEqual({ 'os.a': 2, 'os.b': 1 });
    expect(second.spooled).toBe(1);
    await second.welcome(1); // the aggregator did not get seq 2: it is replayed
    expect((await frame(second, 1))?.seq).toBe(2);
    // Same facts as before the restart: nothing new to report (no duplicate change).
    expect(await second.report({ current: { 'os.a': 2, 'os.b': 1 }, observedAt: 3 })).toEqual({ status: 'unchanged' });
    const next = await second.report({ current: { 'os.a': 2, 'os.b': 2 }, observedAt: 4 });
    expect(next.status === 'spooled' && next.seqs).toEqual([3]);
    expect(next.status === 'spooled' && next.body.delta).toEqual({ os: { set: { 'os.b': 2 }, unset: [] } });
  });

  it('a welcome whose lastSeq covers spooled reports counts them as acknowledged', async () => {
    const outbox = await open();
    await outbox.welcome(0);
    await outbox.report({ current: { 'os.a': 1 }, observedAt: 1 });
    await outbox.report({ current: { 'os.a': 2 }, observedAt: 2 });
    await outbox.report({ current: { 'os.a': 3 }, observedAt: 3 });
    expect(await outbox.welcome(2)).toBe(1);
    expect(outbox.lastAckedSeq).toBe(2);
    expect(outbox.spooled).toBe(1);
    expect((await frame(outbox, 2))?.seq).toBe(3);
    const acked = await Outbox.open({ stateDir: dir, logger });
    expect(acked.lastAckedSeq).toBe(2);
  });

  it('the acknowledged state survives a restart: hello fingerprints and sent state', async () => {
    const outbox = await open();
    await outbox.welcome(0);
    const facts: FactMap = { 'os.a': 1, 'library.dpkg.x': '1.0', 'config.file["/a b"].k': [1, 2] };
    await outbox.report({ current: facts, observedAt: 1 });
    await outbox.acknowledge(1);
    const reopened = await open();
    expect(reopened.sent).toEqual(facts);
    expect(reopened.ackedFingerprints()).toEqual(outbox.ackedFingerprints());
    expect(Object.keys(reopened.ackedFingerprints()).sort()).toEqual(['config', 'library', 'os']);
  });

  it('splits a report over the frame limit into several, each applying cleanly', async () => {
    const outbox = await open();
    await outbox.welcome(0);
    const big: FactMap = {};
    for (let i = 0; i < 3000; i++) big[`library.dpkg.pkg${i}`] = 'x'.repeat(1500);
    const outcome = await outbox.report({ current: big, observedAt: 1 });
    expect(outcome.status).toBe('spooled');
    const seqs = outcome.status === 'spooled' ? outcome.seqs : [];
    expect(seqs.length).toBeGreaterThan(1);
    let state: FactMap = {};
    let after = 0;
    for (;;) {
      const report = await frame(outbox, after);
      if (!report) break;
      state = applyReport(state, report);
      after = report.seq;
    }
    expect(state).toEqual(big);
  });

  it('refuses new reports once closed', async () => {
    const outbox = await open();
    await outbox.welcome(0);
    await outbox.close();
    expect(await outbox.report({ current: { 'os.a': 1 }, observedAt: 1 })).toEqual({ status: 'closed' });
  });
});
