/**
 * Checks a SQLite store makes when it opens, and what it records so the next open can tell that
 * something is missing.
 *
 * - `PRAGMA quick_check` at open: a store that fails it is refused (StoreError `STORE_CORRUPT`, the
 *   CLI exits 1 with the problems), because serving and acknowledging reports on top of a damaged
 *   file would write more into it. Restore a backup, or move the file away to start empty.
 * - The host count. SQLite recovers a write-ahead log by replaying frames up to the first one whose
 *   checksum fails, so garbage in the middle of `-wal` (a bad disk, a bad copy, a tool writing to
 *   it) silently drops every transaction after it: the database is consistent (quick_check passes)
 *   and simply older, possibly with 0 hosts. A record kept *inside* the database is lost with the
 *   same frames, so the count is kept twice:
 *   - in `store_meta` (`clean_shutdown`: hosts and time), written by a clean close;
 *   - in a small sidecar file next to the database (`<db>-meta.json`), written atomically with
 *     fsync whenever the count changed (at most once per second) and at close, with `clean`.
 *   At open the expected count is the sidecar's (the newest), else the clean-shutdown record; fewer
 *   hosts than that is reported (`missingHosts`), and the aggregator logs it at error level and
 *   exports it as `envparity_store_hosts_missing`. Hosts are never deleted (retired hosts keep their
 *   row), so any decrease means lost data, never an operator's action.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { StoreError } from '../errors.js';

/** How often the host count is compared with the last one written to the sidecar file. */
export const DEFAULT_HOST_COUNT_INTERVAL_MS = 1000;
/** `store_meta` key of the clean-shutdown record. */
export const CLEAN_SHUTDOWN_KEY = 'clean_shutdown';
/** How many problems of a failed quick_check the error message quotes. */
const QUICK_CHECK_QUOTED = 5;

/** The sidecar file of a database file. */
export function hostCountFileOf(dbPath: string): string {
  return `${dbPath}-meta.json`;
}

/** `PRAGMA quick_check` rows (`['ok']` when sound); a failure to run it is a problem too. */
export function quickCheck(db: Database.Database): string[] {
  try {
    return (db.pragma('quick_check') as { quick_check: string }[]).map((row) => row.quick_check);
  } catch (error) {
    return [`quick_check could not run: ${(error as Error).message}`];
  }
}

/** Throws StoreError STORE_CORRUPT, quoting the first problems, when `PRAGMA quick_check` fails. */
export function assertQuickCheck(db: Database.Database, path: string): void {
  const rows = quickCheck(db);
  if (rows.length === 1 && rows[0] === 'ok') return;
  const quoted = rows.slice(0, QUICK_CHECK_QUOTED).join('; ');
  throw new StoreError(
    'STORE_CORRUPT',
    `the database ${path} fails PRAGMA quick_check (${rows.length} problem${rows.length === 1 ? '' : 's'}: ${quoted}); ` +
      'refusing to start on a damaged store: restore it from a backup, or move it away to start empty',
  );
}

export function readStoreMeta<T>(db: Database.Database, key: string): T | undefined {
  const row = db.prepare('SELECT value FROM store_meta WHERE key = ?').get(key) as { value: string } | undefined;
  if (!row) return undefined;
  try {
    return JSON.parse(row.value) as T;
  } catch {
    return undefined;
  }
}

