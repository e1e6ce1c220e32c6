/**
 * Certificates of declared TLS endpoints (`watch.tls`, `host:port` or `[v6]:port`) ->
 * `network.tls["<host:port>"].<field>`: `subject`, `issuer` (RDNs in certificate order joined by
 * ", "), `sans` (sorted, `DNS:name` / `IP:addr` / `URI:...`), `notBefore` and `notAfter` (ISO 8601),
 * `sha256` (fingerprint256, colon-separated uppercase hex as openssl prints it), `protocol`
 * (TLSv1.3...), `authorized` (chain and host name verify against the default CAs) and, when not
 * authorized, `authorizationError` (e.g. DEPTH_ZERO_SELF_SIGNED_CERT). The handshake never rejects
 * so the certificate is always recorded. A failed connection records only `error` (error code, or
 * ETIMEDOUT after the timeout).
 */
import { isIP } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { type FactMap, type FactValue, factPath } from '@envparity/shared';

export const DEFAULT_TLS_TIMEOUT_MS = 5_000;

/** Splits `host:port` / `[v6]:port`. */
export function parseEndpoint(endpoint: string): { host: string; port: number } {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(endpoint);
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65_535) throw new Error(`expected host:port, got ${JSON.stringify(endpoint)}`);
  return { host: (match[1] ?? match[2]) as string, port };
}

/** "DNS:a, IP Address:127.0.0.1" -> ["DNS:a", "IP:127.0.0.1"], sorted. Quoted entries (Node escapes odd ones) are unquoted. */
export function parseSubjectAltName(text: string | undefined): string[] {
  if (!text) return [];
  const sans: string[] = [];
  const entry = /\s*([A-Za-z][A-Za-z0-9 ]*):("(?:[^"\\]|\\.)*"|[^,]*)(?:,|$)/y;
  while (entry.lastIndex < text.length) {
    const start = entry.lastIndex;
    const match = entry.exec(text);
    if (!match) {
      sans.push(text.slice(start).trim());
      break;
    }
    const type = match[1] === 'IP Address' ? 'IP' : (match[1] as string);
    let value = (match[2] as string).trim();
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        // keep it quoted
      }
    }
    sans.push(`${type}:${value}`);
  }
  return sans.filter(Boolean).sort();
}

/** "C=US\nO=Acme\nCN=api" -> "C=US, O=Acme, CN=api". */
export function formatDistinguishedName(text: string | undefined): string {
  return (text ?? '')
    .split('\n')
    .map((part) => part.trim())
    .filter(Boolean)
    .join(', ');
}

function toIso(date: string): string {
  const parsed = new Date(date);
  return Number.isNaN(parsed.getTime()) ? date : parsed.toISOString();
}

export interface TlsOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Connects, reads the peer certificate and closes. Resolves field -> value; never throws. */
export function inspectTlsEndpoint(
  endpoint: string,
  { timeoutMs = DEFAULT_TLS_TIMEOUT_MS, signal }: TlsOptions = {},
): Promise<Record<string, FactValue>> {
  let target: { host: string; port: number };
  try {
    target = parseEndpoint(endpoint);
  } catch {
    return Promise.resolve({ error: 'EINVAL' });
  }
  return new Promise((resolve) => {
    let settled = false;
    let socket: TLSSocket | undefined;
    const finish = (fields: Record<string, FactValue>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket?.destroy();
      resolve(fields);
    };
    const onAbort = () => finish({ error: 'ECANCELLED' });
    const timer = setTimeout(() => finish({ error: 'ETIMEDOUT' }), timeoutMs);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    socket = connect({
      host: target.host,
      port: target.port,
      // SNI takes names only; Node warns when given an IP.
      ...(isIP(target.host) ? {} : { servername: target.host }),
      rejectUnauthorized: false,
    });
    socket.once('secureConnect', () => {
      const tlsSocket = socket as TLSSocket;
      const cert = tlsSocket.getPeerX509Certificate();
      if (!cert) return finish({ error: 'ENOCERT' });
      const fields: Record<string, FactValue> = {
        subject: formatDistinguishedName(cert.subject),
        issuer: formatDistinguishedName(cert.issuer),
        sans: parseSubjectAltName(cert.subjectAltName),
        notBefore: toIso(cert.validFrom),
        notAfter: toIso(cert.validTo),
        sha256: cert.fingerprint256,
        protocol: tlsSocket.getProtocol() ?? 'unknown',
        authorized: tlsSocket.authorized,
      };
      if (!tlsSocket.authorized) {
        const reason = tlsSocket.authorizationError as unknown;
        fields.authorizationError =
          reason instanceof Error
            ? ((reason as NodeJS.ErrnoException).code ?? reason.message)
            : String(reason ?? 'unknown');
      }
      finish(fields);
    });
    // `on`, not `once`: a late second error must not become an uncaught exception.
    socket.on('error', (error: NodeJS.ErrnoException) => finish({ error: error.code ?? error.message }));
  });
}

export async function collectTlsFacts(endpoints: readonly string[], options: TlsOptions = {}): Promise<FactMap> {
  const unique = [...new Set(endpoints)];
  const results = await Promise.all(unique.map((endpoint) => inspectTlsEndpoint(endpoint, options)));
  const facts: FactMap = {};
  unique.forEach((endpoint, index) => {
    for (const [field, value] of Object.entries(results[index] ?? {})) {
      facts[factPath('network', 'tls', endpoint, field)] = value;
    }
  });
  return facts;
}
