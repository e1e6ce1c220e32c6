/**
 * The sshd_config reader on real files: the Debian 12 package's default config, an Ubuntu cloud
 * image's Include layout, a hardened layout with Match blocks and relative algorithm lists, this
 * machine's config, each placed under a host root. Where openssh-server is installed, every result
 * is compared with what `sshd -T` itself prints for the same files.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FactMap, type FactValue, factPath } from '@envparity/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { createHostFs, LOCAL_HOST_FS } from './host-fs.js';
import { componentPattern } from './security-glob.js';
import {
  collectSshdFacts,
  normalizePermitRootLogin,
  SSHD_ACCESS_KEYWORDS,
  SSHD_ALGORITHM_KEYWORDS,
  SSHD_DEFAULTS,
} from './security-sshd.js';
import { splitArguments, splitKeyword } from './security-sshd-parse.js';

const FIXTURES = join(__dirname, '../../../test/fixtures/security/sshd');
const DEBIAN_PACKAGE_DEFAULT = '/usr/share/openssh/sshd_config';
const temp = mkdtempSync(join(tmpdir(), 'envparity-sshd-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** A host root (a new directory `dir` of the temp dir) whose /etc/ssh is the fixture directory `name`. */
function hostRootWith(name: string, dir = name): string {
  const root = join(temp, dir);
  mkdirSync(join(root, 'etc'), { recursive: true });
  cpSync(join(FIXTURES, name), join(root, 'etc/ssh'), { recursive: true });
  return root;
}

async function factsUnder(root: string): Promise<{ facts: FactMap; errors: string[] }> {
  const errors: string[] = [];
  const facts = await collectSshdFacts(createHostFs(root), (message) => errors.push(message));
  return { facts, errors };
}

const sshd = (keyword: string) => factPath('security', 'sshd', keyword);

/** Why `sshd -T` cannot run here, or undefined when it can (it needs /run/sshd, made when root). */
function sshdUnavailable(): string | undefined {
  if (spawnSync('sshd', ['-V']).error) return 'sshd is not installed (apt-get install openssh-server)';
  if (!existsSync('/run/sshd')) {
    try {
      mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    } catch {
      return 'sshd -T needs /run/sshd, which only root can create';
    }
  }
  return undefined;
}
const noSshd = sshdUnavailable();

