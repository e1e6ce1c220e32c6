import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveBootstrapSecrets, resolveSecret } from './bootstrap-secrets.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'envparity-secrets-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('bootstrap secrets', () => {
  it('generates missing secrets into 0600 files and reuses them', async () => {
    const first = await resolveBootstrapSecrets(dir, { env: {} });
    for (const secret of Object.values(first)) {
      expect(secret.source).toBe('generated');
      expect(statSync(secret.path as string).mode & 0o777).toBe(0o600);
      expect(readFileSync(secret.path as string, 'utf8').trim()).toBe(secret.value);
      expect(secret.value.length).toBeGreaterThanOrEqual(40);
    }
    const second = await resolveBootstrapSecrets(dir, { env: {} });
    expect(second.enrollSecret).toMatchObject({ source: 'file', value: first.enrollSecret.value });
    expect(second.adminToken.value).not.toBe(second.enrollSecret.value);
  });

  it('prefers the environment and never writes it to disk', async () => {
    const secret = await resolveSecret('enrollSecret', dir, { ENVPARITY_ENROLL_SECRET: ' from-env ' });
    expect(secret).toEqual({ value: 'from-env', source: 'env' });
    expect(() => statSync(join(dir, 'enroll-secret'))).toThrow();
  });

  it('tightens an existing secret file that is readable by others', async () => {
    const path = join(dir, 'admin-token');
    writeFileSync(path, 'tok\n', { mode: 0o644 });
    expect(await resolveSecret('adminToken', dir, {})).toMatchObject({ value: 'tok', source: 'file' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
