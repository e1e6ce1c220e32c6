/**
 * The spool: every report is written to `STATE_DIR/spool/` before it is sent and deleted once the
 * aggregator acknowledges it, so nothing observed while the aggregator is away (or before a
 * crash) is lost. One file per report, named by its zero-padded seq, holding the exact frame to
 * send. Bounded by count and bytes: past a bound, runs of the oldest reports are merged into one
 * holding the latest state per path (mergeReports), never dropped.
 */
import { mkdir, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  decodeAgentMessage,
  encodeMessage,
  MAX_FRAME_BYTES,
  ProtocolError,
  type ReportMessage,
} from '@envparity/shared';
import { mergeReports } from './merge-reports.js';
import { Mutex } from './mutex.js';
import { isAtomicTempFile, syncDirectory, writeFileAtomic } from './write-atomic.js';

export const DEFAULT_SPOOL_MAX_REPORTS = 1000;
export const DEFAULT_SPOOL_MAX_BYTES = 64 * 1024 * 1024;
/** Compaction merges runs of reports adding up to at most this, so a merged frame stays well under the frame limit. */
export const DEFAULT_COMPACT_TARGET_BYTES = MAX_FRAME_BYTES / 2;
/** Reports kept in a quarantine dir, at most: the oldest go first, so a rejection loop cannot fill the disk. */
export const DEFAULT_QUARANTINE_MAX_FILES = 50;

const FILE_PATTERN = /^(\d{16})\.msgpack$/;

export function spoolFileName(seq: number): string {
  return `${String(seq).padStart(16, '0')}.msgpack`;
}

export interface SpoolEntry {
  readonly seq: number;
  /** Size of the file (the encoded frame). */
  readonly bytes: number;
}

export interface SpoolLogger {
  warn(object: object, message: string): void;
  info(object: object, message: string): void;
}

export interface SpoolOptions {
  dir: string;
  maxReports?: number;
  maxBytes?: number;
  compactTargetBytes?: number;
  /** fsync files and the directory (default true). */
  fsync?: boolean;
  logger?: SpoolLogger;
}

export class SpoolError extends Error {
  readonly code = 'SPOOL';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SpoolError';
  }
}

/** A spooled report that cannot be read back; moved aside as `corrupt-*`, reported in the log. */
export class CorruptSpoolFileError extends SpoolError {
  constructor(
    readonly seq: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CorruptSpoolFileError';
  }
}

export class Spool {
  private readonly mutex = new Mutex();
  private entriesBySeq: SpoolEntry[] = [];
  private total = 0;
  private readonly maxReports: number;
  private readonly maxBytes: number;
  private readonly compactTargetBytes: number;
  private readonly fsync: boolean;
  private readonly logger: SpoolLogger | undefined;
  private stuckWarned = false;

  private constructor(
    readonly dir: string,
    options: SpoolOptions,
  ) {
    this.maxReports = Math.max(2, options.maxReports ?? DEFAULT_SPOOL_MAX_REPORTS);
    this.maxBytes = options.maxBytes ?? DEFAULT_SPOOL_MAX_BYTES;
    this.compactTargetBytes = options.compactTargetBytes ?? DEFAULT_COMPACT_TARGET_BYTES;
    this.fsync = options.fsync ?? true;
    this.logger = options.logger;
  }

  /** Opens (creating) the spool dir, removes temp files of interrupted writes, indexes the reports. */
  static async open(options: SpoolOptions): Promise<Spool> {
    const spool = new Spool(options.dir, options);
    await mkdir(options.dir, { recursive: true, mode: 0o700 });
    const entries: SpoolEntry[] = [];
    for (const name of await readdir(options.dir)) {
      if (isAtomicTempFile(name)) {
        await unlink(join(options.dir, name)).catch(() => undefined);
        continue;
      }
      const match = FILE_PATTERN.exec(name);
      if (!match) continue;
      const info = await stat(join(options.dir, name));
      entries.push({ seq: Number(match[1]), bytes: info.size });
    }
    entries.sort((a, b) => a.seq - b.seq);
    spool.entriesBySeq = entries;
    spool.total = entries.reduce((sum, e) => sum + e.bytes, 0);
    return spool;
  }

  /** Spooled reports in seq order. */
  get entries(): readonly SpoolEntry[] {
    return this.entriesBySeq;
  }

