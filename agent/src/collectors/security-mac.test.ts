/**
 * AppArmor and SELinux from the kernel's files: a host root holding the files a Ubuntu host with
 * AppArmor and a Fedora host with SELinux expose (test/fixtures/security/host), this machine's
 * (compared with `aa-status --enabled` and `getenforce` where installed), and roots without them.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { factPath } from '@envparity/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { createHostFs, LOCAL_HOST_FS } from './host-fs.js';
import {
  collectAppArmorFacts,
  collectSelinuxFacts,
  countAppArmorProfiles,
  parseSelinuxConfig,
} from './security-mac.js';

const HOST_FIXTURE = join(__dirname, '../../../test/fixtures/security/host');
const temp = mkdtempSync(join(tmpdir(), 'envparity-mac-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function tool(file: string, args: string[]): { status: number | null; stdout: string } | undefined {
  const result = spawnSync(file, args, { encoding: 'utf8' });
  return result.error ? undefined : { status: result.status, stdout: result.stdout };
}

describe('security.apparmor', () => {
  it('counts profiles by mode, child profiles included, as the kernel lists them', () => {
    expect(countAppArmorProfiles('/usr/bin/man (enforce)\nx//child (complain)\ny (kill)\nz (prompt)\n')).toEqual({
      enforce: 1,
      complain: 1,
      kill: 1,
      unconfined: 0,
      prompt: 1,
    });
  });

  it('reads state and counts from the host root', async () => {
    const errors: string[] = [];
    const facts = await collectAppArmorFacts(createHostFs(HOST_FIXTURE), (message) => errors.push(message));
    expect(errors).toEqual([]);
    expect(facts).toEqual({
      [factPath('security', 'apparmor', 'state')]: 'enabled',
      [factPath('security', 'apparmor', 'profiles', 'enforce')]: 9,
      [factPath('security', 'apparmor', 'profiles', 'complain')]: 2,
      [factPath('security', 'apparmor', 'profiles', 'kill')]: 0,
      [factPath('security', 'apparmor', 'profiles', 'unconfined')]: 1,
    });
  });

  it('disabled by the boot flag, absent without the module, unknown without /sys', async () => {
    const disabled = join(temp, 'disabled');
    mkdirSync(join(disabled, 'sys/module/apparmor/parameters'), { recursive: true });
    writeFileSync(join(disabled, 'sys/module/apparmor/parameters/enabled'), 'N\n');
    expect(await collectAppArmorFacts(createHostFs(disabled))).toEqual({ 'security.apparmor.state': 'disabled' });
    const absent = join(temp, 'absent');
    mkdirSync(join(absent, 'sys/module/ext4'), { recursive: true });
    expect(await collectAppArmorFacts(createHostFs(absent))).toEqual({ 'security.apparmor.state': 'absent' });
    const errors: string[] = [];
    expect(await collectAppArmorFacts(createHostFs(temp), (message) => errors.push(message))).toEqual({});
    expect(errors[0]).toMatch(/no \/sys\/module under/);
  });

  it("this machine's state agrees with aa-status --enabled", async (context) => {
    const facts = await collectAppArmorFacts(LOCAL_HOST_FS);
    const state = facts['security.apparmor.state'];
    expect(['enabled', 'disabled', 'absent']).toContain(state);
    const aaStatus = tool('aa-status', ['--enabled']);
    if (!aaStatus) return context.skip();
    // aa-status --enabled exits 0 exactly when AppArmor is enabled.
    expect(aaStatus.status === 0).toBe(state === 'enabled');
  });
});

describe('security.selinux', () => {
  it('parses /etc/selinux/config', () => {
    expect(parseSelinuxConfig('# c\nSELINUX=enforcing\nSELINUXTYPE="mls" # x\n')).toEqual({
      SELINUX: 'enforcing',
      SELINUXTYPE: 'mls',
    });
  });

  it('reads mode, policy version and the configured mode and policy from the host root', async () => {
    expect(await collectSelinuxFacts(createHostFs(HOST_FIXTURE))).toEqual({
      'security.selinux.mode': 'enforcing',
      'security.selinux.policyVersion': 33,
      'security.selinux.configuredMode': 'permissive',
      'security.selinux.policy': 'targeted',
    });
    const permissive = join(temp, 'permissive');
    mkdirSync(join(permissive, 'sys/fs/selinux'), { recursive: true });
    writeFileSync(join(permissive, 'sys/fs/selinux/enforce'), '0');
    expect(await collectSelinuxFacts(createHostFs(permissive))).toEqual({ 'security.selinux.mode': 'permissive' });
  });

  it("this machine's mode agrees with getenforce", async (context) => {
    const facts = await collectSelinuxFacts(LOCAL_HOST_FS);
    const getenforce = tool('getenforce', []);
    if (getenforce?.status !== 0) return context.skip();
    expect(facts['security.selinux.mode']).toBe(getenforce.stdout.trim().toLowerCase());
  });
});