/** A throwaway host key, so `sshd -T` runs on a machine without /etc/ssh/ssh_host_* keys too. */
function hostKey(): string {
  const key = join(temp, 'host_key');
  if (!existsSync(key)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  return key;
}

/** `sshd -T` output: keyword -> every value it printed for it (one line each). */
function sshdTest(args: string[]): Map<string, string[]> {
  const output = execFileSync('sshd', ['-T', ...args, '-o', `HostKey=${hostKey()}`], { encoding: 'utf8' });
  const values = new Map<string, string[]>();
  for (const line of output.split('\n')) {
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    const key = line.slice(0, space);
    values.set(key, [...(values.get(key) ?? []), line.slice(space + 1)]);
  }
  return values;
}

/** Wildcard patterns of a `-` list, as sshd matches them (match_pattern_list). */
function matchesAny(name: string, patterns: string[]): boolean {
  return patterns.some((pattern) => componentPattern(pattern).test(name));
}

/** Every reported setting equals what sshd -T prints; relative lists are checked against its full list. */
function expectSameAsSshd(facts: FactMap, printed: Map<string, string[]>): void {
  for (const keyword of Object.keys(SSHD_DEFAULTS) as (keyof typeof SSHD_DEFAULTS)[]) {
    const value = printed.get(keyword.toLowerCase())?.[0];
    expect(value, keyword).toBeDefined();
    let expected: FactValue = value as string;
    if (keyword === 'PermitRootLogin') expected = normalizePermitRootLogin(expected);
    if (keyword === 'MaxAuthTries') expected = Number(expected);
    expect(facts[sshd(keyword)], keyword).toEqual(expected);
  }
  for (const keyword of SSHD_ALGORITHM_KEYWORDS) {
    const list = (printed.get(keyword.toLowerCase())?.[0] ?? '').split(',');
    const value = facts[sshd(keyword)];
    expect(list.length, keyword).toBeGreaterThan(0);
    if (Array.isArray(value)) expect(list, keyword).toEqual(value);
    else if (typeof value === 'string' && value !== 'default') {
      const items = value.slice('default'.length + 1).split(',');
      const modifier = value['default'.length];
      if (modifier === '+') expect(list.slice(-items.length), keyword).toEqual(items);
      if (modifier === '^') expect(list.slice(0, items.length), keyword).toEqual(items);
      if (modifier === '-')
        expect(
          list.filter((name) => matchesAny(name, items)),
          keyword,
        ).toEqual([]);
    } else expect(value, keyword).toBe('default');
  }
  for (const keyword of SSHD_ACCESS_KEYWORDS) {
    expect(facts[sshd(keyword)], keyword).toEqual(printed.get(keyword.toLowerCase()) ?? []);
  }
}

/** Copies a host root's /etc/ssh to a real directory with its absolute Includes pointed there, for sshd -T. */
function sshdCopy(root: string): string {
  const dir = join(root, 'etc/ssh');
  const main = join(dir, 'sshd_config');
  writeFileSync(main, readFileSync(main, 'utf8').replaceAll('Include /etc/ssh/', `Include ${dir}/`));
  return main;
}

describe('sshd_config syntax', () => {
  it('splits keyword and arguments as sshd does', () => {
    expect(splitKeyword('PermitRootLogin no')).toEqual(['PermitRootLogin', 'no']);
    expect(splitKeyword('  maxauthtries=4')).toEqual(['maxauthtries', '4']);
    expect(splitKeyword('PermitRootLogin = "without-password"   # c')).toEqual([
      'PermitRootLogin',
      '"without-password"   # c',
    ]);
    expect(splitKeyword('# a comment')).toBeUndefined();
    expect(splitKeyword('   ')).toBeUndefined();
    expect(splitArguments('"without-password"   # c')).toEqual(['without-password']);
    expect(splitArguments('sftp "/usr/lib/my sftp" -l INFO')).toEqual(['sftp', '/usr/lib/my sftp', '-l', 'INFO']);
  });
});

describe('security.sshd from real configs', () => {
  it('Debian 12 default: the package file as shipped, OpenSSH defaults where it says nothing', async () => {
    const root = hostRootWith('debian-12');
    const { facts, errors } = await factsUnder(root);
    expect(errors).toEqual([]);
    expect(facts).toMatchObject({
      [sshd('state')]: 'present',
      [sshd('PermitRootLogin')]: 'prohibit-password',
      [sshd('PasswordAuthentication')]: 'yes',
      [sshd('PubkeyAuthentication')]: 'yes',
      [sshd('KbdInteractiveAuthentication')]: 'no',
      [sshd('X11Forwarding')]: 'yes',
      [sshd('MaxAuthTries')]: 6,
      [sshd('Ciphers')]: 'default',
      [sshd('AllowUsers')]: [],
      [sshd('Match')]: [],
      // The Include's glob matches nothing under this root: no error, as in sshd.
      [sshd('files')]: ['/etc/ssh/sshd_config'],
    });
  });

  it('Ubuntu cloud image: 50-cloud-init.conf is read before 60-cloudimg-settings.conf and wins', async () => {
    const { facts } = await factsUnder(hostRootWith('ubuntu-cloud'));
    expect(facts[sshd('PasswordAuthentication')]).toBe('yes');
    expect(facts[sshd('files')]).toEqual([
      '/etc/ssh/sshd_config',
      '/etc/ssh/sshd_config.d/50-cloud-init.conf',
      '/etc/ssh/sshd_config.d/60-cloudimg-settings.conf',
    ]);
  });

  it('hardened layout: includes first, relative lists, Match blocks left out but `Match all` applied', async () => {
    const { facts } = await factsUnder(hostRootWith('hardened'));
    expect(facts).toMatchObject({
      [sshd('MaxAuthTries')]: 4,
      [sshd('KbdInteractiveAuthentication')]: 'yes',
      [sshd('X11Forwarding')]: 'yes',
      [sshd('PasswordAuthentication')]: 'no',
      [sshd('PermitRootLogin')]: 'yes',
      [sshd('Ciphers')]: 'default+aes128-cbc',
      [sshd('MACs')]: 'default-hmac-sha1*,umac-64*',
      [sshd('KexAlgorithms')]: 'default^curve25519-sha256',
      [sshd('AllowUsers')]: ['deploy', 'backup@10.0.0.0/8'],
      [sshd('AllowGroups')]: ['ssh-users', 'admins'],
      [sshd('DenyUsers')]: ['guest'],
      [sshd('Match')]: ['User build', 'Group sftp-only', 'User admin Address 10.0.0.0/8', 'all'],
    });
  });

  it('relative Include patterns are taken from /etc/ssh; a file included inside a Match block is conditional', async () => {
    const { facts, errors } = await factsUnder(hostRootWith('relative'));
    expect(errors).toEqual([]);
    expect(facts).toMatchObject({
      [sshd('PermitRootLogin')]: 'forced-commands-only',
      [sshd('X11Forwarding')]: 'yes',
      [sshd('AllowGroups')]: ['wheel'],
      [sshd('PasswordAuthentication')]: 'no',
      [sshd('Match')]: ['Group wheel'],
      [sshd('files')]: [
        '/etc/ssh/sshd_config',
        '/etc/ssh/conf.d/a.conf',
        '/etc/ssh/extra.conf',
        '/etc/ssh/conf.d/b.conf',
        '/etc/ssh/extra.conf',
      ],
    });
  });

  it("an absent config says so instead of reporting defaults; an Include loop stops at sshd's depth", async () => {
    const empty = join(temp, 'no-ssh');
    mkdirSync(join(empty, 'etc'), { recursive: true });
    expect(await factsUnder(empty)).toEqual({ facts: { [sshd('state')]: 'absent' }, errors: [] });
    const looping = join(temp, 'loop');
    mkdirSync(join(looping, 'etc/ssh'), { recursive: true });
    writeFileSync(join(looping, 'etc/ssh/sshd_config'), 'Include /etc/ssh/sshd_config\n');
    const { facts, errors } = await factsUnder(looping);
    expect(facts[sshd('state')]).toBe('present');
    expect(errors).toEqual(['security.sshd: Include nested deeper than 16 levels: not read']);
  });

  it("this machine's /etc/ssh/sshd_config", async (context) => {
    if (!existsSync('/etc/ssh/sshd_config')) return context.skip();
    const facts = await collectSshdFacts(LOCAL_HOST_FS);
    expect(facts[sshd('state')]).toBe('present');
    expect(facts[sshd('files')]).toContain('/etc/ssh/sshd_config');
    expect(['yes', 'no', 'prohibit-password', 'forced-commands-only']).toContain(facts[sshd('PermitRootLogin')]);
  });
});

/** `Match all` blocks: first-wins among them, over the global value; their access list replaces the global one. */
const MATCH_ALL_CONFIG =
  'AllowUsers a\nMaxAuthTries 5\nMatch all\nAllowUsers b\nMaxAuthTries 3\nMatch all\nMaxAuthTries 4\nAllowUsers c\n';

it('`Match all` blocks override the global values and replace its access lists', async () => {
  const root = join(temp, 'match-all');
  mkdirSync(join(root, 'etc/ssh'), { recursive: true });
  writeFileSync(join(root, 'etc/ssh/sshd_config'), MATCH_ALL_CONFIG);
  const { facts } = await factsUnder(root);
  expect(facts[sshd('MaxAuthTries')]).toBe(3);
  expect(facts[sshd('AllowUsers')]).toEqual(['b', 'c']);
  expect(facts[sshd('Match')]).toEqual(['all', 'all']);
});

describe.skipIf(noSshd !== undefined)(`security.sshd equals sshd -T ${noSshd ? `(skipped: ${noSshd})` : ''}`, () => {
  for (const name of ['debian-12', 'ubuntu-cloud', 'hardened']) {
    it(`${name}`, async () => {
      const root = hostRootWith(name, `${name}-for-sshd`);
      const { facts } = await factsUnder(root);
      expectSameAsSshd(facts, sshdTest(['-f', sshdCopy(root)]));
    });
  }

  it('`Match all` blocks', async () => {
    const root = join(temp, 'match-all-for-sshd');
    mkdirSync(join(root, 'etc/ssh'), { recursive: true });
    writeFileSync(join(root, 'etc/ssh/sshd_config'), MATCH_ALL_CONFIG);
    const { facts } = await factsUnder(root);
    expectSameAsSshd(facts, sshdTest(['-f', join(root, 'etc/ssh/sshd_config')]));
  });

  it("this machine's config and the Debian package's default", async (context) => {
    const files = ['/etc/ssh/sshd_config', DEBIAN_PACKAGE_DEFAULT].filter((file) => existsSync(file));
    if (files.length === 0) return context.skip();
    for (const file of files) {
      const facts = await collectSshdFacts(LOCAL_HOST_FS, undefined, file);
      expectSameAsSshd(facts, sshdTest(['-f', file]));
    }
  });
});
