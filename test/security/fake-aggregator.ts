/**
 * A hostile (or scripted) aggregator for the security suite: a real `ws` server on 127.0.0.1
 * speaking the agent channel, whose answers each test scripts. Every frame the agent sends is kept
 * raw, so a test can check that what reached the wire decodes with the shared decoder.
 */
import type { AddressInfo } from 'node:net';
import { type AgentMessage, decodeAgentMessage, encodeMessage, type ServerMessage } from '@envparity/shared';
import { pack } from 'msgpackr';
import WebSocket, { WebSocketServer } from 'ws';

export interface ReceivedFrame {
  bytes: Buffer;
  /** Decoded with the shared decoder, or the decode error. */
  message: AgentMessage | undefined;
  error: string | undefined;
  connection: number;
  at: number;
}

export interface FakeSession {
  readonly socket: WebSocket;
  readonly connection: number;
  /** Sends a message validated by the shared encoder. */
  send(message: ServerMessage): void;
  /** Sends any msgpack map, bypassing validation (hostile values). */
  sendRaw(value: Record<string, unknown>): void;
  close(code: number, reason: string): void;
}

export interface FakeAggregatorScript {
  /** Called for every decoded agent message; the default answers enroll and hello like a real aggregator. */
  onMessage?(session: FakeSession, message: AgentMessage, fake: FakeAggregator): void;
}

export const FAKE_TOKEN = 'fake-agent-token-0123456789';
export const FAKE_FLEET_KEY = 'fake-fleet-key-0123456789';

export class FakeAggregator {
  readonly frames: ReceivedFrame[] = [];
  readonly sessions: FakeSession[] = [];
  connections = 0;

  private constructor(
    readonly server: WebSocketServer,
    private readonly script: FakeAggregatorScript,
  ) {
    server.on('connection', (socket) => this.onConnection(socket));
  }

  static async start(script: FakeAggregatorScript = {}): Promise<FakeAggregator> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/api/v1/agent' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    return new FakeAggregator(server, script);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Decoded messages of one type, in arrival order. */
  messages<T extends AgentMessage['type']>(type: T): Extract<AgentMessage, { type: T }>[] {
    return this.frames.map((f) => f.message).filter((m): m is Extract<AgentMessage, { type: T }> => m?.type === type);
  }

  /** Answers like a well-behaved aggregator: enrolled for enroll, welcome (lastSeq 0) for hello, ack for reports. */
  static answer(session: FakeSession, message: AgentMessage, welcome: Partial<ServerMessage> = {}): void {
    if (message.type === 'enroll') {
      session.send({ type: 'enrolled', hostId: message.hostId, token: FAKE_TOKEN, fleetKey: FAKE_FLEET_KEY });
    } else if (message.type === 'hello') {
      session.sendRaw({ type: 'welcome', lastSeq: 0, need: [], heartbeatSeconds: 30, ...welcome });
    } else if (message.type === 'report') {
      session.send({ type: 'ack', seq: message.seq });
    }
  }

  private onConnection(socket: WebSocket): void {
    const connection = ++this.connections;
    const session: FakeSession = {
      socket,
      connection,
      send: (message) => {
        if (socket.readyState === WebSocket.OPEN) socket.send(encodeMessage(message), { binary: true });
      },
      sendRaw: (value) => {
        if (socket.readyState === WebSocket.OPEN) socket.send(pack(value), { binary: true });
      },
      close: (code, reason) => socket.close(code, reason),
    };
    this.sessions.push(session);
    socket.on('error', () => undefined);
    socket.on('message', (data) => {
      const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
      let message: AgentMessage | undefined;
      let error: string | undefined;
      try {
        message = decodeAgentMessage(new Uint8Array(bytes));
      } catch (cause) {
        error = (cause as Error).message;
      }
      this.frames.push({ bytes, message, error, connection, at: Date.now() });
      if (message) (this.script.onMessage ?? FakeAggregator.answer)(session, message, this);
    });
  }

  async close(): Promise<void> {
    for (const client of this.server.clients) client.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** An agent config that runs only cheap collectors (the watched env var makes a `config` fact). */
export function minimalAgentConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { watch, disable, ...rest } = extra as { watch?: object; disable?: string[] };
  const watchProjects = Array.isArray((watch as { projects?: unknown } | undefined)?.projects);
  return {
    watch: { envVars: ['ENVPARITY_SECURITY_TEST'], ...(watch ?? {}) },
    disable:
      disable ??
      [
        'hardware',
        'runtime',
        'library',
        'app',
        'network',
        'container',
        'probe',
        'host',
        'process',
        'os',
        'security',
      ].filter((name) => !(watchProjects && name === 'app')),
    ...rest,
  };
}
