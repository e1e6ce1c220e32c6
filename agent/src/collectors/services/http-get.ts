/**
 * One GET for the http probe with node:http/https: no redirects followed (a 301 is the answer),
 * a fresh connection closed afterwards (no keep-alive pool left behind), the body read only when
 * asked and only up to a limit. TLS is not verified here: the status is read from a server with a
 * self-signed certificate too, and the certificate's trust is reported separately (`tls.*`).
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { describeSocketError, endpointLabel } from './tcp-connect.js';

/** The most body read for `versionJsonPath`; a version endpoint answers in far less. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** Present when the body was asked for and fit under the limit. */
  body?: Buffer;
  /** Why the body asked for is absent. */
  bodyError?: string;
}

/** Host and port of a URL, brackets of an IPv6 host removed. */
export function urlEndpoint(url: URL): { host: string; port: number } {
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}

function describeRequestError(error: NodeJS.ErrnoException, url: URL): string {
  const { host, port } = urlEndpoint(url);
  const code = error.code ?? '';
  if (url.protocol === 'https:' && (code.startsWith('ERR_SSL') || code === 'EPROTO' || code.includes('TLS'))) {
    return `TLS handshake with ${endpointLabel(host, port)} failed (${code})`;
  }
  if (code.startsWith('HPE_')) {
    return `${endpointLabel(host, port)} did not answer in HTTP (${code})`;
  }
  if (code === 'ECONNRESET' && error.message === 'socket hang up') {
    return `${endpointLabel(host, port)} closed the connection without an answer`;
  }
  return describeSocketError(error, host, port);
}

/** GETs `url`; rejects with a plain-words reason when no HTTP answer came. */
export function httpGet(
  url: URL,
  { signal, readBody }: { signal: AbortSignal; readBody: boolean },
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(url, {
      method: 'GET',
      agent: false,
      signal,
      headers: { 'user-agent': 'envparity-agent', accept: readBody ? 'application/json' : '*/*' },
      ...(url.protocol === 'https:' ? { rejectUnauthorized: false } : {}),
    });
    request.once('error', (error: NodeJS.ErrnoException) => reject(new Error(describeRequestError(error, url))));
    request.once('response', (response) => {
      const answer: HttpAnswer = { status: response.statusCode ?? 0, headers: response.headers };
      if (!readBody) {
        response.destroy();
        return resolve(answer);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          response.destroy();
          resolve({ ...answer, bodyError: `the response body is over ${MAX_BODY_BYTES} bytes` });
        } else chunks.push(chunk);
      });
      response.once('end', () => resolve({ ...answer, body: Buffer.concat(chunks) }));
      // After `end` this changes nothing; before it, the server cut the body short.
      response.once('close', () => resolve({ ...answer, bodyError: 'the response body was cut off' }));
      response.on('error', () => {});
    });
    request.end();
  });
}
