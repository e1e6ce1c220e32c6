/**
 * The outbox: everything about what the aggregator has and will have. It keeps
 * - `acked`: the fact map the aggregator acknowledged (acked.msgpack) and its seq;
 * - the spool of reports written but not yet acknowledged;
 * - `sent`: `acked` with every spooled report applied, the base of the next delta;
 * - the sequence counters (state.json), persisted before a report is spooled and sent, so a
 *   seq is never reused even after SIGKILL.
 * Every change runs inside one mutex, so a report, an ack and a welcome never interleave.
 */
import { join } from 'node:path';
import { applyReport, decodeAgentMessage, type FactMap, MAX_ADOPTED_SEQ, MAX_SEQ } from '@envparity/shared';
import { Mutex } from './mutex.js';
import { type BuildReportOptions, buildReport, categoryFingerprints, type ReportBody } from './reporter.js';
import { splitReport } from './split-report.js';
import { CorruptSpoolFileError, Spool, type SpoolLogger } from './spool.js';
import {
  type AgentState,
  DAEMON_STATE_FILES,
  INITIAL_AGENT_STATE,
  loadAckedFacts,
  loadAgentState,
  saveAckedFacts,
  saveAgentState,
} from './state-store.js';

/** Where reports the aggregator rejected as invalid are moved (inside the state dir). */
export const QUARANTINE_DIR = 'quarantine';

/** A seq the agent may adopt from its state files or from the aggregator (see MAX_ADOPTED_SEQ). */
export function isAdoptableSeq(seq: number): boolean {
  return Number.isSafeInteger(seq) && seq >= 0 && seq <= MAX_ADOPTED_SEQ;
}

export interface OutboxLogger extends SpoolLogger {
  error(object: object, message: string): void;
}

export interface OutboxOptions {
  stateDir: string;
  logger: OutboxLogger;
  maxReports?: number;
  maxBytes?: number;
  /** fsync state and spool files (default true). */
  fsync?: boolean;
}

export type ReportOutcome =
  | { status: 'spooled'; seqs: number[]; body: ReportBody }
  | { status: 'unchanged' }
  /** No welcome yet with the current token: the aggregator's last seq is unknown, nothing is numbered. */
  | { status: 'not-synced' }
  | { status: 'closed' };

export interface NextReport {
  seq: number;
  frame: Uint8Array;
}

export class Outbox {
  private readonly mutex = new Mutex();
  private closed = false;
  private ackTarget = 0;
  private welcomedSeq = 0;

  private constructor(
    private readonly stateDir: string,
    private readonly spool: Spool,
    private state: AgentState,
    private acked: FactMap,
    private sentFacts: FactMap,
    private readonly logger: OutboxLogger,
    private readonly fsync: boolean,
  ) {}

  /** Loads state.json, acked.msgpack and the spool; rebuilds `sent` by replaying the spool on `acked`. */
  static async open({ stateDir, logger, maxReports, maxBytes, fsync = true }: OutboxOptions): Promise<Outbox> {
    let state: AgentState;
    let repair = false;
    try {
      state = await loadAgentState(stateDir);
    } catch (error) {
      logger.error(
        { err: (error as Error).message },
        'state file unreadable; sequence numbers continue from the spool',
      );
      state = { ...INITIAL_AGENT_STATE };
      repair = true;
    }
    if (!isAdoptableSeq(state.lastAckedSeq) || !isAdoptableSeq(state.nextSeq - 1)) {
      // 2^53-1 in state.json would make the next seq unencodable and wedge the host for good.
      logger.warn(
        { lastAckedSeq: state.lastAckedSeq, nextSeq: state.nextSeq, max: MAX_ADOPTED_SEQ },
        'state file holds a sequence number past the safe range: renumbering from the aggregator’s last seq',
      );
      state = { ...INITIAL_AGENT_STATE };
      repair = true;
    }
    let ackedSeq = state.lastAckedSeq;
    let acked: FactMap = {};
    try {
      const loaded = await loadAckedFacts(stateDir);
      if (loaded) {
        acked = loaded.facts;
        if (isAdoptableSeq(loaded.seq)) ackedSeq = loaded.seq;
        else {
          logger.warn({ seq: loaded.seq }, 'acknowledged state has a seq past the safe range: renumbering');
          ackedSeq = 0;
          repair = true;
        }
      }
    } catch (error) {
      // The aggregator will find our fingerprints wrong and ask for full categories: self-healing.
      logger.error({ err: (error as Error).message }, 'acknowledged state unreadable; starting from an empty one');
    }
    const spool = await Spool.open({
      dir: join(stateDir, DAEMON_STATE_FILES.spool),
      logger,
      fsync,
      ...(maxReports !== undefined ? { maxReports } : {}),
      ...(maxBytes !== undefined ? { maxBytes } : {}),
    });
    const outOfRange = spool.entries.filter((e) => !isAdoptableSeq(e.seq)).map((e) => e.seq);
    if (outOfRange.length > 0) {
      logger.warn(
        { seqs: outOfRange.length, dir: QUARANTINE_DIR },
        'spooled reports with seqs past the safe range moved to quarantine: their changes go out in the next report',
      );
      await spool.moveOut(outOfRange, join(stateDir, QUARANTINE_DIR));
      repair = true;
    }
    // A crash between writing acked.msgpack and deleting the acknowledged spool files leaves them behind.
    await spool.removeThrough(ackedSeq);
    let sent = acked;
    for (const entry of [...spool.entries]) {
      try {
        sent = applyReport(sent, await spool.read(entry.seq));
      } catch (error) {
        if (!(error instanceof CorruptSpoolFileError)) throw error;
        logger.error({ seq: entry.seq, err: error.message }, 'moved an unreadable spooled report aside');
        await spool.quarantine(entry.seq);
      }
    }
    const nextSeq = Math.max(state.nextSeq, ackedSeq + 1, spool.maxSeq + 1);
    const outbox = new Outbox(
      stateDir,
      spool,
      // After a renumbering, reports are numbered again only once a welcome tells the aggregator's last seq.
      { lastAckedSeq: ackedSeq, nextSeq, synced: repair ? false : state.synced },
      acked,
      sent,
      logger,
      fsync,
    );
    if (repair || nextSeq !== state.nextSeq || ackedSeq !== state.lastAckedSeq) await outbox.saveState();
    return outbox;
  }