export function writeStoreMeta(db: Database.Database, key: string, value: unknown): void {
  db.prepare(
    'INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  ).run(key, JSON.stringify(value));
}

/** What the sidecar file and the clean-shutdown record hold. */
export interface HostCountRecord {
  hosts: number;
  /** ms since the epoch. */
  at: number;
  /** True when written by a clean close (the process then exited normally). */
  clean: boolean;
}

function isRecord(value: unknown): value is HostCountRecord {
  const record = value as Partial<HostCountRecord> | null;
  return (
    typeof record === 'object' &&
    record !== null &&
    Number.isSafeInteger(record.hosts) &&
    typeof record.at === 'number' &&
    typeof record.clean === 'boolean'
  );
}

/** The sidecar's record, or undefined when there is none or it does not parse. */
export function readHostCountFile(file: string): HostCountRecord | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the sidecar atomically (temp file, fsync, rename), mode 0600. */
export function writeHostCountFile(file: string, record: HostCountRecord): void {
  const temp = `${file}.tmp`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(record)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
}

/** What the store found when it opened. */
export interface StoreOpenReport {
  /** `ok`, or `skipped` when the check was turned off. */
  quickCheck: 'ok' | 'skipped';
  /** Host rows found (retired hosts included: they keep their row). */
  hostsAtOpen: number;
  /** The count recorded before (sidecar, else clean shutdown), or null when nothing was recorded. */
  expectedHosts: number | null;
  expectedFrom: 'sidecar' | 'clean-shutdown' | null;
  /** When the expected count was recorded (ms), or null. */
  expectedAt: number | null;
  /** `expectedHosts - hostsAtOpen` when positive, else 0. */
  missingHosts: number;
  /** False when the previous run did not close the store (crash, kill -9, power loss); null when unknown. */
  previousShutdownClean: boolean | null;
}

/** Compares the host count at open with what was recorded before. */
export function checkHostCount(
  db: Database.Database,
  hostsAtOpen: number,
  sidecar: HostCountRecord | undefined,
  quick: StoreOpenReport['quickCheck'],
): StoreOpenReport {
  const clean = readStoreMeta<HostCountRecord>(db, CLEAN_SHUTDOWN_KEY);
  const expected = sidecar ?? (clean && isRecord(clean) ? clean : undefined);
  const expectedHosts = expected?.hosts ?? null;
  return {
    quickCheck: quick,
    hostsAtOpen,
    expectedHosts,
    expectedFrom: sidecar ? 'sidecar' : expected ? 'clean-shutdown' : null,
    expectedAt: expected?.at ?? null,
    missingHosts: expectedHosts === null ? 0 : Math.max(0, expectedHosts - hostsAtOpen),
    previousShutdownClean: sidecar ? sidecar.clean : null,
  };
}

/**
 * Keeps the sidecar file in step with the host count while the store is open: compared every
 * `intervalMs` (a Map size, nothing else), written when it changed.
 */
export class HostCountTracker {
  private timer: NodeJS.Timeout | undefined;
  private written: number | undefined;

  constructor(
    private readonly file: string,
    private readonly count: () => number,
    private readonly now: () => number = Date.now,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  /** Records the count at open (`clean: false` until the clean close), then follows it. */
  start(intervalMs = DEFAULT_HOST_COUNT_INTERVAL_MS): void {
    this.write(false);
    this.timer = setInterval(() => {
      if (this.count() !== this.written) this.write(false);
    }, intervalMs);
    this.timer.unref();
  }

  /** A clean close: the final count, `clean: true`. */
  stop(clean: boolean): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (clean) this.write(true);
  }

  private write(clean: boolean): void {
    const hosts = this.count();
    try {
      writeHostCountFile(this.file, { hosts, at: this.now(), clean });
      this.written = hosts;
    } catch (error) {
      this.onError(error);
    }
  }
}

/** The loud part: an error line when hosts are missing, a warning after an unclean shutdown. */
export function logStoreOpenReport(
  logger: {
    error(fields: Record<string, unknown>, message: string): void;
    warn(fields: Record<string, unknown>, message: string): void;
  },
  report: StoreOpenReport | undefined,
): void {
  if (!report) return;
  const fields = {
    hostsAtOpen: report.hostsAtOpen,
    expectedHosts: report.expectedHosts,
    missingHosts: report.missingHosts,
    recordedBy: report.expectedFrom,
    recordedAt: report.expectedAt === null ? null : new Date(report.expectedAt).toISOString(),
    previousShutdownClean: report.previousShutdownClean,
  };
  if (report.missingHosts > 0) {
    logger.error(
      fields,
      `store opened with ${report.hostsAtOpen} hosts, ${report.missingHosts} fewer than the ${report.expectedHosts} it ` +
        'recorded before: data was lost (a damaged or truncated write-ahead log, or an older database file); ' +
        'restore a backup if those hosts matter (metric envparity_store_hosts_missing)',
    );
  } else if (report.previousShutdownClean === false) {
    logger.warn(fields, 'the previous run did not close the store cleanly (crash, kill or power loss): recovered');
  }
}
