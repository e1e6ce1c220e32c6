/**
 * The fleet: N simulated agents in one process, each a WebSocket speaking the real agent channel
 * (docs/PROTOCOL.md): enroll with the enroll secret, hello, welcome, a full report of every
 * category, then once per interval either a heartbeat or, for a configurable share of hosts per
 * minute, a one-path delta report with the category fingerprint; every report awaits its ack.
 *
 * Scale tricks, so one process can drive 10,000+ sockets without becoming the bottleneck:
 * - connects are staggered over a ramp and capped in flight (no SYN flood on the listen backlog);
 * - one timer wheel drives every agent's interval instead of 10,000 timers;
 * - full reports splice pre-encoded shared category maps (frames.ts); the heartbeat is one frame;
 * - an agent keeps a dozen numbers and its socket; its facts are rebuilt from the model on demand.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import {
  categoryOf,
  decodeServerMessage,
  encodeMessage,
  type FactValue,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  type ReportMessage,
  type ServerMessage,
} from '@envparity/shared';
import WebSocket from 'ws';
import { createFleetModel, type FleetModel, type FleetModelOptions } from './fleet-model.js';
import { cachedFingerprint, encodeFullReport, heartbeatFrame } from './frames.js';
import { createLatencyHistogram, type HistogramSnapshot } from './latency-histogram.js';
import { createRandom, hashSeed } from './random.js';

export const DEFAULT_INTERVAL_SECONDS = 60;
/** Share of hosts that change one path per minute. */
export const DEFAULT_CHANGE_RATE = 0.01;
export const DEFAULT_MAX_CONNECTING = 1000;
export const DEFAULT_TICK_MS = 100;
export const DEFAULT_RECONNECT_BASE_MS = 1000;
export const DEFAULT_RECONNECT_CAP_MS = 30_000;
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 30_000;
/** The aggregator refused this host for good: reconnecting would only hammer it. */
const FATAL_CLOSE_CODES = new Set([4010, 4011, 4012, 4040]);

export interface FleetOptions {
  /** The agent channel, e.g. `ws://127.0.0.1:7300/api/v1/agent`. */
  url: string;
  /** Several aggregators' channels: agent i connects to `urls[i % urls.length]` (instead of `url`). */
  urls?: readonly string[];
  agents: number;
  enrollSecret: string;
  /** Index of the first simulated host (to split a fleet over several processes). */
  firstIndex?: number;
  intervalSeconds?: number;
  /** Share of hosts that change one path per minute (0.01 = 1%). */
  changeRatePerMinute?: number;
  /** Connects are spread evenly over this many seconds; 0 = as fast as `maxConnecting` allows. */
  rampSeconds?: number;
  /** Most handshakes in flight at once. */
  maxConnecting?: number;
  seed?: number;
  model?: Omit<FleetModelOptions, 'seed'>;
  reconnectBaseMs?: number;
  reconnectCapMs?: number;
  handshakeTimeoutMs?: number;
  perMessageDeflate?: boolean;
  /** Source addresses to spread sockets over (e.g. 127.0.0.2..) when one runs out of ports. */
  localAddresses?: readonly string[];
  tickMs?: number;
}

export interface FleetStats {
  agents: number;
  elapsedMs: number;
  /** Agents whose socket is open (welcomed or still in enroll/hello). */
  open: number;
  /** Agents welcomed and not disconnected since. */
  connected: number;
  connecting: number;
  enrolled: number;
  /** Agents whose initial full report is acknowledged. */
  fullAcked: number;
  /** From the fleet's start until every agent's initial full report was acknowledged. */
  stormMs: number | null;
  /** From the fleet's start until every agent was welcomed at least once. */
  allWelcomedMs: number | null;
  connectAttempts: number;
  fullReportsSent: number;
  deltaReportsSent: number;
  heartbeatsSent: number;
  acks: number;
  resyncs: number;
  collects: number;
  bytesSent: number;
  closes: Record<string, number>;
  errors: Record<string, number>;
  /** Client-side report -> ack round trips. */
  fullRtt: HistogramSnapshot;
  deltaRtt: HistogramSnapshot;
  /** What the aggregator asked for in `welcome.heartbeatSeconds` (last seen). */
  heartbeatSeconds: number | null;
  process: {
    rssMb: number;
    cpuUserMs: number;
    cpuSystemMs: number;
    eventLoopUtilization: number;
    loopDelayP99Ms: number;
  };
}

