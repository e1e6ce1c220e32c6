/**
 * Reads whole protocol messages off a socket: buffers what arrives and hands it to a pure decoder
 * (bytes in, a message and its length out, or `undefined` for "not complete yet") until one is
 * complete. A closed or failed socket, or more bytes than a probe should ever need, ends the wait.
 */
import type { Socket } from 'node:net';
import { describeSocketError, endpointLabel } from './tcp-connect.js';

/** A decoder: the first complete message in `buffered` and how many bytes it took, or undefined. */
export type MessageDecoder<T> = (buffered: Buffer) => { value: T; length: number } | undefined;

/** Buffered bytes a probe ever waits on (a 1 MB INFO reply is already absurd). */
export const DEFAULT_MAX_BUFFERED_BYTES = 1024 * 1024;

export class SocketReader {
  #buffered: Buffer = Buffer.alloc(0);
  /** Why no more bytes will come, once that is so. */
  #ended: string | undefined;
  #wake: (() => void) | undefined;

  constructor(socket: Socket, host: string, port: number, maxBytes = DEFAULT_MAX_BUFFERED_BYTES) {
    const label = endpointLabel(host, port);
    socket.on('data', (chunk: Buffer) => {
      this.#buffered = this.#buffered.length ? Buffer.concat([this.#buffered, chunk]) : chunk;
      if (this.#buffered.length > maxBytes) {
        this.#ended ??= `${label} sent over ${maxBytes} bytes without a complete reply`;
        socket.destroy();
      }
      this.#notify();
    });
    socket.on('error', (error) => {
      this.#ended ??=
        (error as NodeJS.ErrnoException).code === undefined ? error.message : describeSocketError(error, host, port);
      this.#notify();
    });
    socket.on('close', () => {
      this.#ended ??= `connection closed by ${label}`;
      this.#notify();
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** The next complete message; rejects when the socket ends first. A decoder's throw propagates. */
  async read<T>(decode: MessageDecoder<T>): Promise<T> {
    for (;;) {
      const decoded = decode(this.#buffered);
      if (decoded) {
        this.#buffered = this.#buffered.subarray(decoded.length);
        return decoded.value;
      }
      if (this.#ended !== undefined) throw new Error(this.#ended);
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }
}
