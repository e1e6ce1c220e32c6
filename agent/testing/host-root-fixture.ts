/**
 * A host root for host-mode tests (`--host-root DIR`), built from real files: this machine's
 * os-release, /proc/meminfo, /proc/cpuinfo and /proc/stat copied and then EDITED so their values
 * differ from this machine's (a fact equal to the fixture's value cannot have come from here), and
 * the real Alpine apk database and Ubuntu dpkg status file of /work/shared/fixtures. Symlinks with
 * ABSOLUTE targets (`etc/os-release -> /usr/lib/os-release`, `etc/resolv.conf`, `usr/bin/java`)
 * prove reads stay inside the root: this machine has files at those absolute paths too.
 *
 * The runtimes' "binaries" are shell scripts that create a marker file when run: host mode must
 * never execute a host program, so the marker must never appear.
 */
import { readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export const FIXTURES_DIR = '/work/shared/fixtures';

/** What the built root says, for assertions. */
export const HOST_ROOT_FIXTURE = {
  prettyName: 'Envparity Fixture Linux 99 (host mode)',
  versionId: '99',
  memTotalKb: 12_345_678,
  cpuModel: 'Envparity Fixture CPU @ 1.23GHz',
  cpuOnline: '0-37',
  cores: 38,
  hostname: 'host-mode-fixture',
  machineId: '0123456789abcdef0123456789abcdef',
  timezone: 'Pacific/Chatham',
  nameserver: '10.53.0.1',
  hostsName: 'db.fixture.internal',
  hostsAddress: '10.9.8.7',
  pidMax: 31_337,
  python: '3.11.99',
  node: '21.99.1',
  java: '17.0.99',
  /** perl-base in the Ubuntu dpkg status fixture: `5.30.0-9build1`. */
  perl: '5.30.0',
  /** musl in the Alpine apk fixture: `1.1.16-r9`. */
  musl: '1.1.16',
  watchedFile: '/etc/myapp/config.yaml',
  watchedDbHost: 'db.fixture.internal',
} as const;

function readableText(...files: string[]): string {
  for (const file of files) {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      // try the next
    }
  }
  throw new Error(`none of ${files.join(', ')} is readable`);
}

async function write(root: string, path: string, content: string, mode?: number): Promise<void> {
  const file = join(root, path);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content);
  if (mode !== undefined) await chmod(file, mode);
}

async function link(root: string, path: string, target: string): Promise<void> {
  const file = join(root, path);
  await mkdir(dirname(file), { recursive: true });
  await symlink(target, file);
}

/** Replaces the value of `KEY=` lines (os-release) or adds the line. */
function setKey(text: string, key: string, value: string): string {
  const line = `${key}="${value}"`;
  const pattern = new RegExp(`^${key}=.*$`, 'm');
  return pattern.test(text) ? text.replace(pattern, line) : `${text.trimEnd()}\n${line}\n`;
}

/**
 * Builds the host root in `root` (an empty directory). `marker` is the file a runtime "binary"
 * creates if anything ever runs it.
 */