export interface Fleet {
  stats(): FleetStats;
  /**
   * Makes up to `count` welcomed agents with no report in flight send one changed report now
   * (as their interval would, but at once: "one more report after settling"). Returns how many did.
   */
  change(count: number): number;
  /**
   * Makes the agent of host `index` change `path` to `value`: one delta report, sent at once when
   * the agent is welcomed, its first report acknowledged and nothing in flight, else as soon as
   * that holds (a planted change after start, e.g. an emergency change: never part of the first
   * report). Returns false for an index this fleet does not run.
   */
  setFact(index: number, path: string, value: FactValue): boolean;
  /** Planted changes (`setFact`) not yet sent. */
  pendingFacts(): number;
  /** Closes every socket (1000) and stops all timers; resolves with the final stats. */
  stop(timeoutMs?: number): Promise<FleetStats>;
}

const State = { idle: 0, connecting: 1, enrolling: 2, hello: 3, ready: 4, stopped: 5 } as const;
type AgentState = (typeof State)[keyof typeof State];
const Pending = { none: 0, initial: 1, full: 2, delta: 3 } as const;
type PendingKind = (typeof Pending)[keyof typeof Pending];

/** Everything one simulated agent keeps: a few numbers, its token and its socket. */
interface SimAgent {
  index: number;
  state: AgentState;
  ws: WebSocket | undefined;
  token: string | undefined;
  seq: number;
  ackedSeq: number;
  pendingSeq: number;
  pendingKind: PendingKind;
  pendingSentAt: number;
  initialAcked: boolean;
  welcomedOnce: boolean;
  scheduled: boolean;
  attempt: number;
  /** Paths this host changed since it booted (most hosts: none). */
  overrides: Map<string, FactValue> | undefined;
  /** Planted changes (`setFact`) not reported yet. */
  planned: Map<string, FactValue> | undefined;
}

const MAX_ERROR_KINDS = 30;

