/**
 * UID 0 accounts and passwordless accounts: Debian's base-passwd master file plus added accounts
 * (test/fixtures/security/host), and this machine's files compared with `getent` and `passwd -S`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createHostFs, LOCAL_HOST_FS } from './host-fs.js';
import { collectAccountFacts, parsePasswd } from './security-accounts.js';

const HOST_FIXTURE = join(__dirname, '../../../test/fixtures/security/host');
const temp = mkdtempSync(join(tmpdir(), 'envparity-accounts-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('security.accounts', () => {
  it('lists UID 0 names and counts passwordless accounts, never a hash', async () => {
    const facts = await collectAccountFacts(createHostFs(HOST_FIXTURE));
    expect(facts).toEqual({ 'security.accounts.uid0': ['root', 'toor'], 'security.accounts.emptyPassword': 2 });
    const shadow = readFileSync(join(HOST_FIXTURE, 'etc/shadow'), 'utf8');
    const hashes = shadow.split('\n').map((line) => line.split(':')[1] ?? '');
    for (const hash of hashes.filter((h) => h.length > 2)) expect(JSON.stringify(facts)).not.toContain(hash);
  });

  it('says `unreadable` when /etc/shadow cannot be read, instead of guessing', async () => {
    const root = join(temp, 'no-shadow');
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\nguest::1000:1000::/:/bin/sh\n');
    expect(await collectAccountFacts(createHostFs(root))).toEqual({
      'security.accounts.uid0': ['root'],
      'security.accounts.emptyPassword': 'unreadable',
    });
  });

  it("this machine's UID 0 accounts are getent's, and the count is passwd -S's NP", async (context) => {
    const facts = await collectAccountFacts(LOCAL_HOST_FS);
    const getent = spawnSync('getent', ['passwd'], { encoding: 'utf8' });
    if (getent.error) return context.skip();
    const uid0 = parsePasswd(readFileSync('/etc/passwd', 'utf8'))
      .filter((entry) => entry.uid === 0)
      .map((entry) => entry.name);
    const fromGetent = getent.stdout
      .split('\n')
      .filter((line) => line.split(':')[2] === '0')
      .map((line) => line.split(':')[0]);
    // getent may add NSS accounts (LDAP...): every local UID 0 account is among them.
    expect(fromGetent).toEqual(expect.arrayContaining(uid0));
    expect(facts['security.accounts.uid0']).toEqual([...uid0].sort());
    if (process.getuid?.() !== 0) {
      expect(facts['security.accounts.emptyPassword']).toBe('unreadable');
      return;
    }
    const status = spawnSync('passwd', ['-S', '-a'], { encoding: 'utf8' });
    if (status.error || status.status !== 0) return context.skip();
    const noPassword = status.stdout.split('\n').filter((line) => line.split(/\s+/)[1] === 'NP').length;
    expect(facts['security.accounts.emptyPassword']).toBe(noPassword);
  });
});
