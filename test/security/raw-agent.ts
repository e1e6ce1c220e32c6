/** A raw agent-channel client for the security suite: sends any msgpack map, reads decoded answers. */
import { decodeServerMessage, type ServerMessage } from '@envparity/shared';
import { pack } from 'msgpackr';
import WebSocket from 'ws';

export class RawAgent {
  private readonly inbox: ServerMessage[] = [];
  private waiters: (() => void)[] = [];
  closed: { code: number; reason: string } | undefined;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.inbox.push(decodeServerMessage(new Uint8Array(data as Buffer)));
      for (const wake of this.waiters.splice(0)) wake();
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static async connect(url: string): Promise<RawAgent> {
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new RawAgent(socket);
  }

  send(value: Record<string, unknown>): void {
    this.socket.send(pack(value), { binary: true });
  }

  async next<T extends ServerMessage['type']>(type: T): Promise<Extract<ServerMessage, { type: T }>> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const index = this.inbox.findIndex((m) => m.type === type);
      if (index >= 0) return this.inbox.splice(index, 1)[0] as Extract<ServerMessage, { type: T }>;
      if (this.closed) throw new Error(`closed ${this.closed.code} ${this.closed.reason} before ${type}`);
      if (Date.now() > deadline) throw new Error(`no ${type} within 10 s`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  async waitClosed(): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + 10_000;
    while (!this.closed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    if (!this.closed) throw new Error('not closed within 10 s');
    return this.closed;
  }
}
