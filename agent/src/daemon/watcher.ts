/**
 * Change triggers: fs.watch on directories (not files), so that a file edited in place and a file
 * replaced by rename (editors, config management, dpkg writing `status-new` then renaming it) are
 * both seen, and the watch survives the replacement. Events are debounced, then reported as the
 * set of tags (collector names) whose targets changed. A directory that does not exist yet, or
 * that is itself replaced, is (re-)armed by a periodic check, which also fires its tags. State
 * that no file event announces (processes) is polled for a changed signature instead.
 */
import { type FSWatcher, watch } from 'node:fs';
import { stat } from 'node:fs/promises';

export const DEFAULT_DEBOUNCE_MS = 300;
/** Under a constant stream of events, recollect at least this often. */
export const DEFAULT_MAX_WAIT_MS = 2_000;
export const DEFAULT_REARM_MS = 5_000;

/** A directory watched with fs.watch. */
export interface DirectoryTarget {
  /** Directory to watch. */
  dir: string;
  /** Entry names inside `dir` that matter; absent: any entry. */
  names?: readonly string[];
  /** What a change means, e.g. the collectors to rerun. */
  tags: readonly string[];
}

/**
 * Something no file event announces (a process's environment in /proc), polled: `poll()` returns a
 * cheap signature every `intervalMs`; a signature different from the previous one fires `tags`.
 * The first signature is the baseline; a poll that throws counts as the signature `error:<message>`.
 */
export interface PollTarget {
  poll(): Promise<string>;
  intervalMs: number;
  tags: readonly string[];
}

export type WatchTarget = DirectoryTarget | PollTarget;

function isPollTarget(target: WatchTarget): target is PollTarget {
  return 'poll' in target;
}

export interface WatcherLogger {
  debug(object: object, message: string): void;
  warn(object: object, message: string): void;
}

export interface ChangeWatcherOptions {
  targets: readonly WatchTarget[];
  onChange(tags: ReadonlySet<string>): void;
  debounceMs?: number;
  maxWaitMs?: number;
  rearmMs?: number;
  logger?: WatcherLogger;
}

export interface ChangeWatcher {
  /** Resolves once every existing directory is watched (the first arming pass). */
  readonly ready: Promise<void>;
  /** Directories currently watched. */
  readonly watching: readonly string[];
  close(): void;
}

interface DirWatch {
  dir: string;
  rules: { names: ReadonlySet<string> | undefined; tags: readonly string[] }[];
  watcher: FSWatcher | undefined;
  ino: number | undefined;
  /** Arming was tried before: a later successful arm means the directory appeared or was replaced. */
  attempted: boolean;
  arming: boolean;
}

export function createChangeWatcher({
  targets,
  onChange,
  debounceMs = DEFAULT_DEBOUNCE_MS,
  maxWaitMs = DEFAULT_MAX_WAIT_MS,
  rearmMs = DEFAULT_REARM_MS,
  logger,
}: ChangeWatcherOptions): ChangeWatcher {
  const dirs = new Map<string, DirWatch>();
  const polls = targets.filter(isPollTarget);
  for (const target of targets) {
    if (isPollTarget(target)) continue;
    let entry = dirs.get(target.dir);
    if (!entry) {
      entry = { dir: target.dir, rules: [], watcher: undefined, ino: undefined, attempted: false, arming: false };
      dirs.set(target.dir, entry);
    }
    entry.rules.push({ names: target.names ? new Set(target.names) : undefined, tags: target.tags });
  }

  let closed = false;
  let pending = new Set<string>();
  let firstEventAt = 0;
  let timer: NodeJS.Timeout | undefined;

  const flush = () => {
    timer = undefined;
    const tags = pending;
    pending = new Set();
    if (!closed && tags.size > 0) onChange(tags);
  };

  const fire = (tags: Iterable<string>) => {
    const now = Date.now();
    if (pending.size === 0) firstEventAt = now;
    for (const tag of tags) pending.add(tag);
    if (timer) clearTimeout(timer);
    const wait = Math.max(0, Math.min(debounceMs, firstEventAt + maxWaitMs - now));
    timer = setTimeout(flush, wait);
  };

  const disarm = (entry: DirWatch) => {
    entry.watcher?.close();
    entry.watcher = undefined;
    entry.ino = undefined;
  };

  /** After a rename event: if the watched directory itself was moved or deleted, watch it again. */
  const checkIdentity = async (entry: DirWatch) => {
    const ino = entry.ino;
    try {
      const info = await stat(entry.dir);
      if (info.ino === ino) return;
    } catch {
      // gone
    }
    if (closed || entry.ino !== ino) return;
    logger?.debug({ dir: entry.dir }, 'watched directory was replaced or removed; re-arming');
    disarm(entry);
    void arm(entry);
  };

  const arm = async (entry: DirWatch) => {
    if (closed || entry.watcher || entry.arming) return;
    entry.arming = true;
    try {
      const info = await stat(entry.dir);
      if (!info.isDirectory() || closed || entry.watcher) return;
      const watcher = watch(entry.dir, { persistent: false }, (eventType, filename) => {
        const name = filename === null ? undefined : String(filename);
        const tags = new Set<string>();
        for (const rule of entry.rules) {
          if (!rule.names || name === undefined || rule.names.has(name)) for (const tag of rule.tags) tags.add(tag);
        }
        if (tags.size > 0) fire(tags);
        if (eventType === 'rename') void checkIdentity(entry);
      });
      watcher.on('error', (error) => {
        logger?.debug({ dir: entry.dir, err: error.message }, 'directory watch failed; re-arming later');
        if (entry.watcher === watcher) disarm(entry);
      });
      entry.watcher = watcher;
      entry.ino = info.ino;
      if (entry.attempted) {
        // The directory appeared or was replaced: whatever it holds now may be new.
        fire(entry.rules.flatMap((rule) => rule.tags));
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        logger?.warn({ dir: entry.dir, err: (error as Error).message }, 'cannot watch directory');
      }
    } finally {
      entry.attempted = true;
      entry.arming = false;
    }
  };

  const pollTimers = polls.map((target) => {
    let last: string | undefined;
    let running = false;
    const pollOnce = async () => {
      if (running || closed) return;
      running = true;
      let signature: string;
      try {
        signature = await target.poll();
      } catch (error) {
        signature = `error:${(error as Error).message}`;
      } finally {
        running = false;
      }
      if (closed) return;
      if (last !== undefined && signature !== last) {
        logger?.debug({ tags: target.tags }, 'polled state changed');
        fire(target.tags);
      }
      last = signature;
    };
    const first = pollOnce();
    const timer = setInterval(() => void pollOnce(), target.intervalMs);
    timer.unref();
    return { timer, first };
  });

  const ready = Promise.all([
    ...[...dirs.values()].map((entry) => arm(entry)),
    ...pollTimers.map((poll) => poll.first),
  ]).then(() => undefined);
  const rearmTimer = setInterval(() => {
    for (const entry of dirs.values()) if (!entry.watcher) void arm(entry);
  }, rearmMs);
  rearmTimer.unref();

  return {
    ready,
    get watching() {
      return [...dirs.values()].filter((entry) => entry.watcher).map((entry) => entry.dir);
    },
    close() {
      closed = true;
      clearInterval(rearmTimer);
      for (const poll of pollTimers) clearInterval(poll.timer);
      if (timer) clearTimeout(timer);
      for (const entry of dirs.values()) disarm(entry);
    },
  };
}
