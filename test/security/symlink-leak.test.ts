/**
 * Issue 10, failure 7: a watched `x.ini` symlinked to a shadow-like file turned every line into a
 * fact. The real agent bin (`collect --json`) must leak nothing of it: by default the symlink is
 * not read at all; with `watch.followSymlinks: true` the real file's name (`shadow`) decides the
 * format, so it is only hashed, never parsed into keys.
 */
import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { factPath } from '@envparity/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProcesses, makeTempDir, runAgentCli } from '../helpers/index.js';
import { minimalAgentConfig } from './fake-aggregator.js';

afterEach(() => cleanupProcesses());

const USERS = Array.from({ length: 25 }, (_, i) => `user${String(i).padStart(2, '0')}x`);
const SHADOW = USERS.map((user, i) => `${user}:$6$salt${i}$${'h'.repeat(20)}${i}:19000:0:99999:7:::`).join('\n');

async function collect(
  config: Record<string, unknown>,
  dir: string,
): Promise<{ facts: Record<string, unknown>; stdout: string }> {
  const configFile = join(dir, `agent-${Date.now()}.json`);
  await writeFile(configFile, JSON.stringify(config));
  const result = await runAgentCli(['collect', '--config', configFile, '--json'], {
    ...process.env,
    ENVPARITY_STATE_DIR: join(dir, 'state'),
  });
  expect(result.code, result.stderr).toBe(0);
  const document = JSON.parse(result.stdout) as { facts: Record<string, unknown> };
  return { facts: document.facts, stdout: result.stdout };
}

function expectNoLeak(stdout: string): void {
  for (const user of USERS) expect(stdout).not.toContain(user);
  expect(stdout).not.toContain('$6$');
  expect(stdout).not.toContain('hhhhhhhhhh');
}

describe('watched files behind symlinks', () => {
  it('does not read a watched x.ini that is a symlink to a shadow file', async () => {
    const dir = await makeTempDir('envparity-security-symlink-');
    await writeFile(join(dir, 'shadow'), SHADOW, { mode: 0o600 });
    const link = join(dir, 'x.ini');
    await symlink(join(dir, 'shadow'), link);
    const { facts, stdout } = await collect(minimalAgentConfig({ watch: { files: [link] } }), dir);
    expectNoLeak(stdout);
    const ofFile = Object.keys(facts).filter((path) => path.startsWith(factPath('config', 'file', link)));
    expect(ofFile).toEqual([factPath('config', 'file', link, '#error')]);
    expect(facts[factPath('config', 'file', link, '#error')]).toBe(
      'symlink not followed (watch.followSymlinks is false)',
    );
  });

  it('with followSymlinks, parses by the real name: the shadow file is only hashed', async () => {
    const dir = await makeTempDir('envparity-security-symlink-');
    await writeFile(join(dir, 'shadow'), SHADOW, { mode: 0o600 });
    const link = join(dir, 'x.ini');
    await symlink(join(dir, 'shadow'), link);
    const { facts, stdout } = await collect(
      minimalAgentConfig({ watch: { files: [link], followSymlinks: true } }),
      dir,
    );
    expectNoLeak(stdout);
    const ofFile = Object.keys(facts)
      .filter((path) => path.startsWith(factPath('config', 'file', link)))
      .sort();
    expect(ofFile).toEqual(
      [factPath('config', 'file', link, '#format'), factPath('config', 'file', link, '#sha256')].sort(),
    );
    expect(facts[factPath('config', 'file', link, '#format')]).toBe('raw');
  });

  it('does not read a watch.envFiles entry that is a symlink (the env file rule is the same)', async () => {
    const dir = await makeTempDir('envparity-security-symlink-');
    // A credentials file in KEY=VALUE form: read as an env file, every line would become a fact.
    const credentials = USERS.map((user, i) => `${user.toUpperCase()}=$6$salt${i}$${'h'.repeat(20)}`).join('\n');
    await writeFile(join(dir, 'credentials'), credentials, { mode: 0o600 });
    const link = join(dir, 'app.env');
    await symlink(join(dir, 'credentials'), link);
    const { facts, stdout } = await collect(minimalAgentConfig({ watch: { envFiles: [link] } }), dir);
    for (const user of USERS) expect(stdout).not.toContain(user.toUpperCase());
    expect(stdout).not.toContain('$6$');
    const ofFile = Object.keys(facts).filter((path) => path.startsWith(factPath('config', 'envFile', link)));
    expect(ofFile).toEqual([factPath('config', 'envFile', link, '#error')]);
    expect(facts[factPath('config', 'envFile', link, '#error')]).toBe(
      'symlink not followed (watch.followSymlinks is false)',
    );
    // Opted in, the file is read through the link.
    const followed = await collect(minimalAgentConfig({ watch: { envFiles: [link], followSymlinks: true } }), dir);
    expect(
      Object.keys(followed.facts).filter((path) => path.startsWith(factPath('config', 'envFile', link))),
    ).toHaveLength(USERS.length);
  });
});
