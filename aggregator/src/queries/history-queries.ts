/**
 * Time travel (issue 13 req 5): a host, a baseline, a compare at a past instant, rebuilt from the
 * stored initial states and changes; the environment-wide change feed.
 *
 * What "the state at T" is, and is not:
 * - a host's facts after every change it observed at or before T (the agent's clock), volatile facts
 *   left out (they are not recorded as changes, so their past values are unknown: state-at.ts);
 * - an environment at T is the hosts that are in it now, plus those retired after T, whose stored
 *   history starts at or before T; environment moves are not recorded as history, so a host that
 *   moved counts where it is now (or was when retired). Every such host counts in the baseline:
 *   presence at T is not recorded either;
 * - exceptions judge a past compare as they are now (the question is "would this differ today's way").
 *
 * Cost: an environment's baseline at T reads its changes after T in one indexed query
 * (`listEnvironmentChanges(env, {since})`) and undoes them on the current blobs held in memory;
 * hosts whose history started in another environment (their older changes may carry its stamp)
 * are read one by one. The baseline at T is the baseline of the same hosts now corrected on the
 * paths changed after T (baseline-at.ts): the drift engine's live one when it is provably over the
 * same hosts, else one computed over their current blobs. A change per host then costs its patch
 * and the paths, not hosts x paths.
 */
import { type Classifier, compilePathGlob, type FactMap, fingerprintFacts } from '@envparity/shared';
import { type Baseline, baselineHosts, type CategoryBlob, type HostSnapshot } from '../drift/baseline.js';
import type { EnvironmentState } from '../drift/environment-states.js';
import { ConflictError, InvalidRequestError } from '../errors.js';
import type { FactChange, FactStore, HostView } from '../store/fact-store.js';
import { pastBaseline } from './baseline-at.js';
import type { CompareSide, Comparison, SideRef } from './compare-sides.js';
import type { ChangeCursor, FleetQueries, RecentChanges } from './fleet-queries.js';
import type { PastHost } from './past-baseline.js';
import { PastBaselineCache } from './past-baseline-cache.js';
import { applyPatch, replayChanges, undoPatch, withoutVolatile } from './state-at.js';

export interface HistoryQueriesDeps {
  queries: FleetQueries;
  store: FactStore;
  now?: () => number;
}

/** Most changes one reconstruction reads (undoing more means the instant is too far back to be cheap). */
export const MAX_TIME_TRAVEL_CHANGES = 500_000;
/** Rows a filtered change feed scans for one page before it answers with what it found and a cursor. */
export const MAX_FEED_SCAN_ROWS = 50_000;

export interface HostAt {
  host: HostView;
  at: number;
  historyStartsAt: number;
  /** Facts at `at`, volatile ones left out. */
  facts: FactMap;
  fingerprint: string;
  fingerprints: Record<string, string>;
}

export interface BaselineAt {
  environment: string;
  at: number;
  baseline: Baseline;
  /** Hosts of the environment whose stored history starts after `at` (reported later, or folded): not in it. */
  hostsLeftOut: number;
}

export interface ComparisonAt extends Comparison {
  /** The instant of each side, null for the current state. */
  fromAt: number | null;
  toAt: number | null;
}