  get lastAckedSeq(): number {
    return this.state.lastAckedSeq;
  }

  get nextSeq(): number {
    return this.state.nextSeq;
  }

  /**
   * The aggregator's last seq from the last welcome, as adopted: a value past MAX_ADOPTED_SEQ is
   * not adopted (this is then the agent's own last acknowledged seq).
   */
  get aggregatorLastSeq(): number {
    return this.welcomedSeq;
  }

  get synced(): boolean {
    return this.state.synced;
  }

  get spooled(): number {
    return this.spool.count;
  }

  get spooledBytes(): number {
    return this.spool.totalBytes;
  }

  /** The state the aggregator will hold once every spooled report is applied. */
  get sent(): FactMap {
    return this.sentFacts;
  }

  /** True before the first report of this state dir: it is sent with every category full. */
  get neverReported(): boolean {
    return this.state.lastAckedSeq === 0 && this.spool.count === 0 && Object.keys(this.sentFacts).length === 0;
  }

  /** Per-category fingerprints of the acknowledged state, for `hello`. */
  ackedFingerprints(): Record<string, string> {
    return categoryFingerprints(this.acked);
  }

  /** After (re-)enrollment: the aggregator's last seq for this host is unknown until the next welcome. */
  markUnsynced(): Promise<void> {
    return this.mutex.run(async () => {
      if (!this.state.synced) return;
      this.state.synced = false;
      await this.saveState();
    });
  }

  /**
   * A `welcome`: reports up to `lastSeq` are stored by the aggregator (their acks were lost), so
   * they count as acknowledged; seqs continue above `lastSeq`. Returns how many reports remain to replay.
   */
  welcome(reportedLastSeq: number): Promise<number> {
    return this.mutex.run(async () => {
      let lastSeq = reportedLastSeq;
      if (!isAdoptableSeq(lastSeq)) {
        // A hostile or corrupt aggregator state: adopting it would make every next seq unencodable.
        this.logger.error(
          { lastSeq, max: MAX_ADOPTED_SEQ, lastAckedSeq: this.state.lastAckedSeq },
          'the aggregator reports a last seq past the safe range for this host: ignored, reports keep their own numbering (re-enroll the host to reset it)',
        );
        lastSeq = this.state.lastAckedSeq;
      }
      this.welcomedSeq = lastSeq;
      if (lastSeq > this.state.lastAckedSeq) {
        this.ackTarget = Math.max(this.ackTarget, lastSeq);
        await this.applyAcksUnlocked();
      } else if (lastSeq < this.state.lastAckedSeq) {
        this.logger.warn(
          { lastSeq, lastAckedSeq: this.state.lastAckedSeq },
          'the aggregator holds fewer reports than it acknowledged (restored or reset?); it will ask for what it misses',
        );
      }
      this.state.nextSeq = Math.max(this.state.nextSeq, lastSeq + 1);
      this.state.synced = true;
      await this.saveState();
      return this.spool.entries.filter((e) => e.seq > lastSeq).length;
    });
  }

