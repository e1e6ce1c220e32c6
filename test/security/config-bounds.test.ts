/**
 * Issue 10, weak spot: a 100 MB agent config took 15 s and 3.7 GB to refuse, and a config path that
 * is a FIFO hung forever. The real agent bin must refuse both at once (exit 2, a one-line reason).
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProcesses, makeTempDir, runAgentCli } from '../helpers/index.js';

afterEach(() => cleanupProcesses());

describe('agent config file bounds', () => {
  it('refuses a FIFO as --config at once instead of hanging', async () => {
    const dir = await makeTempDir('envparity-security-config-');
    const fifo = join(dir, 'agent.yaml');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    const result = await runAgentCli(['collect', '--config', fifo, '--json'], {
      ...process.env,
      ENVPARITY_STATE_DIR: join(dir, 'state'),
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('not a regular file');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a 20 MB config without reading or parsing it', async () => {
    const dir = await makeTempDir('envparity-security-config-');
    const file = join(dir, 'agent.yaml');
    await writeFile(file, `labels:\n${'  k: v\n'.repeat(3_000_000)}`);
    const started = Date.now();
    const result = await runAgentCli(['collect', '--config', file, '--json'], {
      ...process.env,
      ENVPARITY_STATE_DIR: join(dir, 'state'),
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('over the 1048576-byte limit');
  });
});
