import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { factPath } from '@envparity/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSecretHasher } from '../secrets.js';
import { collectConfigFile } from './config-files.js';

const SHADOW = 'root:$6$abcdefgh$hashhashhash:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n';
const secrets = createSecretHasher('test-key', ['*PASSWORD*']);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envparity-config-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('watched files: symlinks, FIFOs, size cap', () => {
  it('does not read a symlink unless watch.followSymlinks is set', async () => {
    await writeFile(join(dir, 'shadow'), SHADOW);
    const link = join(dir, 'x.ini');
    await symlink(join(dir, 'shadow'), link);
    const facts = await collectConfigFile(link, { secrets });
    expect(facts).toEqual({
      [factPath('config', 'file', link, '#error')]: 'symlink not followed (watch.followSymlinks is false)',
    });
    expect(JSON.stringify(facts)).not.toMatch(/root|daemon|\$6\$/);
  });

  it('when following, picks the format from the real file name (a link named .ini to `shadow` is not INI)', async () => {
    await writeFile(join(dir, 'shadow'), SHADOW);
    const link = join(dir, 'x.ini');
    await symlink(join(dir, 'shadow'), link);
    const facts = await collectConfigFile(link, { secrets, followSymlinks: true });
    expect(facts[factPath('config', 'file', link, '#format')]).toBe('raw');
    expect(Object.keys(facts).sort()).toEqual(
      [factPath('config', 'file', link, '#format'), factPath('config', 'file', link, '#sha256')].sort(),
    );
    expect(JSON.stringify(facts)).not.toMatch(/root|daemon|\$6\$/);

    await writeFile(join(dir, 'real.ini'), 'a = 1\n');
    const iniLink = join(dir, 'other-name');
    await symlink(join(dir, 'real.ini'), iniLink);
    const ini = await collectConfigFile(iniLink, { secrets, followSymlinks: true });
    expect(ini[factPath('config', 'file', iniLink, '#format')]).toBe('ini');
    expect(ini[factPath('config', 'file', iniLink, 'a')]).toBe('1');
  });

  it('refuses a FIFO at once instead of blocking', async () => {
    const fifo = join(dir, 'app.yaml');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    const facts = await collectConfigFile(fifo, { secrets });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(facts).toEqual({ [factPath('config', 'file', fifo, '#error')]: 'not a regular file' });
  });

  it('stops at watch.maxFileBytes and says so in the facts', async () => {
    const big = join(dir, 'big.json');
    await writeFile(big, JSON.stringify({ a: 'x'.repeat(5000) }));
    const facts = await collectConfigFile(big, { secrets, maxFileBytes: 1000 });
    expect(facts).toEqual({
      [factPath('config', 'file', big, '#error')]:
        'too large: 5008 bytes, over the watch.maxFileBytes cap of 1000 (not read)',
    });
    const ok = await collectConfigFile(big, { secrets, maxFileBytes: 10_000 });
    expect(ok[factPath('config', 'file', big, '#format')]).toBe('json');
  });

  it('hashes a file between the parse limit and the cap, and refuses one over the cap', async () => {
    const raw = join(dir, 'dump.json');
    await writeFile(raw, Buffer.alloc(1024 * 1024 + 10, 0x61));
    const hashed = await collectConfigFile(raw, { secrets });
    expect(hashed[factPath('config', 'file', raw, '#format')]).toBe('raw');
    expect(hashed[factPath('config', 'file', raw, '#sha256')]).toMatch(/^[0-9a-f]{64}$/);
    const refused = await collectConfigFile(raw, { secrets, maxFileBytes: 1024 * 1024 });
    expect(String(refused[factPath('config', 'file', raw, '#error')])).toContain('over the watch.maxFileBytes cap');
  });
});
