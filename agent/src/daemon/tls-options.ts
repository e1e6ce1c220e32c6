/**
 * Transport security of the agent's connections to the aggregator (the daemon's WebSocket and
 * `verify`'s HTTP calls):
 *
 * - plain `ws://` / `http://` is refused up front, before any connection, unless the aggregator is
 *   on a loopback address (127.0.0.0/8, ::1, localhost) or `allowInsecure` is set: the agent token,
 *   the enroll secret and the facts would cross the network in clear text;
 * - `tls.ca` replaces the system's CAs: only a certificate chaining to that CA is accepted;
 * - `tls.serverFingerprint` pins the aggregator's certificate (SHA-256): checked in
 *   `checkServerIdentity`, which Node runs after the chain was verified and before anything is
 *   sent, so a mismatch ends the handshake with an error (the daemon logs it and backs off). For the
 *   pinned certificate the pin replaces the host name check (the exact certificate is trusted); the
 *   chain is still verified, so a self-signed certificate is passed as its own `--ca`.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BlockList, isIP } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import { ConfigError, EnvparityError, SHA256_FINGERPRINT } from '@envparity/shared';

/** The settings as the config (`tls:`, `allowInsecure`) and the flags give them. */
export interface AgentTlsSettings {
  ca?: string | undefined;
  serverFingerprint?: string | undefined;
}

/** Options for `tls.connect` (through `ws` and `https.request`). */
export interface ClientTlsOptions {
  /** The pinned CA(s), PEM: replaces the system's roots. */
  ca?: Buffer;
  checkServerIdentity?: (host: string, cert: PeerCertificate) => Error | undefined;
}

/** Plain ws:// or http:// to a non-loopback address without `allowInsecure`: refused before connecting. */
export class InsecureTransportError extends EnvparityError {
  constructor(message: string) {
    super('INSECURE_TRANSPORT', message);
  }
}

/** The aggregator's certificate is not the pinned one. `code` is what Node's TLS errors carry too. */
export class FingerprintMismatchError extends Error {
  readonly code = 'ERR_ENVPARITY_FINGERPRINT_MISMATCH';
  constructor(
    readonly expected: string,
    readonly actual: string | undefined,
  ) {
    super(
      `the aggregator's certificate fingerprint ${actual ?? '(none)'} does not match --server-fingerprint ${expected}`,
    );
    this.name = 'FingerprintMismatchError';
  }
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/** 127.0.0.0/8, ::1 (and IPv4-mapped 127/8), `localhost`: a URL's hostname, brackets allowed. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();
  if (host === 'localhost') return true;
  const family = isIP(host);
  if (family === 4) return LOOPBACK.check(host, 'ipv4');
  if (family === 6) return LOOPBACK.check(host, 'ipv6');
  return false;
}

/**
 * Refuses a plain-text URL (ws:// or http://) to a non-loopback host unless `allowInsecure`.
 * Throws InsecureTransportError naming the flag; connects to nothing.
 */
export function assertSecureTransport(url: string, allowInsecure: boolean, flag = '--aggregator'): void {
  const parsed = new URL(url);
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'http:') return;
  if (allowInsecure || isLoopbackHost(parsed.hostname)) return;
  const secure = parsed.protocol === 'ws:' ? 'wss://' : 'https://';
  throw new InsecureTransportError(
    `${flag}: refusing plain ${parsed.protocol}// to ${parsed.host}, which is not a loopback address: tokens and facts would travel unencrypted; use ${secure} (serve --tls-cert/--tls-key on the aggregator) or pass --allow-insecure`,
  );
}

/** A fingerprint as Node prints `fingerprint256`: upper-case hex pairs joined by colons. */
export function normalizeFingerprint(input: string): string {
  const trimmed = input.trim();
  if (!SHA256_FINGERPRINT.test(trimmed)) {
    throw new ConfigError(
      `tls.serverFingerprint: expected a SHA-256 fingerprint (64 hex digits, colons optional), got ${JSON.stringify(input)}`,
      'tls.serverFingerprint',
    );
  }
  const hex = trimmed.replace(/:/g, '').toUpperCase();
  return (hex.match(/../g) as string[]).join(':');
}

/**
 * Reads the CA file and builds the TLS options for connections to `url`. A CA or fingerprint with a
 * plain-text URL is refused (there is no certificate to check); an unreadable or non-PEM CA file is
 * a ConfigError naming `tls.ca`.
 */
export async function loadClientTlsOptions(
  url: string,
  settings: AgentTlsSettings | undefined,
): Promise<ClientTlsOptions> {
  const ca = settings?.ca;
  const pin = settings?.serverFingerprint === undefined ? undefined : normalizeFingerprint(settings.serverFingerprint);
  if (ca === undefined && pin === undefined) return {};
  const protocol = new URL(url).protocol;
  if (protocol !== 'wss:' && protocol !== 'https:') {
    const flags = [ca !== undefined ? '--ca' : '', pin !== undefined ? '--server-fingerprint' : '']
      .filter(Boolean)
      .join(' and ');
    throw new ConfigError(
      `tls: ${flags} need a wss:// or https:// aggregator URL, got ${protocol}//: there is no certificate to check`,
      'tls',
    );
  }
  const options: ClientTlsOptions = {};
  if (ca !== undefined) options.ca = await readCaFile(ca);
  if (pin !== undefined) options.checkServerIdentity = pinnedIdentityCheck(pin);
  return options;
}

/** The pin replaces the host name check; without a pin Node's own check runs. */
export function pinnedIdentityCheck(pin: string): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const actual = cert?.fingerprint256?.toUpperCase();
    return actual === pin ? undefined : new FingerprintMismatchError(pin, actual);
  };
}

async function readCaFile(file: string): Promise<Buffer> {
  let pem: Buffer;
  try {
    pem = await readFile(file);
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
    throw new ConfigError(`tls.ca: cannot read ${file}: ${reason}`, 'tls.ca', { cause });
  }
  try {
    new X509Certificate(pem);
  } catch (cause) {
    throw new ConfigError(`tls.ca: ${file} is not a PEM certificate: ${(cause as Error).message}`, 'tls.ca', {
      cause,
    });
  }
  return pem;
}

const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/**
 * What a TLS failure means for the operator, or undefined when the error is not about TLS (refused,
 * reset, DNS...). Used for the daemon's log line and verify's error message.
 */
export function describeTlsFailure(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = (error as Error | undefined)?.message ?? String(error);
  if (code === 'ERR_ENVPARITY_FINGERPRINT_MISMATCH') return message;
  if (typeof code !== 'string') return undefined;
  if (UNTRUSTED.has(code)) {
    return `the aggregator's certificate is not signed by a trusted CA (${code}): pass its CA (or a self-signed certificate itself) with --ca FILE`;
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return `the aggregator's certificate is not valid now (${code}): renew it`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `the aggregator's certificate is not for this host name (${message}): connect by a name in its subjectAltName, or pin it with --server-fingerprint`;
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number/i.test(message)) {
    return `the aggregator does not speak TLS on this port (${code}): is it started with --tls-cert/--tls-key?`;
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO') {
    return `TLS handshake with the aggregator failed (${code}): ${message}`;
  }
  return undefined;
}
