import { afterEach, describe, expect, it } from 'vitest';
import { T0 } from '../../testing/drift-fleet.js';
import { ConflictError, InvalidRequestError } from '../errors.js';
import { openSqliteFactStore, type SqliteFactStore } from '../store/sqlite-fact-store.js';
import { FleetCommands } from './fleet-commands.js';

const stores: SqliteFactStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

function setup() {
  const store = openSqliteFactStore({ path: ':memory:', flushIntervalMs: 1 });
  stores.push(store);
  const told: string[][] = [];
  const commands = new FleetCommands({
    store,
    drift: { exceptionsChanged: (environments) => told.push([...environments]) },
  });
  return { store, commands, told };
}

const rule = { path: 'config.env.LOG_LEVEL', reason: 'verbose in staging', expiresAt: null, createdAt: T0 };

describe('FleetCommands', () => {
  it('tells the drift engine the environments of every exception it creates or deletes', async () => {
    const { store, commands, told } = setup();
    const record = await commands.createException({ ...rule, environments: ['staging', 'production'] });
    expect(told).toEqual([['staging', 'production']]);
    expect(store.listExceptions().map((e) => e.id)).toEqual([record.id]);
    expect(await commands.deleteException(record.id)).toEqual(record);
    expect(told).toEqual([
      ['staging', 'production'],
      ['staging', 'production'],
    ]);
    // Nothing to delete: nothing stored changes and the engine is not told.
    expect(await commands.deleteException(record.id)).toBeUndefined();
    expect(told).toHaveLength(2);
    expect(store.listExceptions()).toEqual([]);
  });

  it('refuses to delete an exception of the exceptions file, and tells the engine only what a reload changed', async () => {
    const { store, commands, told } = setup();
    const fileRule = { ...rule, id: 'f1', environments: ['qa'] };
    expect(await commands.replaceFileExceptions('file:/etc/envparity/exceptions.yaml', [fileRule])).toEqual(['qa']);
    expect(await commands.replaceFileExceptions('file:/etc/envparity/exceptions.yaml', [fileRule])).toEqual([]);
    expect(told).toEqual([['qa']]);
    await expect(commands.deleteException('f1')).rejects.toThrow(ConflictError);
    await expect(commands.deleteException('f1')).rejects.toThrow(/comes from the exceptions file/);
    expect(store.listExceptions().map((e) => e.id)).toEqual(['f1']);
    expect(told).toHaveLength(1);
  });
});

describe('FleetCommands.createExceptionRequest', () => {
  function checked() {
    const store = openSqliteFactStore({ path: ':memory:', flushIntervalMs: 1 });
    stores.push(store);
    const told: string[][] = [];
    const commands = new FleetCommands({
      store,
      drift: { exceptionsChanged: (environments) => told.push([...environments]) },
      catalog: { environments: () => ['production', 'staging'] },
      now: () => T0,
    });
    return { store, commands, told };
  }
  const request = { path: 'library.*', environments: ['staging', 'production'], reason: 'upgrade after the freeze' };

  it('creates a checked request as its creator, at the clock, and tells the engine', async () => {
    const { store, commands, told } = checked();
    const expiresAt = new Date(T0 + 60_000).toISOString();
    const record = await commands.createExceptionRequest(
      { ...request, owner: 'platform', expiresAt },
      { createdBy: 'ci' },
    );
    expect(record).toMatchObject({
      ...request,
      owner: 'platform',
      expiresAt: T0 + 60_000,
      createdAt: T0,
      createdBy: 'ci',
    });
    expect(record).not.toHaveProperty('impact');
    expect(store.listExceptions().map((e) => e.id)).toEqual([record.id]);
    expect(told).toEqual([['staging', 'production']]);
  });

  it('refuses a bad glob, an unknown environment and a past expiry with the field named, creating nothing', async () => {
    const { store, commands, told } = checked();
    const refused: [object, string, RegExp][] = [
      [{ path: 'library..x' }, 'path', /`path` is not a valid path glob/],
      [
        { environments: ['staging', 'qa'] },
        'environments',
        /`environments\[1\]`: unknown environment "qa".*known: production, staging/,
      ],
      [{ expiresAt: new Date(T0).toISOString() }, 'expiresAt', /`expiresAt` must be in the future/],
    ];
    for (const [change, field, message] of refused) {
      const attempt = commands.createExceptionRequest({ ...request, ...change }, { createdBy: 'ci' });
      await expect(attempt).rejects.toThrow(InvalidRequestError);
      await expect(attempt).rejects.toMatchObject({ field, message: expect.stringMatching(message) });
    }
    expect(store.listExceptions()).toEqual([]);
    expect(told).toEqual([]);
  });

  it('asks an exception that can cover security facts for an owner and an expiry within 180 days', async () => {
    const { store, commands } = checked();
    const day = 86_400_000;
    const inDays = (days: number) => new Date(T0 + days * day).toISOString();
    const security = { ...request, path: 'security.sshd.PasswordAuthentication' };
    const refused: [object, string, RegExp][] = [
      [
        { expiresAt: inDays(30) },
        'owner',
        /`owner` is required: `security.sshd.PasswordAuthentication` can cover security/,
      ],
      [{ owner: '  ', expiresAt: inDays(30) }, 'owner', /`owner` is required/],
      [{ owner: 'secops' }, 'expiresAt', /`expiresAt` is required, at most 180 days ahead/],
      [{ owner: 'secops', expiresAt: inDays(181) }, 'expiresAt', /at most 180 days ahead \(by 2025-06-30/],
      [{ path: '**', owner: 'secops' }, 'expiresAt', /`\*\*` can cover security/],
      [{ path: '*.sshd.*', expiresAt: inDays(1) }, 'owner', /`owner` is required/],
    ];
    for (const [change, field, message] of refused) {
      const attempt = commands.createExceptionRequest({ ...security, ...change }, { createdBy: 'ci' });
      await expect(attempt).rejects.toMatchObject({ field, message: expect.stringMatching(message) });
    }
    expect(store.listExceptions()).toEqual([]);
    // Within the rules it is created; a glob that cannot reach security facts needs neither.
    await commands.createExceptionRequest(
      { ...security, owner: 'secops', expiresAt: inDays(180) },
      { createdBy: 'ci' },
    );
    await commands.createExceptionRequest({ ...request, path: 'config.env.*' }, { createdBy: 'ci' });
    expect(store.listExceptions().map((e) => e.path)).toEqual(['security.sshd.PasswordAuthentication', 'config.env.*']);
  });
});