export function startFleet(options: FleetOptions): Fleet {
  const {
    url,
    urls = [url],
    agents: count,
    enrollSecret,
    firstIndex = 0,
    intervalSeconds = DEFAULT_INTERVAL_SECONDS,
    changeRatePerMinute = DEFAULT_CHANGE_RATE,
    rampSeconds = 0,
    maxConnecting = DEFAULT_MAX_CONNECTING,
    seed = 1,
    reconnectBaseMs = DEFAULT_RECONNECT_BASE_MS,
    reconnectCapMs = DEFAULT_RECONNECT_CAP_MS,
    handshakeTimeoutMs = DEFAULT_HANDSHAKE_TIMEOUT_MS,
    perMessageDeflate = false,
    localAddresses = [],
    tickMs = DEFAULT_TICK_MS,
  } = options;
  if (!Number.isInteger(count) || count < 1) throw new RangeError('agents must be a positive integer');
  if (!(intervalSeconds > 0)) throw new RangeError('intervalSeconds must be positive');
  const model: FleetModel = createFleetModel({ ...options.model, seed });
  const random = createRandom(hashSeed(seed, 'fleet', firstIndex));
  const changeProbability = Math.min(1, changeRatePerMinute * (intervalSeconds / 60));
  const startedAt = performance.now();
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  const eluStart = performance.eventLoopUtilization();
  const cpuStart = process.cpuUsage();

  const agents: SimAgent[] = Array.from({ length: count }, (_, i) => ({
    index: firstIndex + i,
    state: State.idle,
    ws: undefined,
    token: undefined,
    seq: 0,
    ackedSeq: 0,
    pendingSeq: 0,
    pendingKind: Pending.none,
    pendingSentAt: 0,
    initialAcked: false,
    welcomedOnce: false,
    scheduled: false,
    attempt: 0,
    overrides: undefined,
    planned: undefined,
  }));

  const counters = {
    open: 0,
    connected: 0,
    connecting: 0,
    enrolled: 0,
    fullAcked: 0,
    welcomed: 0,
    connectAttempts: 0,
    fullReportsSent: 0,
    deltaReportsSent: 0,
    heartbeatsSent: 0,
    acks: 0,
    resyncs: 0,
    collects: 0,
    bytesSent: 0,
  };
  let stormMs: number | null = null;
  let allWelcomedMs: number | null = null;
  let heartbeatSeconds: number | null = null;
  const closes: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const fullRtt = createLatencyHistogram();
  const deltaRtt = createLatencyHistogram();
  let stopping = false;

  const countError = (kind: string) => {
    const key = kind.slice(0, 120);
    if (errors[key] !== undefined || Object.keys(errors).length < MAX_ERROR_KINDS) errors[key] = (errors[key] ?? 0) + 1;
    else errors.other = (errors.other ?? 0) + 1;
  };

  // --- sending ----------------------------------------------------------------------------------

  const send = (agent: SimAgent, frame: Uint8Array) => {
    const ws = agent.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(frame, { binary: true });
    counters.bytesSent += frame.length;
    return true;
  };

  const sendHello = (agent: SimAgent) => {
    const host = model.host(agent.index);
    const fingerprints: Record<string, string> = {};
    if (agent.initialAcked) {
      for (const [category, map] of Object.entries(model.categories(host, agent.overrides))) {
        fingerprints[category] = cachedFingerprint(map);
      }
    }
    agent.state = State.hello;
    send(
      agent,
      encodeMessage({
        type: 'hello',
        v: PROTOCOL_VERSION,
        token: agent.token as string,
        hostId: host.hostId,
        environment: host.environment,
        labels: host.labels,
        agentVersion: model.agentVersion,
        lastAckedSeq: agent.ackedSeq,
        fingerprints,
      }),
    );
  };

  const sendFull = (agent: SimAgent, categories: readonly string[] | undefined) => {
    const all = model.categories(model.host(agent.index), agent.overrides);
    const full: Record<string, (typeof all)[string]> = {};
    for (const category of categories ?? Object.keys(all)) {
      const map = all[category];
      if (map) full[category] = map;
    }
    if (Object.keys(full).length === 0) return;
    const seq = ++agent.seq;
    if (send(agent, encodeFullReport({ seq, observedAt: Date.now(), full }))) {
      agent.pendingSeq = seq;
      agent.pendingKind = agent.initialAcked ? Pending.full : Pending.initial;
      agent.pendingSentAt = performance.now();
      counters.fullReportsSent++;
    }
  };

  const sendDelta = (agent: SimAgent) => {
    const host = model.host(agent.index);
    const change = model.change(host, random, agent.overrides);
    agent.overrides ??= new Map();
    agent.overrides.set(change.path, change.value);
    const after = model.categories(host, agent.overrides)[change.category] ?? {};
    const seq = ++agent.seq;
    const message: ReportMessage = {
      type: 'report',
      seq,
      observedAt: Date.now(),
      delta: { [change.category]: { set: { [change.path]: change.value }, unset: [] } },
      fingerprints: { [change.category]: cachedFingerprint(after) },
    };
    if (send(agent, encodeMessage(message))) {
      agent.pendingSeq = seq;
      agent.pendingKind = Pending.delta;
      agent.pendingSentAt = performance.now();
      counters.deltaReportsSent++;
    }
  };

  /** Sends the planted changes as one delta report, when the agent may send one. */
  const sendPlanned = (agent: SimAgent): boolean => {
    const planned = agent.planned;
    if (!planned || planned.size === 0) return false;
    if (agent.state !== State.ready || !agent.initialAcked || agent.pendingSeq !== 0) return false;
    if (agent.ws?.readyState !== WebSocket.OPEN) return false;
    const delta: NonNullable<ReportMessage['delta']> = {};
    agent.overrides ??= new Map();
    for (const [path, value] of planned) {
      const category = categoryOf(path);
      delta[category] ??= { set: {}, unset: [] };
      delta[category].set[path] = value;
      agent.overrides.set(path, value);
    }
    planned.clear();
    const after = model.categories(model.host(agent.index), agent.overrides);
    const fingerprints: Record<string, string> = {};
    for (const category of Object.keys(delta)) fingerprints[category] = cachedFingerprint(after[category] ?? {});
    const seq = ++agent.seq;
    if (!send(agent, encodeMessage({ type: 'report', seq, observedAt: Date.now(), delta, fingerprints }))) return false;
    agent.pendingSeq = seq;
    agent.pendingKind = Pending.delta;
    agent.pendingSentAt = performance.now();
    counters.deltaReportsSent++;
    return true;
  };

  const sendHeartbeat = (agent: SimAgent) => {
    if (send(agent, heartbeatFrame())) counters.heartbeatsSent++;
  };

  // --- receiving --------------------------------------------------------------------------------

  const onWelcome = (agent: SimAgent, message: Extract<ServerMessage, { type: 'welcome' }>) => {
    agent.state = State.ready;
    agent.attempt = 0;
    counters.connected++;
    if (message.heartbeatSeconds !== undefined) heartbeatSeconds = message.heartbeatSeconds;
    if (!agent.welcomedOnce) {
      agent.welcomedOnce = true;
      counters.welcomed++;
      if (counters.welcomed === count) allWelcomedMs = performance.now() - startedAt;
    }
    // A report sent before a disconnect may have been stored without its ack reaching us.
    if (agent.pendingSeq > 0 && message.lastSeq >= agent.pendingSeq) settle(agent, agent.pendingSeq, false);
    agent.pendingSeq = 0;
    agent.pendingKind = Pending.none;
    if (message.lastSeq > agent.seq) agent.seq = message.lastSeq;
    if (!agent.initialAcked) sendFull(agent, undefined);
    else if (message.need.length > 0) sendFull(agent, message.need);
    else sendPlanned(agent);
    if (!agent.scheduled) {
      agent.scheduled = true;
      // A random phase, as real agents started at random times: the steady state stays smooth.
      (slots[Math.floor(random() * slots.length)] as number[]).push(agent.index - firstIndex);
    }
  };

  const settle = (agent: SimAgent, seq: number, measured: boolean) => {
    agent.ackedSeq = Math.max(agent.ackedSeq, seq);
    if (agent.pendingSeq === 0 || seq < agent.pendingSeq) return;
    if (measured) {
      const rtt = performance.now() - agent.pendingSentAt;
      (agent.pendingKind === Pending.delta ? deltaRtt : fullRtt).record(rtt);
    }
    if (agent.pendingKind === Pending.initial && !agent.initialAcked) {
      agent.initialAcked = true;
      counters.fullAcked++;
      if (counters.fullAcked === count) stormMs = performance.now() - startedAt;
    }
    agent.pendingSeq = 0;
    agent.pendingKind = Pending.none;
  };

  const onMessage = (agent: SimAgent, ws: WebSocket, data: WebSocket.RawData) => {
    if (agent.ws !== ws) return;
    let message: ServerMessage;
    try {
      message = decodeServerMessage(data as Buffer);
    } catch (error) {
      countError(`decode: ${(error as Error).message}`);
      return;
    }
    switch (message.type) {
      case 'enrolled':
        agent.token = message.token;
        counters.enrolled++;
        sendHello(agent);
        break;
      case 'welcome':
        onWelcome(agent, message);
        break;
      case 'ack':
        counters.acks++;
        settle(agent, message.seq, true);
        sendPlanned(agent);
        break;
      case 'resync':
        counters.resyncs++;
        sendFull(agent, message.categories);
        break;
      case 'collect':
        // Nothing changed on a simulated host: the answer to "collect now" is "no news".
        counters.collects++;
        sendHeartbeat(agent);
        break;
      case 'error':
        countError(`server error ${message.code}: ${message.message}`);
        break;
    }
  };

  // --- connections ------------------------------------------------------------------------------

  const reconnectTimers = new Set<NodeJS.Timeout>();

  const connect = (agent: SimAgent) => {
    if (stopping) return;
    agent.state = State.connecting;
    counters.connecting++;
    counters.connectAttempts++;
    const localAddress =
      localAddresses.length > 0 ? localAddresses[(agent.index - firstIndex) % localAddresses.length] : undefined;
    const ws = new WebSocket(urls[agent.index % urls.length] ?? url, {
      perMessageDeflate,
      handshakeTimeout: handshakeTimeoutMs,
      maxPayload: MAX_FRAME_BYTES,
      ...(localAddress ? { localAddress } : {}),
    });
    agent.ws = ws;
    let opened = false;
    ws.on('open', () => {
      opened = true;
      counters.connecting--;
      counters.open++;
      if (agent.ws !== ws) return;
      if (agent.token === undefined) {
        agent.state = State.enrolling;
        const host = model.host(agent.index);
        send(
          agent,
          encodeMessage({
            type: 'enroll',
            v: PROTOCOL_VERSION,
            enrollSecret,
            hostId: host.hostId,
            environment: host.environment,
            labels: host.labels,
            agentVersion: model.agentVersion,
          }),
        );
      } else {
        sendHello(agent);
      }
    });
    ws.on('message', (data) => onMessage(agent, ws, data));
    ws.on('error', (error) => {
      if (!stopping) countError(error.message.replace(/\d+\.\d+\.\d+\.\d+:\d+/g, 'ADDR'));
    });
    ws.on('close', (code, reason) => {
      if (opened) counters.open--;
      else counters.connecting--;
      if (agent.ws !== ws) return;
      if (agent.state === State.ready) counters.connected--;
      agent.ws = undefined;
      if (stopping) {
        agent.state = State.stopped;
        return;
      }
      const key = `${code}${reason.length > 0 ? ` ${reason.toString('utf8').slice(0, 60)}` : ''}`;
      closes[key] = (closes[key] ?? 0) + 1;
      if (FATAL_CLOSE_CODES.has(code)) {
        agent.state = State.stopped;
        return;
      }
      agent.state = State.idle;
      // Capped exponential backoff with full jitter, as the real agent does.
      const delay = random() * Math.min(reconnectCapMs, reconnectBaseMs * 2 ** agent.attempt);
      agent.attempt = Math.min(agent.attempt + 1, 20);
      const timer = setTimeout(() => {
        reconnectTimers.delete(timer);
        connect(agent);
      }, delay);
      reconnectTimers.add(timer);
    });
  };
  // Ramp: agent i may connect once i/count of the ramp has passed, with at most maxConnecting in flight.
  let nextToConnect = 0;
  const pump = setInterval(() => {
    const elapsed = performance.now() - startedAt;
    const allowed = rampSeconds > 0 ? Math.min(count, Math.floor((elapsed / (rampSeconds * 1000)) * count) + 1) : count;
    while (nextToConnect < allowed && counters.connecting < maxConnecting && !stopping) {
      connect(agents[nextToConnect++] as SimAgent);
    }
    if (nextToConnect >= count) clearInterval(pump);
  }, 5);

  // Timer wheel: one slot per tick over the interval; each welcomed agent sits in one slot.
  const slots: number[][] = Array.from(
    { length: Math.max(1, Math.round((intervalSeconds * 1000) / tickMs)) },
    () => [],
  );
  let processedTick = Math.floor((performance.now() - startedAt) / tickMs);
  const wheel = setInterval(() => {
    const target = Math.floor((performance.now() - startedAt) / tickMs);
    while (processedTick < target && !stopping) {
      processedTick++;
      for (const i of slots[processedTick % slots.length] as number[]) {
        const agent = agents[i] as SimAgent;
        if (agent.state !== State.ready) continue;
        if (sendPlanned(agent)) continue;
        if (agent.pendingSeq === 0 && agent.initialAcked && random() < changeProbability) sendDelta(agent);
        else sendHeartbeat(agent);
      }
    }
  }, tickMs);

  const stats = (): FleetStats => {
    const elu = performance.eventLoopUtilization(eluStart);
    const cpu = process.cpuUsage(cpuStart);
    return {
      agents: count,
      elapsedMs: Math.round(performance.now() - startedAt),
      ...counters,
      stormMs: stormMs === null ? null : Math.round(stormMs),
      allWelcomedMs: allWelcomedMs === null ? null : Math.round(allWelcomedMs),
      closes: { ...closes },
      errors: { ...errors },
      fullRtt: fullRtt.snapshot(),
      deltaRtt: deltaRtt.snapshot(),
      heartbeatSeconds,
      process: {
        rssMb: Math.round(process.memoryUsage.rss() / 1048576),
        cpuUserMs: Math.round(cpu.user / 1000),
        cpuSystemMs: Math.round(cpu.system / 1000),
        eventLoopUtilization: Math.round(elu.utilization * 1000) / 1000,
        loopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e4) / 100,
      },
    };
  };

  const stop = async (timeoutMs = 5000): Promise<FleetStats> => {
    if (!stopping) {
      stopping = true;
      clearInterval(pump);
      clearInterval(wheel);
      for (const timer of reconnectTimers) clearTimeout(timer);
      for (const agent of agents) agent.ws?.close(1000, 'agent shutting down');
    }
    const deadline = performance.now() + timeoutMs;
    while (agents.some((a) => a.ws !== undefined) && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (const agent of agents) {
      agent.ws?.terminate();
      agent.ws = undefined;
    }
    const final = stats();
    loopDelay.disable();
    return final;
  };

  const change = (wanted: number): number => {
    let sent = 0;
    for (const agent of agents) {
      if (sent >= wanted) break;
      if (agent.state !== State.ready || agent.pendingSeq !== 0 || !agent.initialAcked) continue;
      sendDelta(agent);
      sent++;
    }
    return sent;
  };

  const setFact = (index: number, path: string, value: FactValue): boolean => {
    const agent = agents[index - firstIndex];
    if (agent === undefined || agent.index !== index) return false;
    categoryOf(path);
    agent.planned ??= new Map();
    agent.planned.set(path, value);
    sendPlanned(agent);
    return true;
  };

  const pendingFacts = (): number => agents.reduce((sum, agent) => sum + (agent.planned?.size ?? 0), 0);

  return { stats, stop, change, setFact, pendingFacts };
}