export interface ChangeFeedQuery {
  since?: number;
  until?: number;
  before?: ChangeCursor;
  limit: number;
  /** Path glob (`library.*`, `config.**`); a path without wildcards also matches the paths under it. */
  path?: string;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export class HistoryQueries {
  private readonly queries: FleetQueries;
  private readonly store: FactStore;
  readonly now: () => number;

  /** Baselines at T already rebuilt (past-baseline-cache.ts says when one is dropped). */
  private readonly pastBaselines = new PastBaselineCache<BaselineAt>();

  constructor({ queries, store, now = Date.now }: HistoryQueriesDeps) {
    this.queries = queries;
    this.store = store;
    this.now = now;
    store.subscribe((event) => this.pastBaselines.onStoreEvent(event));
  }

  private get classify(): Classifier {
    return this.queries.classify;
  }

  /** InvalidRequestError naming `param` when `at` is in the future. */
  assertPast(at: number, param = 'at'): void {
    const now = this.now();
    if (at > now) {
      throw new InvalidRequestError(
        `\`${param}\` (${iso(at)}) is in the future (now is ${iso(now)}): time travel reads the past; leave \`${param}\` out for the current state`,
        param,
      );
    }
  }

  // --- one host --------------------------------------------------------------------------------

  /**
   * A host (retired ones too) as of `at`. ConflictError when its stored history starts later (it
   * first reported later, or older history was folded by retention or the per-host quota).
   * `method` forces one reconstruction (tests prove them equal); by default the cheaper one.
   */
  async hostAt(
    hostId: string,
    at: number,
    { param = 'at', method }: { param?: string; method?: 'replay' | 'undo' } = {},
  ): Promise<HostAt> {
    this.assertPast(at, param);
    const host = this.queries.host(hostId);
    const initial = await this.store.getInitialState(host.id);
    if (!initial) throw new ConflictError(`host ${JSON.stringify(host.id)} has no history: it never reported facts`);
    if (at < initial.at) {
      throw new ConflictError(
        `host ${JSON.stringify(host.id)} has no history before ${iso(initial.at)}: it first reported then, or older ` +
          'history was folded into that state (retention.changes, maxChangesPerHost); ask for `' +
          `${param}\` at or after it`,
      );
    }
    const forwards = method ? method === 'replay' : at - initial.at < this.now() - at;
    let facts: FactMap;
    if (forwards) {
      const changes = await this.readAll((limit) => this.store.listChanges(host.id, { until: at, limit }));
      facts = replayChanges(initial.facts, changes);
    } else {
      const changes = await this.readAll((limit) => this.store.listChanges(host.id, { since: at + 1, limit }));
      facts = applyPatch(this.store.getHostFacts(host.id) ?? {}, undoPatch(changes));
    }
    const visible = withoutVolatile(facts, this.classify);
    const { overall, categories } = fingerprintFacts(visible, this.classify);
    return { host, at, historyStartsAt: initial.at, facts: visible, fingerprint: overall, fingerprints: categories };
  }

  // --- an environment ----------------------------------------------------------------------------

  /** A known environment's baseline at `at`, over the hosts it had then (computeBaseline's rules, ties included). */
  async baselineAt(name: string, at: number, { param = 'at' }: { param?: string } = {}): Promise<BaselineAt> {
    const environment = this.queries.knownEnvironment(name);
    this.assertPast(at, param);
    this.assertRetained(at, param);
    // Buffered reports first: their events may drop a kept baseline.
    await this.store.flush();
    const version = this.store.historyVersion();
    const kept = this.pastBaselines.get(environment, at, version);
    if (kept) return kept;
    const building = this.pastBaselines.begin(environment, at, version);
    let result: BaselineAt | undefined;
    try {
      const live = this.queries.environment(environment);
      const { hosts, hostsLeftOut } = await this.environmentHostsAt(environment, at, live);
      const baseline = pastBaseline(environment, hosts, this.classify, liveBaselineOver(live, hosts));
      result = { environment, at, baseline, hostsLeftOut };
      return result;
    } finally {
      this.pastBaselines.set(building, result, this.store.historyVersion());
    }
  }

  private assertRetained(at: number, param: string): void {
    const edge = this.store.retentionEdge();
    if (edge !== null && at < edge) {
      throw new ConflictError(
        `\`${param}\` (${iso(at)}) is before the retention edge ${iso(edge)}: changes older than retention.changes ` +
          'are folded into a snapshot, so an environment cannot be rebuilt that far back',
      );
    }
  }

  /**
   * The hosts of the environment at `at` (current blobs and undo patches), and how many were left
   * out. A host's current categories are the drift engine's (`live`) when they are the same blobs.
   */
  private async environmentHostsAt(
    environment: string,
    at: number,
    live: EnvironmentState,
  ): Promise<{ hosts: PastHost[]; hostsLeftOut: number }> {
    const members = [...this.store.listHosts(), ...this.store.listRetiredHosts()].filter(
      (host) => host.environment === environment && (host.retiredAt === null || host.retiredAt > at),
    );
    const starts = await this.store.historyStarts();
    const known = members.filter((host) => (starts.get(host.id)?.at ?? Number.POSITIVE_INFINITY) <= at);
    const changesOf = new Map<string, FactChange[]>();
    const wanted = new Set(known.map((host) => host.id));
    const feed = await this.readAll((limit) =>
      this.store.listEnvironmentChanges(environment, { since: at + 1, limit }),
    );
    for (const change of feed) {
      if (!wanted.has(change.hostId)) continue;
      let list = changesOf.get(change.hostId);
      if (!list) {
        list = [];
        changesOf.set(change.hostId, list);
      }
      list.push(change);
    }
    // A host that started elsewhere may have changes after T stamped with its old environment.
    for (const host of known) {
      if (starts.get(host.id)?.environment === environment) continue;
      changesOf.set(host.id, await this.readAll((limit) => this.store.listChanges(host.id, { since: at + 1, limit })));
    }
    const snapshots = new Map<string, HostSnapshot>();
    for (const snapshot of live.hosts) snapshots.set(snapshot.id, snapshot);
    const hosts = known.map((host): PastHost => {
      let current = snapshots.get(host.id)?.categories;
      if (!current || !sameHashes(current, host.categories)) {
        const built = new Map<string, CategoryBlob>();
        for (const [category, hash] of host.categories) {
          built.set(category, { hash, facts: this.store.getBlob(hash) ?? {} });
        }
        current = built;
      }
      return { id: host.id, factsVersion: host.factsVersion, current, patch: undoPatch(changesOf.get(host.id) ?? []) };
    });
    return { hosts, hostsLeftOut: members.length - known.length };
  }

  /** Reads a list of changes whole, refusing one longer than MAX_TIME_TRAVEL_CHANGES. */
  private async readAll(read: (limit: number) => Promise<FactChange[]>): Promise<FactChange[]> {
    const rows = await read(MAX_TIME_TRAVEL_CHANGES + 1);
    if (rows.length > MAX_TIME_TRAVEL_CHANGES) {
      throw new ConflictError(
        `more than ${MAX_TIME_TRAVEL_CHANGES} changes to replay for this instant: pick one closer to now or to the history start`,
      );
    }
    return rows;
  }

  // --- compare -----------------------------------------------------------------------------------

  /**
   * Two sides as `FleetQueries.compare` takes them, each at its instant (undefined: now), judged by
   * the same `compareFacts` call with today's exceptions and secret policy.
   */
  async compareAt(
    from: SideRef,
    to: SideRef,
    {
      fromAt,
      toAt,
      fromParam = 'fromAt',
      toParam = 'toAt',
    }: { fromAt?: number; toAt?: number; fromParam?: string; toParam?: string },
    categories?: readonly string[],
  ): Promise<ComparisonAt> {
    const fromSide = await this.sideAt(from, fromAt, fromParam);
    const toSide = await this.sideAt(to, toAt, toParam);
    const comparison = await this.queries.compareSides(fromSide, toSide, categories);
    return { ...comparison, fromAt: fromAt ?? null, toAt: toAt ?? null };
  }

  private async sideAt(ref: SideRef, at: number | undefined, param: string): Promise<CompareSide> {
    const live = this.queries.compareSide(ref);
    if (at === undefined) return live;
    if (live.kind === 'host') {
      const state = await this.hostAt(live.name, at, { param });
      return { ...live, fingerprint: state.fingerprint, facts: state.facts };
    }
    const { baseline } = await this.baselineAt(live.name, at, { param });
    return {
      ...live,
      fingerprint: baseline.hosts > 0 ? baseline.fingerprint : null,
      facts: baseline.facts,
      ties: baseline.ties,
    };
  }

  // --- the environment-wide change feed ----------------------------------------------------------

  /**
   * A known environment's changes (stamped with it when recorded), newest first, one page after
   * `before` (the pattern of `FleetQueries.recentChanges`: a time and how many rows at that time
   * were shown). With a path filter the page scans at most MAX_FEED_SCAN_ROWS rows, then answers
   * what it found with a cursor to go on from.
   */
  async environmentChanges(name: string, query: ChangeFeedQuery): Promise<RecentChanges & { environment: string }> {
    const environment = this.queries.knownEnvironment(name);
    const matches = pathFilter(query.path);
    const { since, limit, before } = query;
    // The cursor's position: changes at or before `position.at`, past the `position.skip` newest at it.
    let position: ChangeCursor | undefined;
    if (before && (query.until === undefined || before.at <= query.until)) position = { ...before };
    else if (query.until !== undefined) position = { at: query.until, skip: 0 };
    const items: FactChange[] = [];
    const chunk = matches ? Math.min(5000, Math.max(500, limit * 4)) : limit + 1;
    let scanned = 0;
    let more = false;
    const consume = (change: FactChange) => {
      if (position && position.at === change.at) position.skip++;
      else position = { at: change.at, skip: 1 };
      scanned++;
    };
    scan: for (;;) {
      const rows = await this.store.listEnvironmentChanges(environment, {
        order: 'newest',
        ...(since !== undefined ? { since } : {}),
        ...(position ? { until: position.at, offset: position.skip } : {}),
        limit: chunk,
      });
      for (const change of rows) {
        if (matches && !matches(change.path)) {
          consume(change);
          if (scanned >= MAX_FEED_SCAN_ROWS) {
            more = true;
            break scan;
          }
          continue;
        }
        if (items.length === limit) {
          more = true;
          break scan;
        }
        items.push(change);
        consume(change);
      }
      if (rows.length < chunk) break;
    }
    return { environment, items, next: more && position ? position : null };
  }
}

/** Whether blobs are the ones of these content hashes (category -> hash): equal hashes, equal facts. */
function sameHashes(blobs: ReadonlyMap<string, CategoryBlob>, hashes: ReadonlyMap<string, string>): boolean {
  if (blobs.size !== hashes.size) return false;
  for (const [category, blob] of blobs) if (hashes.get(category) !== blob.hash) return false;
  return true;
}

/** Whether two hosts' categories are the same blobs. */
function sameBlobs(a: ReadonlyMap<string, CategoryBlob>, b: ReadonlyMap<string, CategoryBlob>): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [category, blob] of a) if (b.get(category)?.hash !== blob.hash) return false;
  return true;
}

