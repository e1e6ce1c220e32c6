import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { factPath } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretHasher } from '../secrets.js';
import { collectEnvFileFacts, envFileEntry, parseSystemdEnvironmentFile } from './env-files.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envparity-envfiles-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const secrets = createSecretHasher('k', ['*PASSWORD*']);

describe('parseSystemdEnvironmentFile', () => {
  it('reads systemd EnvironmentFile= syntax', () => {
    const text = [
      '# comment',
      '; also a comment',
      'LOG_LEVEL=info',
      '  SPACED =  value with spaces  ',
      'QUOTED="a \\"b\\" \\\\ c"',
      "SINGLE='literal \\n'",
      'CONT=one \\',
      'two',
      'MULTI="line1',
      'line2"',
      'INLINE=x # not a comment in systemd',
      'no equals sign',
      '1BAD=skipped',
      'EMPTY=',
    ].join('\n');
    expect(parseSystemdEnvironmentFile(text)).toEqual({
      LOG_LEVEL: 'info',
      SPACED: 'value with spaces',
      QUOTED: 'a "b" \\ c',
      SINGLE: 'literal \\n',
      CONT: 'one two',
      MULTI: 'line1\nline2',
      INLINE: 'x # not a comment in systemd',
      EMPTY: '',
    });
  });
});

describe('envFileEntry', () => {
  it('plain paths under /etc/default and /etc/sysconfig are systemd syntax, others dotenv', () => {
    expect(envFileEntry('/etc/default/api')).toEqual({ path: '/etc/default/api', format: 'systemd' });
    expect(envFileEntry('/etc/sysconfig/api')).toEqual({ path: '/etc/sysconfig/api', format: 'systemd' });
    expect(envFileEntry('/srv/app/.env')).toEqual({ path: '/srv/app/.env', format: 'dotenv' });
    expect(envFileEntry({ path: '/srv/app/env', format: 'systemd' })).toEqual({
      path: '/srv/app/env',
      format: 'systemd',
    });
  });
});

describe('collectEnvFileFacts', () => {
  it('every variable of each file under config.envFile[<path>], secrets hashed, missing files marked', async () => {
    const dotenv = join(dir, '.env');
    const unit = join(dir, 'api.conf');
    await writeFile(
      dotenv,
      'export LOG_LEVEL=debug\nDB_PASSWORD="canary env file" # inline comment\nFEATURE_X=on # flag\n',
    );
    await writeFile(unit, 'LOG_LEVEL=warn\nDB_PASSWORD=canary-unit\n');
    const missing = join(dir, 'absent.env');
    const errors: string[] = [];
    const facts = await collectEnvFileFacts(
      [dotenv, { path: unit, format: 'systemd' }, missing, dir],
      secrets,
      (message) => errors.push(message),
    );
    expect(facts).toEqual({
      [factPath('config', 'envFile', dotenv, 'LOG_LEVEL')]: 'debug',
      [factPath('config', 'envFile', dotenv, 'DB_PASSWORD')]: secrets.hash('canary env file'),
      [factPath('config', 'envFile', dotenv, 'FEATURE_X')]: 'on',
      [factPath('config', 'envFile', unit, 'LOG_LEVEL')]: 'warn',
      [factPath('config', 'envFile', unit, 'DB_PASSWORD')]: secrets.hash('canary-unit'),
      [factPath('config', 'envFile', missing, '#missing')]: true,
      [factPath('config', 'envFile', dir, '#error')]: 'EISDIR',
    });
    expect(errors).toEqual([`env file ${dir}: EISDIR`]);
    expect(JSON.stringify(facts)).not.toContain('canary');
  });
});
