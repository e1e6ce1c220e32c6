/** Issue 10: bad seqs from state.json or a hostile welcome never wedge the outbox; rejected reports are quarantined. */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAgentMessage, MAX_SEQ, type ReportMessage } from '@envparity/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Outbox } from './outbox.js';

let dir: string;
const logged: string[] = [];
const logger = {
  info() {},
  warn(_o: object, msg: string) {
    logged.push(msg);
  },
  error(_o: object, msg: string) {
    logged.push(msg);
  },
};
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envparity-outbox-bounds-'));
  logged.length = 0;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const open = () => Outbox.open({ stateDir: dir, logger, fsync: false });

async function firstFrame(outbox: Outbox, afterSeq: number): Promise<ReportMessage> {
  const next = await outbox.next(afterSeq);
  if (!next) throw new Error('no spooled report');
  return decodeAgentMessage(next.frame) as ReportMessage;
}

describe('Outbox: seq bounds', () => {
  it('renumbers a state.json holding 2^53-1 instead of wedging', async () => {
    await writeFile(
      join(dir, 'state.json'),
      JSON.stringify({ lastAckedSeq: 2 ** 53 - 2, nextSeq: 2 ** 53 - 1, synced: true }),
    );
    const outbox = await open();
    expect(logged.some((m) => m.includes('renumbering'))).toBe(true);
    expect(outbox.synced).toBe(false);
    await outbox.welcome(7);
    const outcome = await outbox.report({ current: { 'os.a': 1 }, observedAt: 1 });
    expect(outcome.status === 'spooled' && outcome.seqs).toEqual([8]);
    expect((await firstFrame(outbox, 7)).seq).toBe(8);
    expect(JSON.parse(await readFile(join(dir, 'state.json'), 'utf8'))).toEqual({
      lastAckedSeq: 7,
      nextSeq: 9,
      synced: true,
    });
  });

  it('ignores a welcome.lastSeq past 2^51 and keeps its own numbering, with decodable frames', async () => {
    const outbox = await open();
    await outbox.welcome(3);
    await outbox.report({ current: { 'os.a': 1 }, observedAt: 1 });
    await outbox.welcome(2 ** 53 - 1);
    expect(outbox.aggregatorLastSeq).toBe(3);
    expect(outbox.nextSeq).toBe(5);
    expect(logged.some((m) => m.includes('past the safe range'))).toBe(true);
    const outcome = await outbox.report({ current: { 'os.a': 2 }, observedAt: 2 });
    expect(outcome.status === 'spooled' && outcome.seqs).toEqual([5]);
    // The spooled report was not dropped as "stored": it is still replayed.
    expect((await firstFrame(outbox, 0)).seq).toBe(4);
    expect((await firstFrame(outbox, 4)).seq).toBeLessThanOrEqual(MAX_SEQ);
  });

  it('moves spooled reports with out-of-range seqs to quarantine at start', async () => {
    await import('node:fs/promises').then(({ mkdir }) => mkdir(join(dir, 'spool'), { recursive: true }));
    await writeFile(join(dir, 'spool', `${String(2 ** 53 - 1).padStart(16, '0')}.msgpack`), 'junk');
    const outbox = await open();
    expect(outbox.spooled).toBe(0);
    expect(await readdir(join(dir, 'quarantine'))).toHaveLength(1);
    await outbox.welcome(0);
    const outcome = await outbox.report({ current: { 'os.a': 1 }, observedAt: 1 });
    expect(outcome.status === 'spooled' && outcome.seqs).toEqual([1]);
  });
});

describe('Outbox: quarantine of rejected reports', () => {
  it('moves every unacknowledged report to <state>/quarantine and falls back to the acknowledged state', async () => {
    const outbox = await open();
    await outbox.welcome(0);
    await outbox.report({ current: { 'os.a': 1 }, observedAt: 1 });
    await outbox.acknowledge(1);
    await outbox.report({ current: { 'os.a': 2 }, observedAt: 2 });
    await outbox.report({ current: { 'os.a': 3 }, observedAt: 3 });
    expect(await outbox.quarantineUnacknowledged()).toEqual([2, 3]);
    expect(outbox.spooled).toBe(0);
    expect(outbox.sent).toEqual({ 'os.a': 1 });
    expect((await readdir(join(dir, 'quarantine'))).sort()).toHaveLength(2);
    // The next report goes on from the acknowledged state with a new seq: nothing replays the rejected ones.
    const outcome = await outbox.report({ current: { 'os.a': 3 }, observedAt: 4 });
    expect(outcome.status === 'spooled' && outcome.seqs).toEqual([4]);
    expect(await outbox.next(1)).toMatchObject({ seq: 4 });
  });
});