  /**
   * Builds the report that brings the aggregator from `sent` to `current`, spools it (split when
   * over the frame limit) and makes it the new `sent`. The first report of a state dir sends
   * every category full.
   */
  report(options: Omit<BuildReportOptions, 'sent'>): Promise<ReportOutcome> {
    return this.mutex.run(async (): Promise<ReportOutcome> => {
      if (this.closed) return { status: 'closed' };
      if (!this.state.synced) return { status: 'not-synced' };
      const full = this.neverReported ? 'all' : options.full;
      const body = buildReport({ ...options, ...(full ? { full } : {}), sent: this.sentFacts });
      if (!body) return { status: 'unchanged' };
      const seqs: number[] = [];
      for (const piece of splitReport(this.sentFacts, body)) {
        const seq = this.state.nextSeq;
        if (seq > MAX_SEQ) throw new Error(`sequence numbers exhausted (${seq} > 2^52): re-enroll this host`);
        this.state.nextSeq = seq + 1;
        await this.saveState();
        await this.spool.append({ type: 'report', seq, ...piece });
        this.sentFacts = applyReport(this.sentFacts, piece);
        seqs.push(seq);
      }
      return { status: 'spooled', seqs, body };
    });
  }

  /** An `ack`: applies acknowledged reports to `acked`, persists it, then deletes their spool files. */
  acknowledge(seq: number): Promise<void> {
    this.ackTarget = Math.max(this.ackTarget, seq);
    return this.mutex.run(() => this.applyAcksUnlocked());
  }

  /** The first spooled report above `afterSeq`, as its wire frame; unreadable ones are moved aside. */
  next(afterSeq: number): Promise<NextReport | undefined> {
    return this.mutex.run(async () => {
      for (;;) {
        const entry = this.spool.entries.find((e) => e.seq > afterSeq);
        if (!entry) return undefined;
        const frame = await this.spool.readBytes(entry.seq);
        try {
          decodeAgentMessage(frame);
          return { seq: entry.seq, frame };
        } catch (error) {
          this.logger.error(
            { seq: entry.seq, err: (error as Error).message },
            'moved an unreadable spooled report aside',
          );
          await this.spool.quarantine(entry.seq);
        }
      }
    });
  }

  /**
   * The aggregator rejected a report as invalid (close 4002, 4003 or 1009): replaying it would be
   * rejected again forever and block everything after it. Every unacknowledged report is moved to
   * `<state>/quarantine/` (they are all superseded by the fresh full report the daemon sends next)
   * and `sent` falls back to the acknowledged state. Returns the seqs moved.
   */
  quarantineUnacknowledged(): Promise<number[]> {
    return this.mutex.run(async () => {
      const seqs = this.spool.entries.map((e) => e.seq);
      if (seqs.length === 0) return [];
      const moved = await this.spool.moveOut(seqs, join(this.stateDir, QUARANTINE_DIR));
      this.sentFacts = this.acked;
      return moved;
    });
  }

  /** Spooled reports with seq <= `lastSentSeq`: sent and not acknowledged yet. */
  inFlight(lastSentSeq: number): number {
    let count = 0;
    for (const entry of this.spool.entries) if (entry.seq <= lastSentSeq) count++;
    return count;
  }

  /** Waits for every queued change to be on disk. */
  flush(): Promise<void> {
    return this.mutex.idle();
  }

  /** Refuses new reports, then waits for pending writes. Acks are still applied. */
  async close(): Promise<void> {
    this.closed = true;
    await this.mutex.idle();
  }

  private async applyAcksUnlocked(): Promise<void> {
    const through = this.ackTarget;
    if (through <= this.state.lastAckedSeq) return;
    let facts = this.acked;
    let reports: Awaited<ReturnType<Spool['readThrough']>> = [];
    for (;;) {
      try {
        reports = await this.spool.readThrough(through);
        break;
      } catch (error) {
        if (!(error instanceof CorruptSpoolFileError)) throw error;
        this.logger.error({ seq: error.seq, err: error.message }, 'moved an unreadable spooled report aside');
        await this.spool.quarantine(error.seq);
      }
    }
    for (const report of reports) facts = applyReport(facts, report);
    this.acked = facts;
    this.state.lastAckedSeq = through;
    // acked.msgpack first: if we die before the spool files are gone, they are dropped on restart.
    await saveAckedFacts(this.stateDir, { seq: through, facts }, this.fsync);
    await this.saveState();
    await this.spool.removeThrough(through);
  }

  private saveState(): Promise<void> {
    return saveAgentState(this.stateDir, this.state, this.fsync);
  }
}
