import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@envparity/shared';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { T0 } from '../testing/drift-fleet.js';
import { createExceptionsFileLoader, fileExceptionId, parseExceptionsFile } from './exceptions-file.js';
import { createEnvironmentCatalog } from './queries/environment-catalog.js';
import { FleetCommands } from './queries/fleet-commands.js';
import { openSqliteFactStore, type SqliteFactStore } from './store/sqlite-fact-store.js';

const known = createEnvironmentCatalog({ environments: () => ['staging'] }, ['staging', 'production', 'perf']);
const parse = (text: string) => parseExceptionsFile(text, { file: 'exceptions.yaml', known, now: T0 });

const stores: SqliteFactStore[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('parseExceptionsFile', () => {
  it('reads a YAML list (or `exceptions:`) with the API fields, stable ids and expiries', () => {
    const list = parse(`
- path: config.env.LOG_LEVEL
  environments: [staging, production]
  reason: verbose logs in staging
  owner: platform
- id: perf-cores
  path: hardware.**
  environments: [perf]
  reason: the perf rig is bigger
  expiresAt: "2026-01-01T00:00:00Z"
`);
    expect(list).toEqual([
      {
        id: fileExceptionId('config.env.LOG_LEVEL', ['production', 'staging']),
        path: 'config.env.LOG_LEVEL',
        environments: ['staging', 'production'],
        reason: 'verbose logs in staging',
        owner: 'platform',
        expiresAt: null,
        createdAt: T0,
      },
      {
        id: 'perf-cores',
        path: 'hardware.**',
        environments: ['perf'],
        reason: 'the perf rig is bigger',
        expiresAt: Date.parse('2026-01-01T00:00:00Z'),
        createdAt: T0,
      },
    ]);
    expect(parse('{"exceptions": []}')).toEqual([]);
    expect(parse('')).toEqual([]);
  });

  it('takes a security exception with an owner and an expiry within 180 days', () => {
    const [entry] = parse(
      '- { path: security.sshd.*, environments: [staging], reason: r, owner: secops, expiresAt: "2025-06-01T00:00:00Z" }',
    );
    expect(entry).toMatchObject({
      path: 'security.sshd.*',
      owner: 'secops',
      expiresAt: Date.parse('2025-06-01T00:00:00Z'),
    });
  });

  it('names the entry and says what is wrong, in the API’s words', () => {
    const problems: [string, string][] = [
      [
        '- { path: config.env.A, environments: [staging] }',
        'exceptions.yaml: exception 1 (path config.env.A): `reason` is required: say why this difference is intended',
      ],
      [
        '- { path: config.env.A, environments: [staging], reason: r }\n- { path: "config..B", environments: [staging], reason: r }',
        'exceptions.yaml: exception 2 (path config..B): `path` is not a valid path glob',
      ],
      [
        '- { path: config.env.A, environments: [prod], reason: r }',
        'exceptions.yaml: exception 1 (path config.env.A): unknown environment "prod": declare it in the aggregator config (`environments:`) or let a host report it; known: perf, production, staging',
      ],
      [
        '- { path: config.env.A, environments: [staging], reason: r }\n- { path: config.env.A, environments: [staging], reason: other }',
        'exceptions.yaml: exception 2 (path config.env.A): same path and environments as exception 1',
      ],
      ['- { path: a.b, environments: [staging], reason: r, severity: high }', '`severity` is not a known field'],
      [
        '- { path: security.sshd.PasswordAuthentication, environments: [staging], reason: r, expiresAt: "2025-02-01T00:00:00Z" }',
        'exceptions.yaml: exception 1 (path security.sshd.PasswordAuthentication): `owner` is required: `security.sshd.PasswordAuthentication` can cover security.** facts',
      ],
      [
        '- { path: "**", environments: [staging], reason: r, owner: secops }',
        '`expiresAt` is required, at most 180 days ahead (by 2025-06-30T12:00:00.000Z)',
      ],
      ['path: x', 'exceptions.yaml: expected a list of exceptions'],
      ['- [oops', 'exceptions.yaml: not valid YAML or JSON'],
    ];
    for (const [text, expected] of problems) {
      let error: unknown;
      try {
        parse(text);
      } catch (caught) {
        error = caught;
      }
      expect(error, text).toBeInstanceOf(ConfigError);
      expect((error as Error).message, text).toContain(expected);
    }
  });
});

describe('createExceptionsFileLoader', () => {
  it('loads into the store, tells the engine what changed, and keeps the previous set when a reload fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'envparity-exc-'));
    dirs.push(dir);
    const file = join(dir, 'exceptions.yaml');
    const store = openSqliteFactStore({ path: ':memory:', flushIntervalMs: 1 });
    stores.push(store);
    const changed: string[][] = [];
    const loader = createExceptionsFileLoader({
      file,
      exceptions: new FleetCommands({
        store,
        drift: { exceptionsChanged: (environments) => changed.push([...environments]) },
      }),
      known,
      logger: pino({ level: 'silent' }),
      now: () => T0,
    });
    writeFileSync(file, '- { path: config.env.A, environments: [staging, production], reason: r }\n');
    expect(await loader.load()).toMatchObject({ count: 1 });
    expect(store.listExceptions().map((e) => [e.path, e.source])).toEqual([['config.env.A', `file:${file}`]]);
    expect(changed).toEqual([['production', 'staging']]);

    writeFileSync(file, '- { path: config.env.A, environments: [staging, production] }\n');
    expect(await loader.reload()).toBe(false);
    expect(store.listExceptions().map((e) => e.path)).toEqual(['config.env.A']);

    writeFileSync(file, '- { path: config.env.B, environments: [perf], reason: r }\n');
    expect(await loader.reload()).toBe(true);
    expect(store.listExceptions().map((e) => e.path)).toEqual(['config.env.B']);
    expect(changed.at(-1)).toEqual(['perf', 'production', 'staging']);
  });
});