export async function buildHostRoot(root: string, marker: string): Promise<void> {
  const f = HOST_ROOT_FIXTURE;
  // os-release: this machine's, edited; /etc/os-release an ABSOLUTE link to /usr/lib/os-release.
  let osRelease = readableText('/usr/lib/os-release', '/etc/os-release');
  osRelease = setKey(osRelease, 'PRETTY_NAME', f.prettyName);
  osRelease = setKey(osRelease, 'VERSION_ID', f.versionId);
  await write(root, 'usr/lib/os-release', osRelease);
  await link(root, 'etc/os-release', '/usr/lib/os-release');
  await write(root, 'etc/timezone', `${f.timezone}\n`);
  await write(root, 'etc/hostname', `${f.hostname}\n`);
  await write(root, 'etc/machine-id', `${f.machineId}\n`);
  await write(root, 'etc/hosts', `127.0.0.1 localhost\n127.0.1.1 ${f.hostname}\n${f.hostsAddress} ${f.hostsName}\n`);
  await write(root, 'run/systemd/resolve/stub-resolv.conf', `nameserver ${f.nameserver}\nsearch fixture.internal\n`);
  await link(root, 'etc/resolv.conf', '/run/systemd/resolve/stub-resolv.conf');
  await write(root, 'etc/myapp/config.yaml', `db:\n  host: ${f.watchedDbHost}\n  port: 5432\n`);

  // Package databases: the real fixtures.
  await mkdir(join(root, 'var/lib/dpkg/info'), { recursive: true });
  await copyFile(join(FIXTURES_DIR, 'dpkg/status'), join(root, 'var/lib/dpkg/status'));
  await mkdir(join(root, 'lib/apk/db'), { recursive: true });
  await copyFile(join(FIXTURES_DIR, 'apk/installed'), join(root, 'lib/apk/db/installed'));
  // perl-base's file list, as dpkg writes it (the status fixture lists perl-base).
  await write(root, 'var/lib/dpkg/info/perl-base.list', '/.\n/usr\n/usr/bin\n/usr/bin/perl\n');

  // /proc: this machine's meminfo, cpuinfo and stat, edited.
  const meminfo = readableText('/proc/meminfo').replace(/^MemTotal:\s+\d+ kB$/m, `MemTotal:       ${f.memTotalKb} kB`);
  await write(root, 'proc/meminfo', meminfo);
  const cpuinfo = readableText('/proc/cpuinfo').replace(/^model name\s*:.*$/gm, `model name\t: ${f.cpuModel}`);
  await write(
    root,
    'proc/cpuinfo',
    cpuinfo.includes(f.cpuModel) ? cpuinfo : `${cpuinfo}\nmodel name\t: ${f.cpuModel}\n`,
  );
  await write(root, 'proc/stat', readableText('/proc/stat'));
  await write(root, 'proc/sys/kernel/pid_max', `${f.pidMax}\n`);
  await write(root, 'proc/sys/net/core/somaxconn', '7\n');
  await write(root, 'sys/devices/system/cpu/online', `${f.cpuOnline}\n`);

  // Runtimes: scripts that leave a marker if run; versions only in their files.
  const trap = `#!/bin/sh\ntouch ${JSON.stringify(marker)}\necho 0.0.0\n`;
  await write(root, 'usr/bin/python3.11', trap, 0o755);
  await link(root, 'usr/bin/python3', 'python3.11');
  await write(root, 'usr/include/python3.11/patchlevel.h', `#define PY_VERSION "${f.python}"\n`);
  await write(root, 'usr/local/bin/node', trap, 0o755);
  const [major, minor, patch] = f.node.split('.');
  await write(
    root,
    'usr/local/include/node/node_version.h',
    `#define NODE_MAJOR_VERSION ${major}\n#define NODE_MINOR_VERSION ${minor}\n#define NODE_PATCH_VERSION ${patch}\n`,
  );
  await write(root, 'usr/lib/jvm/fixture-jdk/bin/java', trap, 0o755);
  await write(root, 'usr/lib/jvm/fixture-jdk/release', `JAVA_VERSION="${f.java}"\n`);
  await link(root, 'usr/bin/java', '/usr/lib/jvm/fixture-jdk/bin/java');
  await write(root, 'usr/bin/perl', trap, 0o755);
  // A runtime whose version no file says: reported in errors, never run.
  await write(root, 'usr/bin/bun', trap, 0o755);
}

/** This machine's value of a /proc/meminfo field in kB (to check the fixture differs). */
export async function machineMemTotalKb(): Promise<number | undefined> {
  const text = await readFile('/proc/meminfo', 'utf8').catch(() => '');
  const match = /^MemTotal:\s+(\d+)/m.exec(text);
  return match ? Number(match[1]) : undefined;
}
