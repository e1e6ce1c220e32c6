import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, validateAgentConfig } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveAgentIdentity } from '../daemon/state-store.js';
import { defaultHostId } from '../host-id.js';
import { resolveIdentity } from './identity.js';

describe('resolveIdentity', () => {
  let dir: string;
  let daemonDir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'envparity-identity-'));
    daemonDir = join(dir, 'daemon');
    await mkdir(daemonDir);
    await saveAgentIdentity(daemonDir, { hostId: 'staging-1', environment: 'staging', labels: {} }, false);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const empty = validateAgentConfig({});

  it("uses the daemon's recorded host id and environment beside it", async () => {
    const identity = await resolveIdentity(empty, {}, daemonDir);
    expect(identity).toMatchObject({ hostId: 'staging-1', environment: 'staging', source: 'state-dir' });
    expect(identity.config).toMatchObject({ hostId: 'staging-1', environment: 'staging' });
  });

  it('flags win over the config, the config over the record', async () => {
    const config = validateAgentConfig({ hostId: 'from-config', environment: 'perf' });
    expect(await resolveIdentity(config, {}, daemonDir)).toMatchObject({
      hostId: 'from-config',
      environment: 'perf',
      source: 'config',
    });
    expect(await resolveIdentity(config, { hostId: 'flag-1', environment: 'production' }, daemonDir)).toMatchObject({
      hostId: 'flag-1',
      environment: 'production',
      source: 'flag',
    });
    // Each field on its own: a host id flag keeps the recorded environment.
    expect(await resolveIdentity(empty, { hostId: 'flag-2' }, daemonDir)).toMatchObject({
      hostId: 'flag-2',
      environment: 'staging',
    });
  });

  it('without a record, the default host id and no environment', async () => {
    const identity = await resolveIdentity(empty, {}, join(dir, 'fresh'));
    expect(identity.hostId).toBe(await defaultHostId());
    expect(identity.environment).toBeUndefined();
    expect(identity.source).toBe('default');
  });

  it('a bad flag value names the key; a corrupt record is a verify error', async () => {
    await expect(resolveIdentity(empty, { environment: 'no spaces' }, daemonDir)).rejects.toBeInstanceOf(ConfigError);
    const corrupt = join(dir, 'corrupt');
    await mkdir(corrupt);
    await writeFile(join(corrupt, 'identity.json'), '{"hostId":');
    await expect(resolveIdentity(empty, {}, corrupt)).rejects.toThrow(/bad agent identity file: .*identity\.json/);
  });
});
