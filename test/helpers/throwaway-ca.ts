/**
 * A throwaway certificate authority made with `openssl` in a temp dir, for TLS tests: a CA, a
 * server certificate it signed for 127.0.0.1, ::1 and localhost, and a self-signed "rogue" one
 * with the same names that no test CA signed. Nothing here ever leaves the temp dir.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ThrowawayCa {
  dir: string;
  /** The CA certificate (PEM file), what `--ca` takes. */
  caCert: string;
  /** Server certificate and key signed by the CA, SANs IP:127.0.0.1, IP:::1, DNS:localhost. */
  serverCert: string;
  serverKey: string;
  /** SHA-256 of the server certificate, `AA:BB:...` as Node prints it. */
  serverFingerprint: string;
  /** Another CA's certificate: it signed nothing the server presents. */
  otherCaCert: string;
  /** A key that does not belong to `serverCert`. */
  otherKey: string;
  remove(): void;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): void {
  openssl(
    [
      'req',
      '-x509',
      ...EC,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-subj',
      `/CN=envparity ${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
}

/** Generates the CA and certificates (about 100 ms with EC keys). */
export function createThrowawayCa(prefix = 'envparity-tls-'): ThrowawayCa {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  makeCa(dir, 'test-ca');
  makeCa(dir, 'other-ca');
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  openssl(['req', '-new', ...EC, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'test-ca.pem',
      '-CAkey',
      'test-ca.key',
      '-CAcreateserial',
      '-out',
      'server.pem',
      '-days',
      '2',
      '-extfile',
      'server.ext',
    ],
    dir,
  );
  const serverCert = join(dir, 'server.pem');
  return {
    dir,
    caCert: join(dir, 'test-ca.pem'),
    serverCert,
    serverKey: join(dir, 'server.key'),
    serverFingerprint: new X509Certificate(readFileSync(serverCert)).fingerprint256,
    otherCaCert: join(dir, 'other-ca.pem'),
    otherKey: join(dir, 'other-ca.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