  get count(): number {
    return this.entriesBySeq.length;
  }

  get totalBytes(): number {
    return this.total;
  }

  /** Highest spooled seq, 0 when empty. */
  get maxSeq(): number {
    return this.entriesBySeq.at(-1)?.seq ?? 0;
  }

  /** Writes a report durably (temp file, fsync, rename), then compacts when over a bound. */
  append(report: ReportMessage): Promise<void> {
    return this.mutex.run(async () => {
      if (report.seq <= this.maxSeq) {
        throw new SpoolError(`report seq ${report.seq} is not above the spooled seq ${this.maxSeq}`);
      }
      const bytes = encodeMessage(report);
      await writeFileAtomic(this.path(report.seq), bytes, { fsync: this.fsync });
      this.entriesBySeq.push({ seq: report.seq, bytes: bytes.length });
      this.total += bytes.length;
      try {
        await this.compactUnlocked();
      } catch (error) {
        // The report is safely spooled; a failed compaction is retried on the next append.
        this.logger?.warn({ err: errorMessage(error) }, 'spool compaction failed');
      }
    });
  }

  /** The frame of a spooled report, as it goes on the wire. */
  readBytes(seq: number): Promise<Uint8Array> {
    return this.mutex.run(() => this.readBytesUnlocked(seq));
  }

  /** A spooled report, decoded. */
  read(seq: number): Promise<ReportMessage> {
    return this.mutex.run(() => this.readUnlocked(seq));
  }

  /** Reads every report with seq <= `seq`, in order (for applying acknowledged reports). */
  readThrough(seq: number): Promise<ReportMessage[]> {
    return this.mutex.run(async () => {
      const reports: ReportMessage[] = [];
      for (const entry of this.entriesBySeq.filter((e) => e.seq <= seq)) {
        reports.push(await this.readUnlocked(entry.seq));
      }
      return reports;
    });
  }

  /** Deletes every report with seq <= `seq` (acknowledged); returns what was removed. */
  removeThrough(seq: number): Promise<SpoolEntry[]> {
    return this.mutex.run(async () => {
      const removed = this.entriesBySeq.filter((e) => e.seq <= seq);
      if (removed.length === 0) return removed;
      for (const entry of removed) await unlink(this.path(entry.seq)).catch(ignoreMissing);
      this.entriesBySeq = this.entriesBySeq.filter((e) => e.seq > seq);
      this.total -= removed.reduce((sum, e) => sum + e.bytes, 0);
      if (this.fsync) await syncDirectory(this.dir);
      return removed;
    });
  }

  /** Compacts now if a bound is exceeded (append does it already); returns the number of merges. */
  compact(): Promise<number> {
    return this.mutex.run(() => this.compactUnlocked());
  }

  private path(seq: number): string {
    return join(this.dir, spoolFileName(seq));
  }

  private async readBytesUnlocked(seq: number): Promise<Uint8Array> {
    return new Uint8Array(await readFile(this.path(seq)));
  }

  private async readUnlocked(seq: number): Promise<ReportMessage> {
    const bytes = await this.readBytesUnlocked(seq);
    try {
      const message = decodeAgentMessage(bytes);
      if (message.type !== 'report' || message.seq !== seq) throw new Error('not the report its name says');
      return message;
    } catch (cause) {
      const detail = cause instanceof ProtocolError ? cause.message : String(cause);
      throw new CorruptSpoolFileError(seq, `spooled report ${spoolFileName(seq)} is unreadable: ${detail}`, { cause });
    }
  }

  private overLimit(): boolean {
    return this.entriesBySeq.length > this.maxReports || this.total > this.maxBytes;
  }

  /**
   * The next run to merge: starting at the oldest report that can be merged with its successor
   * within the byte target, as long as fits, at most half of the spool so recent changes keep
   * their own observedAt. [start, end] indexes, or undefined when nothing can be merged.
   */
  private pickRun(): [number, number] | undefined {
    const entries = this.entriesBySeq;
    const maxLength = Math.max(2, Math.floor(entries.length / 2));
    for (let start = 0; start + 1 < entries.length; start++) {
      let sum = (entries[start] as SpoolEntry).bytes;
      let end = start;
      while (end + 1 < entries.length && end - start + 1 < maxLength) {
        const next = (entries[end + 1] as SpoolEntry).bytes;
        if (sum + next > this.compactTargetBytes) break;
        sum += next;
        end++;
      }
      if (end > start) return [start, end];
    }
    return undefined;
  }

