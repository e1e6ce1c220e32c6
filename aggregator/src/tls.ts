/**
 * TLS for `serve --tls-cert FILE --tls-key FILE` (config `tls: {cert, key}`): the files are read
 * and checked at start, before anything listens, so a wrong path, a key that does not belong to the
 * certificate or a PEM that is not a certificate is one clear line and exit 2, not a handshake
 * failure every agent discovers later.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { ConfigError } from '@envparity/shared';

/** `Strict-Transport-Security` sent on every answer under TLS: one year, the common preload minimum. */
export const HSTS_HEADER_VALUE = 'max-age=31536000';

/** The paths as the config or flags give them. */
export interface TlsFiles {
  cert: string;
  key: string;
}

/** Certificate chain and key, checked to belong together, ready for `https.createServer`. */
export interface TlsCredentials {
  cert: Buffer;
  key: Buffer;
  /** Of the leaf certificate, as agents pin it (`--server-fingerprint`): `AA:BB:...`. */
  fingerprint256: string;
  subject: string;
  validTo: string;
  /** The leaf certificate has expired (served anyway; the start logs a warning). */
  expired: boolean;
}

/** Reads a PEM file; a ConfigError naming the config key and the file when it cannot be read. */
async function readPem(file: string, key: 'tls.cert' | 'tls.key'): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
    throw new ConfigError(`${key}: cannot read ${file}: ${reason}`, key, { cause });
  }
}

/**
 * Loads and checks the certificate and key: the certificate parses as X.509 (the first PEM block
 * is the leaf, any further ones its chain), the key parses (unencrypted PEM), and the two match.
 */
export async function loadTlsCredentials(files: TlsFiles, now: () => number = Date.now): Promise<TlsCredentials> {
  const [cert, key] = await Promise.all([readPem(files.cert, 'tls.cert'), readPem(files.key, 'tls.key')]);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (cause) {
    throw new ConfigError(`tls.cert: ${files.cert} is not a PEM certificate: ${(cause as Error).message}`, 'tls.cert', {
      cause,
    });
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch (cause) {
    throw new ConfigError(
      `tls.key: ${files.key} is not an unencrypted PEM private key: ${(cause as Error).message}`,
      'tls.key',
      { cause },
    );
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new ConfigError(
      `tls.key: ${files.key} does not belong to the certificate in ${files.cert} (key mismatch)`,
      'tls.key',
    );
  }
  try {
    // What https.createServer will do: catches a chain OpenSSL itself refuses.
    createSecureContext({ cert, key });
  } catch (cause) {
    throw new ConfigError(`tls: cannot use ${files.cert} with ${files.key}: ${(cause as Error).message}`, 'tls', {
      cause,
    });
  }
  return {
    cert,
    key,
    fingerprint256: leaf.fingerprint256,
    subject: leaf.subject.replace(/\n/g, ', '),
    validTo: leaf.validTo,
    expired: Date.parse(leaf.validTo) < now(),
  };
}
