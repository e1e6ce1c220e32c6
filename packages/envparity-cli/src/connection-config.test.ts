import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFilePath, DEFAULT_URL, loadConfigFile, resolveConnection } from './connection-config.js';
import { ConfigFileError } from './usage-error.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envparity-cli-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('resolveConnection', () => {
  const file = { url: 'http://file:1', token: 'file-token' };
  const env = { ENVPARITY_URL: 'http://env:2', ENVPARITY_TOKEN: 'env-token' };

  it('flag > env > file > default, each value on its own', () => {
    expect(
      resolveConnection({ flags: { url: 'http://flag:3', token: 'flag-token' }, env, file, configFile: 'f' }),
    ).toMatchObject({
      url: 'http://flag:3',
      token: 'flag-token',
      sources: { url: 'flag', token: 'flag' },
    });
    expect(resolveConnection({ flags: {}, env, file, configFile: 'f' })).toMatchObject({
      url: 'http://env:2',
      token: 'env-token',
      sources: { url: 'env', token: 'env' },
    });
    expect(resolveConnection({ flags: {}, env: {}, file, configFile: 'f' })).toMatchObject({
      url: 'http://file:1',
      token: 'file-token',
      sources: { url: 'file', token: 'file' },
    });
    expect(resolveConnection({ flags: {}, env: {}, file: {}, configFile: 'f' })).toMatchObject({
      url: DEFAULT_URL,
      token: undefined,
      sources: { url: 'default', token: 'none' },
    });
    // Mixed: URL from a flag, token from the file.
    expect(resolveConnection({ flags: { url: 'http://flag:3' }, env: {}, file, configFile: 'f' })).toMatchObject({
      url: 'http://flag:3',
      token: 'file-token',
      sources: { url: 'flag', token: 'file' },
    });
  });

  it('an empty environment variable does not count', () => {
    expect(resolveConnection({ flags: {}, env: { ENVPARITY_TOKEN: '' }, file, configFile: 'f' }).token).toBe(
      'file-token',
    );
  });
});

describe('configFilePath', () => {
  it('is $ENVPARITY_CONFIG, else $XDG_CONFIG_HOME/envparity/cli.yaml, else ~/.config/envparity/cli.yaml', () => {
    expect(configFilePath({ ENVPARITY_CONFIG: '/etc/x.yaml', XDG_CONFIG_HOME: '/xdg' }, '/home/u')).toBe('/etc/x.yaml');
    expect(configFilePath({ XDG_CONFIG_HOME: '/xdg' }, '/home/u')).toBe('/xdg/envparity/cli.yaml');
    expect(configFilePath({ HOME: '/home/h' }, '/home/u')).toBe('/home/h/.config/envparity/cli.yaml');
    expect(configFilePath({}, '/home/u')).toBe('/home/u/.config/envparity/cli.yaml');
  });
});

describe('loadConfigFile', () => {
  it('reads url and token from YAML', async () => {
    const path = join(dir, 'ok.yaml');
    await writeFile(path, 'url: http://agg.internal:7300\ntoken: ept_abc\n');
    expect(await loadConfigFile(path)).toEqual({ url: 'http://agg.internal:7300', token: 'ept_abc' });
  });

  it('a missing default file is empty; a missing named one is an error', async () => {
    expect(await loadConfigFile(join(dir, 'absent.yaml'))).toEqual({});
    await expect(loadConfigFile(join(dir, 'absent.yaml'), { required: true })).rejects.toThrow(
      /absent\.yaml: cannot read.*ENOENT/,
    );
  });

  it('refuses unknown keys, non-strings and bad YAML naming the file and key', async () => {
    const unknown = join(dir, 'unknown.yaml');
    await writeFile(unknown, 'url: http://x\ntokn: t\n');
    await expect(loadConfigFile(unknown)).rejects.toThrow(`${unknown}: tokn: unknown key (known: url, token)`);
    const number = join(dir, 'number.yaml');
    await writeFile(number, 'token: 12\n');
    await expect(loadConfigFile(number)).rejects.toThrow(/token: expected a non-empty string/);
    const broken = join(dir, 'broken.yaml');
    await writeFile(broken, 'url: [unclosed\n');
    await expect(loadConfigFile(broken)).rejects.toBeInstanceOf(ConfigFileError);
    const list = join(dir, 'list.yaml');
    await writeFile(list, '- a\n');
    await expect(loadConfigFile(list)).rejects.toThrow(/expected a mapping/);
  });
});
