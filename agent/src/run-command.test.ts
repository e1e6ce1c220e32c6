import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, validateAgentConfig } from '@envparity/shared';
import { describe, expect, it } from 'vitest';
import { NotEnrolledError } from './daemon/start-agent.js';
import { applyRunFlags, parseLabelFlags, runAgentCommand } from './run-command.js';

const base = validateAgentConfig({
  environment: 'staging',
  labels: { service: 'api', tier: 'web' },
  aggregator: 'ws://file:7300',
  interval: 60,
});

describe('run flags', () => {
  it('override the config file; labels merge with the flag winning', () => {
    const config = applyRunFlags(base, {
      environment: 'production',
      label: ['tier=edge', 'zone=a=b'],
      hostId: 'web-9',
      stateDir: '/tmp/x',
      interval: '15',
      aggregator: 'https://agg',
      logLevel: 'debug',
    });
    expect(config).toMatchObject({
      environment: 'production',
      labels: { service: 'api', tier: 'edge', zone: 'a=b' },
      hostId: 'web-9',
      stateDir: '/tmp/x',
      interval: 15,
      aggregator: 'https://agg',
      logLevel: 'debug',
    });
  });

  it('leave the config alone when absent', () => {
    expect(applyRunFlags(base, {})).toEqual(base);
  });

  it('reject bad values naming the key', () => {
    expect(() => applyRunFlags(base, { interval: 'soon' })).toThrow(/interval/);
    expect(() => applyRunFlags(base, { interval: '' })).toThrow(/interval/);
    expect(() => applyRunFlags(base, { environment: 'prod env' })).toThrow(/environment/);
    expect(() => applyRunFlags(base, { hostId: 'a b' })).toThrow(ConfigError);
    expect(() => parseLabelFlags(['novalue'])).toThrow(/--label: expected k=v/);
    expect(() => parseLabelFlags(['=v'])).toThrow(ConfigError);
  });
});

describe('runAgentCommand', () => {
  it('stops cleanly when asked, even if the aggregator was never reachable', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'envparity-run-'));
    try {
      const started = Date.now();
      await runAgentCommand(
        { aggregator: 'ws://127.0.0.1:9/api/v1/agent', stateDir, hostId: 'h1', logLevel: 'silent' },
        {
          env: { ENVPARITY_ENROLL_SECRET: 's' },
          untilStopped: () => new Promise((r) => setTimeout(() => r('SIGTERM'), 200)),
        },
      );
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('refuses to run with neither a token nor an enroll secret', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'envparity-run-'));
    try {
      await expect(
        runAgentCommand(
          { aggregator: 'http://127.0.0.1:9', stateDir, hostId: 'h1', logLevel: 'silent' },
          { env: {}, untilStopped: () => new Promise(() => undefined) },
        ),
      ).rejects.toThrow(NotEnrolledError);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
