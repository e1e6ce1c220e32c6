import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, validateAgentConfig } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHostFs } from './collectors/host-fs.js';
import { defaultHostId } from './host-id.js';
import { applyHostRoot, HOST_ROOT_ENV, HostRootError, hostRootOf, resolveHostRoot, withHostRoot } from './host-root.js';
import { applyRunFlags } from './run-command.js';

let dir: string;
let a: string;
let b: string;
let file: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envparity-host-root-'));
  a = await mkdtemp(join(dir, 'a-'));
  b = await mkdtemp(join(dir, 'b-'));
  file = join(dir, 'plain-file');
  await writeFile(file, 'x');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('host root settings', () => {
  it('a flag overrides the config, which overrides ENVPARITY_HOST_ROOT', async () => {
    const configured = withHostRoot(validateAgentConfig({}), a);
    expect(await resolveHostRoot(b, configured, { [HOST_ROOT_ENV]: '/nonexistent' })).toBe(b);
    expect(await resolveHostRoot(undefined, configured, { [HOST_ROOT_ENV]: b })).toBe(a);
    expect(await resolveHostRoot(undefined, validateAgentConfig({}), { [HOST_ROOT_ENV]: b })).toBe(b);
    expect(await resolveHostRoot(undefined, validateAgentConfig({}), {})).toBeUndefined();
    // `/` is this machine: no host mode.
    expect(await resolveHostRoot('/', validateAgentConfig({}), {})).toBeUndefined();
  });

  it('a missing directory or a file is a HostRootError naming it and where it came from', async () => {
    const missing = join(dir, 'missing');
    await expect(resolveHostRoot(missing, validateAgentConfig({}), {})).rejects.toThrow(
      new HostRootError(`--host-root ${missing}: no such directory`),
    );
    await expect(resolveHostRoot(undefined, validateAgentConfig({}), { [HOST_ROOT_ENV]: file })).rejects.toThrow(
      `${HOST_ROOT_ENV} ${file}: not a directory`,
    );
    const configured = withHostRoot(validateAgentConfig({}), missing);
    await expect(resolveHostRoot(undefined, configured, {})).rejects.toMatchObject({
      code: 'HOST_ROOT_INVALID',
      message: `hostRoot (config) ${missing}: no such directory`,
    });
  });

  it('the config key hostRoot is accepted (the shared schema does not know it yet) and survives flag merging', async () => {
    const config = validateAgentConfig({ hostRoot: a, environment: 'staging' });
    expect(hostRootOf(config)).toBe(a);
    expect(() => validateAgentConfig({ hostRoot: 42 })).toThrow(ConfigError);
    expect(() => validateAgentConfig({ hostRoot: a, nope: 1 })).toThrow(/nope: unknown key/);
    const merged = applyRunFlags(config, { environment: 'production' });
    expect(hostRootOf(merged)).toBe(a);
    expect(merged.environment).toBe('production');
    expect(hostRootOf(await applyHostRoot(merged, b, {}))).toBe(b);
  });

  it('the default host id comes from the host root: its hostname and machine id', async () => {
    const root = await mkdtemp(join(dir, 'root-'));
    await mkdir(join(root, 'etc'));
    await writeFile(join(root, 'etc/hostname'), 'web-7\n');
    await writeFile(join(root, 'etc/machine-id'), 'feedfacefeedfacefeedfacefeedface\n');
    expect(await defaultHostId(createHostFs(root))).toMatch(/^web-7-[0-9a-f]{8}$/);
  });
});
