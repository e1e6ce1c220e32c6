/**
 * Which TLS versions each `watch.tls` endpoint accepts -> `security.tls["<host:port>"].accepts`, a
 * list in version order (`["TLSv1.2", "TLSv1.3"]`): one handshake per version with the client
 * pinned to it (minVersion = maxVersion). OpenSSL 3's default security level makes Node refuse TLS
 * 1.0 and 1.1 on the client side, so those two probes use `DEFAULT@SECLEVEL=0`: what is measured is
 * the server's answer, not our client's policy. A version counts as refused when the TCP connection
 * was made and the handshake failed; when no probe could connect at all, `error` holds the code
 * (ECONNREFUSED, ETIMEDOUT...) instead. Certificates are not verified (only versions are asked).
 */
import { isIP } from 'node:net';
import { connect, type SecureVersion, type TLSSocket } from 'node:tls';
import { type FactMap, factPath } from '@envparity/shared';
import { parseEndpoint } from './network-tls.js';

export const TLS_VERSIONS: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
export const DEFAULT_TLS_PROBE_TIMEOUT_MS = 3_000;

/** accepted: the handshake finished; refused: connected, handshake failed; else a connection error code. */
export type ProbeOutcome = { accepted: true } | { accepted: false; connected: boolean; code: string };

export interface TlsProbeOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** One handshake pinned to `version`; never rejects. */
export function probeTlsVersion(
  host: string,
  port: number,
  version: SecureVersion,
  { timeoutMs = DEFAULT_TLS_PROBE_TIMEOUT_MS, signal }: TlsProbeOptions = {},
): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    let connected = false;
    let socket: TLSSocket | undefined;
    const finish = (outcome: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket?.destroy();
      resolve(outcome);
    };
    const onAbort = () => finish({ accepted: false, connected, code: 'ECANCELLED' });
    const timer = setTimeout(() => finish({ accepted: false, connected, code: 'ETIMEDOUT' }), timeoutMs);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const legacy = version === 'TLSv1' || version === 'TLSv1.1';
    socket = connect({
      host,
      port,
      ...(isIP(host) ? {} : { servername: host }),
      rejectUnauthorized: false,
      minVersion: version,
      maxVersion: version,
      ...(legacy ? { ciphers: 'DEFAULT@SECLEVEL=0' } : {}),
    });
    socket.once('connect', () => {
      connected = true;
    });
    socket.once('secureConnect', () => finish({ accepted: true }));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      finish({ accepted: false, connected, code: error.code ?? error.message }),
    );
  });
}

/** `security.tls[endpoint].accepts` (or `.error`) for each endpoint; probe errors go to `reportError`. */
export async function collectTlsVersionFacts(
  endpoints: readonly string[],
  options: TlsProbeOptions = {},
  reportError?: (message: string) => void,
): Promise<FactMap> {
  const facts: FactMap = {};
  await Promise.all(
    [...new Set(endpoints)].map(async (endpoint) => {
      let target: { host: string; port: number };
      try {
        target = parseEndpoint(endpoint);
      } catch {
        facts[factPath('security', 'tls', endpoint, 'error')] = 'EINVAL';
        return;
      }
      // In parallel: the pass has one collector timeout (10 s by default) for every security fact.
      const outcomes = await Promise.all(
        TLS_VERSIONS.map((version) => probeTlsVersion(target.host, target.port, version, options)),
      );
      const answered = outcomes.some((outcome) => outcome.accepted || outcome.connected);
      if (!answered) {
        const first = outcomes[0] as Extract<ProbeOutcome, { accepted: false }>;
        facts[factPath('security', 'tls', endpoint, 'error')] = first.code;
        return;
      }
      outcomes.forEach((outcome, index) => {
        // A refusal is an answer; no connection, or a handshake left hanging, is not one.
        if (!outcome.accepted && (!outcome.connected || outcome.code === 'ETIMEDOUT')) {
          reportError?.(
            `security.tls: ${endpoint} ${TLS_VERSIONS[index]}: no answer (${outcome.code}), counted as refused`,
          );
        }
      });
      facts[factPath('security', 'tls', endpoint, 'accepts')] = TLS_VERSIONS.filter(
        (_, index) => outcomes[index]?.accepted,
      );
    }),
  );
  return facts;
}