  private async compactUnlocked(): Promise<number> {
    let merges = 0;
    while (this.overLimit()) {
      const run = this.pickRun();
      if (!run) {
        if (!this.stuckWarned) {
          this.logger?.warn(
            { reports: this.count, bytes: this.total },
            'spool is over its bound and no more reports can be merged: keeping them all',
          );
          this.stuckWarned = true;
        }
        break;
      }
      try {
        await this.mergeRun(run[0], run[1]);
      } catch (error) {
        if (!(error instanceof CorruptSpoolFileError)) throw error;
        this.logger?.warn({ seq: error.seq, err: error.message }, 'moved an unreadable spooled report aside');
        await this.quarantineUnlocked(error.seq);
      }
      merges++;
    }
    if (!this.overLimit()) this.stuckWarned = false;
    return merges;
  }

  private async mergeRun(start: number, end: number): Promise<void> {
    const run = this.entriesBySeq.slice(start, end + 1);
    const reports: ReportMessage[] = [];
    for (const entry of run) reports.push(await this.readUnlocked(entry.seq));
    const merged = mergeReports(reports);
    const bytes = encodeMessage(merged);
    // The merged report replaces the run's last file (same seq); until the older files are gone,
    // a restart replays them and then the merged one, which gives the same state.
    await writeFileAtomic(this.path(merged.seq), bytes, { fsync: this.fsync });
    for (const entry of run.slice(0, -1)) await unlink(this.path(entry.seq)).catch(ignoreMissing);
    if (this.fsync) await syncDirectory(this.dir);
    const replaced: SpoolEntry = { seq: merged.seq, bytes: bytes.length };
    this.entriesBySeq.splice(start, run.length, replaced);
    this.total += bytes.length - run.reduce((sum, e) => sum + e.bytes, 0);
    this.logger?.info(
      { merged: run.length, fromSeq: run[0]?.seq, toSeq: merged.seq, reports: this.count, bytes: this.total },
      'spool compacted',
    );
  }

  /** Moves an unreadable report aside (`corrupt-<name>`) and forgets it. */
  quarantine(seq: number): Promise<void> {
    return this.mutex.run(() => this.quarantineUnlocked(seq));
  }

  /**
   * Moves spooled reports out of the spool into `dir` (the state dir's `quarantine/`), named
   * `<seq>-<time>.msgpack`, and forgets them; keeps at most `maxFiles` there. Returns the seqs moved.
   */
  moveOut(seqs: readonly number[], dir: string, maxFiles = DEFAULT_QUARANTINE_MAX_FILES): Promise<number[]> {
    return this.mutex.run(async () => {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const moved: number[] = [];
      for (const seq of seqs) {
        const index = this.entriesBySeq.findIndex((e) => e.seq === seq);
        if (index < 0) continue;
        const target = join(dir, `${spoolFileName(seq).replace('.msgpack', '')}-${Date.now()}.msgpack`);
        await rename(this.path(seq), target).catch(ignoreMissing);
        const [entry] = this.entriesBySeq.splice(index, 1);
        this.total -= entry?.bytes ?? 0;
        moved.push(seq);
      }
      if (this.fsync) await syncDirectory(this.dir);
      await pruneDir(dir, maxFiles);
      return moved;
    });
  }

  private async quarantineUnlocked(seq: number): Promise<void> {
    const index = this.entriesBySeq.findIndex((e) => e.seq === seq);
    if (index < 0) return;
    await rename(this.path(seq), join(this.dir, `corrupt-${spoolFileName(seq)}`)).catch(ignoreMissing);
    const [entry] = this.entriesBySeq.splice(index, 1);
    this.total -= entry?.bytes ?? 0;
  }
}

/** Deletes the oldest files of `dir` (by name: they start with the zero-padded seq) beyond `maxFiles`. */
async function pruneDir(dir: string, maxFiles: number): Promise<void> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.msgpack')).sort();
  for (const name of names.slice(0, Math.max(0, names.length - maxFiles))) {
    await unlink(join(dir, name)).catch(() => undefined);
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}