/**
 * The drift engine's baseline (`live`) when it is provably over exactly these hosts as they are now
 * (the same ids, each with the same category blobs), else undefined. It is not when a host is
 * offline past the presence grace, retired after T, has no facts now, or the engine's state
 * predates a change.
 */
function liveBaselineOver(live: EnvironmentState, hosts: readonly PastHost[]): Baseline | undefined {
  // What computeBaseline counted of `live.hosts` (the counted hosts, else all).
  const used = baselineHosts(live.hosts).hosts;
  if (used.length !== hosts.length || live.baseline.hosts !== hosts.length) return undefined;
  const byId = new Map<string, PastHost>();
  for (const host of hosts) byId.set(host.id, host);
  const seen = new Set<string>();
  for (const snapshot of used) {
    const host = byId.get(snapshot.id);
    if (!host || seen.has(snapshot.id) || !sameBlobs(snapshot.categories, host.current)) return undefined;
    seen.add(snapshot.id);
  }
  return seen.size === hosts.length ? live.baseline : undefined;
}

/** A path glob, where a plain path also covers the paths under it (`library.dpkg` -> `library.dpkg.curl`). */
function pathFilter(glob: string | undefined): ((path: string) => boolean) | undefined {
  if (glob === undefined) return undefined;
  const exact = compilePathGlob(glob);
  if (/[*?]/.test(glob)) return (path) => exact.matches(path);
  const below = compilePathGlob(`${glob}.**`);
  return (path) => exact.matches(path) || below.matches(path);
}
