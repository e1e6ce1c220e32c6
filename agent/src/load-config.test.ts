import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseAgentConfig } from '@envparity/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadAgentConfig } from './load-config.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envparity-load-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadAgentConfig bounds', () => {
  it('reads a normal config', async () => {
    await writeFile(join(dir, 'agent.yaml'), 'environment: staging\n');
    expect((await loadAgentConfig(join(dir, 'agent.yaml'))).environment).toBe('staging');
  });

  it('refuses a FIFO at once (it used to hang forever)', async () => {
    const fifo = join(dir, 'agent.yaml');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    await expect(loadAgentConfig(fifo)).rejects.toThrow(/not a regular file/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses a directory', async () => {
    await expect(loadAgentConfig(dir)).rejects.toBeInstanceOf(ConfigError);
  });

  it('refuses a config over 1 MB without parsing it', async () => {
    const file = join(dir, 'big.yaml');
    await writeFile(file, `labels:\n${'  k: v\n'.repeat(200_000)}`);
    const started = Date.now();
    await expect(loadAgentConfig(file)).rejects.toThrow(/over the 1048576-byte limit/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses config text over 1 MB in the shared parse path too', () => {
    expect(() => parseAgentConfig(`# ${'x'.repeat(1024 * 1024)}\n`)).toThrow(/over 1048576 bytes/);
  });
});
