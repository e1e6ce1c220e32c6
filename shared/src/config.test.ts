import { describe, expect, it } from 'vitest';
import { DEFAULT_INTERVAL_SECONDS, DEFAULT_SECRET_GLOBS, parseAgentConfig, validateAgentConfig } from './config.js';
import { ConfigError } from './errors.js';

const briefExample = `
environment: staging
labels: { service: api }
hostId: web-1
aggregator: ws://127.0.0.1:7300
interval: 60
watch:
  envVars: ["LOG_LEVEL", "FEATURE_*", "DB_*"]
  files: ["/etc/myapp/config.yaml"]
  projects: ["/srv/app"]
  resolve: ["db.internal"]
  tls: ["api.internal:443"]
  probes:
    - { name: schema_version, command: "cat /srv/app/MIGRATION", timeout: 5 }
secrets: ["*PASSWORD*", "*SECRET*", "*TOKEN*", "*_KEY"]
`;

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('agent config', () => {
  it('accepts the example of the brief', () => {
    const config = parseAgentConfig(briefExample);
    expect(config.environment).toBe('staging');
    expect(config.watch.probes[0]).toEqual({ name: 'schema_version', command: 'cat /srv/app/MIGRATION', timeout: 5 });
    expect(config.watch.tls).toEqual(['api.internal:443']);
  });

  it('reads the same config as JSON', () => {
    const config = parseAgentConfig(JSON.stringify({ environment: 'production', watch: { envVars: ['A_*'] } }));
    expect(config.environment).toBe('production');
    expect(config.watch.envVars).toEqual(['A_*']);
  });

  it('fills defaults', () => {
    const config = validateAgentConfig({});
    expect(config.interval).toBe(DEFAULT_INTERVAL_SECONDS);
    expect(config.secrets).toEqual([...DEFAULT_SECRET_GLOBS]);
    expect(config.watch).toEqual({ envVars: [], files: [], projects: [], resolve: [], tls: [], probes: [] });
    expect(parseAgentConfig('')).toEqual(config);
  });

  it.each([
    ['environmnet: staging', 'environmnet', 'unknown key'],
    ['watch: { envvars: [A] }', 'watch.envvars', 'unknown key'],
    ['interval: soon', 'interval', 'interval:'],
    ['interval: 0', 'interval', 'interval:'],
    ['aggregator: ftp://x', 'aggregator', 'aggregator:'],
    ['watch: { tls: ["no-port"] }', 'watch.tls.0', 'host:port'],
    ['watch: { probes: [{ name: p, command: "" }] }', 'watch.probes.0.command', 'watch.probes[0].command'],
    ['watch: { probes: [{ name: p, command: x, timeout: -1 }] }', 'watch.probes.0.timeout', 'timeout'],
    ['watch: { probes: [{ name: p, command: x, shell: true }] }', 'watch.probes.0.shell', 'shell: unknown key'],
    ['labels: { service: 3 }', 'labels.service', 'labels.service'],
  ])('rejects %j naming %s', (text, key, message) => {
    const error = errorOf(() => parseAgentConfig(text, 'agent.yaml'));
    expect(error.key).toBe(key);
    expect(error.message).toContain(message);
    expect(error.message).toContain('agent.yaml');
  });

  it('rejects duplicate probe names, bad YAML and non-mapping documents', () => {
    expect(
      errorOf(() => parseAgentConfig('watch: { probes: [{name: a, command: x}, {name: a, command: y}] }')).message,
    ).toContain('unique');
    expect(errorOf(() => parseAgentConfig('environment: [unclosed')).message).toContain('not valid YAML or JSON');
    expect(errorOf(() => parseAgentConfig('- a\n- b')).message).toContain('mapping');
    expect(errorOf(() => parseAgentConfig('a: 1\na: 2')).message).toContain('not valid YAML');
  });
});
