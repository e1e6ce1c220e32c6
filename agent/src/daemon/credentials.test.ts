import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isUsableCredential, readCredentials } from './credentials.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envparity-credentials-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readCredentials', () => {
  it('reads a good token and fleet key', async () => {
    await writeFile(join(dir, 'agent-token'), 'tok_abc\n');
    await writeFile(join(dir, 'fleet.key'), 'key\n');
    expect(await readCredentials(dir)).toEqual({ token: 'tok_abc', fleetKey: 'key' });
  });

  it.each([
    ['600 bytes of garbage', randomBytes(600)],
    ['600 printable characters', Buffer.from('t'.repeat(600))],
    ['a token with a space inside', Buffer.from('two words')],
  ])('discards %s as "not enrolled", saying why', async (_name, token) => {
    await writeFile(join(dir, 'agent-token'), token);
    await writeFile(join(dir, 'fleet.key'), 'key\n');
    const reasons: string[] = [];
    expect(await readCredentials(dir, (reason) => reasons.push(reason))).toBeUndefined();
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toContain('agent-token');
  });

  it('discards an unusable fleet key too', async () => {
    await writeFile(join(dir, 'agent-token'), 'tok\n');
    await writeFile(join(dir, 'fleet.key'), 'k'.repeat(513));
    const reasons: string[] = [];
    expect(await readCredentials(dir, (reason) => reasons.push(reason))).toBeUndefined();
    expect(reasons[0]).toContain('fleet.key');
  });

  it('bounds credentials to 512 printable ASCII characters', () => {
    expect(isUsableCredential('a'.repeat(512))).toBe(true);
    expect(isUsableCredential('a'.repeat(513))).toBe(false);
    expect(isUsableCredential('')).toBe(false);
    expect(isUsableCredential('é')).toBe(false);
  });
});
