import { describe, expect, it } from 'vitest';
import {
  aggregatorUrls,
  DEFAULT_INTERVAL_SECONDS,
  DEFAULT_SECRET_GLOBS,
  MAX_AGGREGATOR_URLS,
  parseAgentConfig,
  validateAgentConfig,
} from './config.js';
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
  processes:
    - { name: api, match: "node .*server.js" }
    - { name: worker, pidFile: /run/worker.pid, envVars: ["QUEUE_*"] }
    - { name: nginx, unit: nginx.service }
  envFiles: ["/etc/default/api", { path: /srv/app/.env, format: dotenv }]
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
    expect(config.watch.processes).toEqual([
      { name: 'api', match: 'node .*server.js' },
      { name: 'worker', pidFile: '/run/worker.pid', envVars: ['QUEUE_*'] },
      { name: 'nginx', unit: 'nginx.service' },
    ]);
    expect(config.watch.envFiles).toEqual(['/etc/default/api', { path: '/srv/app/.env', format: 'dotenv' }]);
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
    expect(config.watch).toEqual({
      envVars: [],
      files: [],
      projects: [],
      resolve: [],
      tls: [],
      probes: [],
      processes: [],
      envFiles: [],
      services: [],
      followSymlinks: false,
      maxFileBytes: 10 * 1024 * 1024,
    });
    expect(parseAgentConfig('')).toEqual(config);
  });

  it.each([
    ['environmnet: staging', 'environmnet', 'unknown key'],
    ['watch: { envvars: [A] }', 'watch.envvars', 'unknown key'],
    ['interval: soon', 'interval', 'interval:'],
    ['interval: 0', 'interval', 'interval:'],
    ['aggregator: ftp://x', 'aggregator', 'aggregator:'],
    ['aggregator: []', 'aggregator', 'aggregator: give at least one URL'],
    ['aggregator: [ws://a:1, ftp://x]', 'aggregator.1', 'aggregator[1]: expected a ws://'],
    [
      'aggregator: [ws://a:1, ws://b:1, ws://a:1]',
      'aggregator.2',
      'aggregator[2]: duplicate: the same URL as aggregator[0]',
    ],
    ['aggregator: 7300', 'aggregator', 'aggregator: expected a URL or a list of URLs'],
    ['aggregator: { url: ws://a:1 }', 'aggregator', 'aggregator: expected a URL or a list of URLs'],
    ['watch: { tls: ["no-port"] }', 'watch.tls.0', 'host:port'],
    ['watch: { probes: [{ name: p, command: "" }] }', 'watch.probes.0.command', 'watch.probes[0].command'],
    ['watch: { probes: [{ name: p, command: x, timeout: -1 }] }', 'watch.probes.0.timeout', 'timeout'],
    ['watch: { probes: [{ name: p, command: x, shell: true }] }', 'watch.probes.0.shell', 'shell: unknown key'],
    ['watch: { probes: [{ name: p, command: x, class: identity }] }', 'watch.probes.0.class', 'watch.probes[0].class'],
    ['watch: { probes: [{ name: p, command: x, class: size }] }', 'watch.probes.0.class', 'watch.probes[0].class'],
    ['labels: { service: 3 }', 'labels.service', 'labels.service'],
    ['watch: { processes: [{ name: api }] }', 'watch.processes.0', 'exactly one of match, pidFile or unit'],
    ['watch: { processes: [{ name: api, match: x, unit: y }] }', 'watch.processes.0', 'got match, unit'],
    ['watch: { processes: [{ name: api, match: "(" }] }', 'watch.processes.0.match', 'regular expression'],
    ['watch: { processes: [{ name: "a b", match: x }] }', 'watch.processes.0.name', 'process names'],
    ['watch: { processes: [{ name: a, pid: 1 }] }', 'watch.processes.0.pid', 'pid: unknown key'],
    ['watch: { envFiles: [{ path: a, format: ini }] }', 'watch.envFiles.0', 'watch.envFiles[0]'],
  ])('rejects %j naming %s', (text, key, message) => {
    const error = errorOf(() => parseAgentConfig(text, 'agent.yaml'));
    expect(error.key).toBe(key);
    expect(error.message).toContain(message);
    expect(error.message).toContain('agent.yaml');
  });

  it('takes a probe class (behavior, scale, volatile), absent by default', () => {
    const config = parseAgentConfig(
      'watch: { probes: [{ name: rows, command: "echo 1", class: scale }, { name: v, command: "echo 2" }] }',
    );
    expect(config.watch.probes.map((probe) => probe.class)).toEqual(['scale', undefined]);
    for (const factClass of ['behavior', 'volatile']) {
      const parsed = parseAgentConfig(`watch: { probes: [{ name: p, command: x, class: ${factClass} }] }`);
      expect(parsed.watch.probes[0]?.class).toBe(factClass);
    }
  });

  it('rejects duplicate probe names, bad YAML and non-mapping documents', () => {
    expect(
      errorOf(() => parseAgentConfig('watch: { probes: [{name: a, command: x}, {name: a, command: y}] }')).message,
    ).toContain('unique');
    expect(
      errorOf(() => parseAgentConfig('watch: { processes: [{name: a, match: x}, {name: a, unit: y}] }')).message,
    ).toContain('process names must be unique');
    expect(errorOf(() => parseAgentConfig('environment: [unclosed')).message).toContain('not valid YAML or JSON');
    expect(errorOf(() => parseAgentConfig('- a\n- b')).message).toContain('mapping');
    expect(errorOf(() => parseAgentConfig('a: 1\na: 2')).message).toContain('not valid YAML');
  });

  it('takes one aggregator URL as before, or a list to fail over between', () => {
    expect(parseAgentConfig('aggregator: ws://127.0.0.1:7300').aggregator).toBe('ws://127.0.0.1:7300');
    const list = parseAgentConfig('aggregator: [ws://a:7300, "https://b.example.com"]').aggregator;
    expect(list).toEqual(['ws://a:7300', 'https://b.example.com']);
    expect(aggregatorUrls(list)).toEqual(['ws://a:7300', 'https://b.example.com']);
    expect(aggregatorUrls('ws://a:1')).toEqual(['ws://a:1']);
    expect(aggregatorUrls(undefined)).toEqual([]);
    // A parsed config validates again unchanged (the CLI merges flags over it and validates).
    expect(validateAgentConfig(parseAgentConfig('aggregator: [ws://a:1, ws://b:1]')).aggregator).toEqual([
      'ws://a:1',
      'ws://b:1',
    ]);
  });

  it(`takes at most ${MAX_AGGREGATOR_URLS} aggregator URLs and keeps credentials out of the duplicate message`, () => {
    const urls = (count: number) => Array.from({ length: count }, (_, index) => `ws://agg-${index}:7300`);
    expect(validateAgentConfig({ aggregator: urls(MAX_AGGREGATOR_URLS) }).aggregator).toHaveLength(MAX_AGGREGATOR_URLS);
    expect(errorOf(() => validateAgentConfig({ aggregator: urls(MAX_AGGREGATOR_URLS + 1) })).message).toContain(
      `aggregator: at most ${MAX_AGGREGATOR_URLS} URLs, got ${MAX_AGGREGATOR_URLS + 1}`,
    );
    const duplicate = errorOf(() => validateAgentConfig({ aggregator: ['wss://u:pw@a/', 'wss://u:pw@a/'] }));
    expect(duplicate.message).toContain('aggregator[1]: duplicate');
    expect(duplicate.message).not.toContain('pw');
  });
});
