import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAEMON_STATE_FILES, loadAgentIdentity, StateFileError, saveAgentIdentity } from './state-store.js';

describe('agent identity record', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'envparity-state-store-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('round-trips host id, environment and labels in a 0600 file', async () => {
    await saveAgentIdentity(dir, { hostId: 'staging-1', environment: 'staging', labels: { service: 'api' } });
    expect(await loadAgentIdentity(dir)).toEqual({
      hostId: 'staging-1',
      environment: 'staging',
      labels: { service: 'api' },
    });
    const path = join(dir, DAEMON_STATE_FILES.identity);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({
      hostId: 'staging-1',
      environment: 'staging',
      labels: { service: 'api' },
    });
  });

  it('leaves the environment out when there is none', async () => {
    await saveAgentIdentity(dir, { hostId: 'h', labels: {} }, false);
    expect(await loadAgentIdentity(dir)).toEqual({ hostId: 'h', labels: {} });
  });

  it('is undefined where no daemon ran, and StateFileError when corrupt', async () => {
    expect(await loadAgentIdentity(join(dir, 'missing'))).toBeUndefined();
    await writeFile(join(dir, DAEMON_STATE_FILES.identity), '{"hostId": ""}');
    await expect(loadAgentIdentity(dir)).rejects.toBeInstanceOf(StateFileError);
  });
});
