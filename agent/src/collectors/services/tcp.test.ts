/**
 * The tcp probe against a real sshd (a throwaway one on a free port with a temp host key; its
 * banner compared with the version `sshd -V` prints) and node:net servers that greet in text, in
 * pieces, in binary, or not at all; a closed port is refused.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceSchema, type TcpServiceConfig } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../../test/helpers/mariadb-server.js';
import { type ManagedProcess, spawnManaged } from '../../../../test/helpers/processes.js';
import { waitFor } from '../../../../test/helpers/wait-for.js';
import { observeService } from './observe.js';
import { bannerLine, MAX_BANNER_CHARS } from './tcp.js';

const SSHD_PATH = '/usr/sbin/sshd';

function tcpSpec(fields: Partial<TcpServiceConfig> & { port: number }): TcpServiceConfig {
  return serviceSchema.parse({ name: 'edge', type: 'tcp', host: '127.0.0.1', ...fields }) as TcpServiceConfig;
}

/** A server that runs `greet` on each connection it accepts. */
async function withServer<T>(greet: (socket: Socket) => void, use: (port: number) => Promise<T>): Promise<T> {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.resume();
    greet(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  try {
    return await use(typeof address === 'object' && address ? address.port : 0);
  } finally {
    server.close();
  }
}

/** Why a throwaway sshd cannot run here (it needs /run/sshd, which root can make), or undefined. */
function sshdUnavailable(): string | undefined {
  let reason: string | undefined;
  if (!existsSync(SSHD_PATH)) reason = `no ${SSHD_PATH} (apt-get install openssh-server)`;
  else if (!existsSync('/run/sshd')) {
    try {
      mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    } catch {
      reason = 'sshd needs /run/sshd, which only root can create';
    }
  }
  if (reason && process.env.ENVPARITY_REQUIRE_SERVERS === '1')
    throw new Error(`server tests are required here: ${reason}`);
  return reason;
}

describe('banner line', () => {
  it('takes the first line, trimmed, without its CR', () => {
    expect(bannerLine(Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\nrest'))).toBe('SSH-2.0-OpenSSH_9.2p1 Debian-2');
    expect(bannerLine(Buffer.from('  220 ready  '))).toBe('220 ready');
    expect(bannerLine(Buffer.from('* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n'))).toBe(
      '* OK [CAPABILITY IMAP4rev1] Dovecot ready.',
    );
  });

  it('caps a long line', () => {
    expect(bannerLine(Buffer.from(`${'x'.repeat(500)}\n`))).toBe('x'.repeat(MAX_BANNER_CHARS));
  });

  it('has none for nothing, blanks or binary', () => {
    expect(bannerLine(Buffer.alloc(0))).toBeUndefined();
    expect(bannerLine(Buffer.from(' \r\n'))).toBeUndefined();
    expect(bannerLine(Buffer.from([0x4a, 0, 0, 0, 0x0a, 0x35, 0x2e]))).toBeUndefined();
    expect(bannerLine(Buffer.from([0xff, 0xfe, 0x41, 0x0a]))).toBeUndefined();
  });
});

describe('tcp probe', () => {
  it('reads a text greeting', async () => {
    await withServer(
      (socket) => socket.write('220 mail.example.test ESMTP Postfix (Debian/GNU)\r\n'),
      async (port) => {
        expect(await observeService(tcpSpec({ port }))).toMatchObject({
          reachable: true,
          facts: { banner: '220 mail.example.test ESMTP Postfix (Debian/GNU)' },
        });
      },
    );
  });

  it('waits for a line that arrives in pieces', async () => {
    await withServer(
      (socket) => {
        socket.write('SSH-2.0-');
        setTimeout(() => socket.write('Pieces_1.0\r\n'), 50);
      },
      async (port) => {
        expect((await observeService(tcpSpec({ port }))).facts).toEqual({ banner: 'SSH-2.0-Pieces_1.0' });
      },
    );
  });

  it('has no banner for a server that waits for the client, and stays reachable within a short timeout', async () => {
    await withServer(
      () => {},
      async (port) => {
        const observation = await observeService(tcpSpec({ port, timeout: 0.2 }));
        expect(observation).toMatchObject({ reachable: true, facts: {} });
        expect(observation.error).toBeUndefined();
      },
    );
  });

  it('has no banner for a binary greeting or a server that hangs up', async () => {
    const greeting = Buffer.from([0x4a, 0, 0, 0, 0x0a, ...Buffer.from('5.5.5-10.11.6-MariaDB'), 0, 1, 2, 3]);
    await withServer(
      (socket) => socket.write(greeting),
      async (port) => {
        expect(await observeService(tcpSpec({ port }))).toMatchObject({ reachable: true, facts: {} });
      },
    );
    await withServer(
      (socket) => socket.end(),
      async (port) => {
        expect(await observeService(tcpSpec({ port }))).toMatchObject({ reachable: true, facts: {} });
      },
    );
  });

  it('does not read when banner is false', async () => {
    await withServer(
      (socket) => socket.write('220 hello\r\n'),
      async (port) => {
        expect(await observeService(tcpSpec({ port, banner: false }))).toMatchObject({ reachable: true, facts: {} });
      },
    );
  });

  it('closes its connection', async () => {
    const sockets = new Set<Socket>();
    await withServer(
      (socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.write('220 hello\r\n');
      },
      async (port) => {
        await observeService(tcpSpec({ port }));
        await waitFor(() => sockets.size === 0, { message: 'the probe to close its socket' });
      },
    );
  });

  it('says the connection was refused', async () => {
    const port = await freePort();
    expect(await observeService(tcpSpec({ port }))).toMatchObject({
      reachable: false,
      facts: {},
      error: `connection refused at 127.0.0.1:${port}`,
    });
  });
});

const noSshd = sshdUnavailable();

describe.skipIf(noSshd !== undefined)(`tcp probe on a real sshd${noSshd ? ` (skipped: ${noSshd})` : ''}`, () => {
  let dir: string;
  let sshd: ManagedProcess;
  let port: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'envparity-sshd-'));
    const key = join(dir, 'host_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    port = await freePort();
    // -f /dev/null: none of the machine's sshd_config; -D -e: foreground, log to stderr.
    sshd = spawnManaged(
      SSHD_PATH,
      [
        '-D',
        '-e',
        '-f',
        '/dev/null',
        '-h',
        key,
        '-p',
        String(port),
        '-o',
        'ListenAddress=127.0.0.1',
        '-o',
        'PidFile=none',
      ],
      { name: 'sshd' },
    );
    await waitFor(
      () =>
        new Promise<boolean>((resolve, reject) => {
          if (!sshd.running) reject(new Error(`sshd exited: ${sshd.tail()}`));
          const probe = connect(port, '127.0.0.1', () => {
            probe.destroy();
            resolve(true);
          });
          probe.on('error', () => resolve(false));
        }),
      { message: `sshd on 127.0.0.1:${port}` },
    );
  });
  afterAll(async () => {
    await sshd?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("reads sshd's identification line, the version sshd -V prints", async () => {
    // "OpenSSH_9.2, OpenSSL 3.0.19 27 Jan 2026" (on stderr)
    const printed = spawnSync(SSHD_PATH, ['-V'], { encoding: 'utf8' });
    const version = `${printed.stderr}${printed.stdout}`.split(',')[0]?.trim();
    const observation = await observeService(tcpSpec({ port }));
    expect(observation).toMatchObject({ reachable: true });
    expect(observation.facts.banner).toMatch(/^SSH-2\.0-OpenSSH_/);
    expect(String(observation.facts.banner).startsWith(`SSH-2.0-${version}`)).toBe(true);
  });
});
