/**
 * `envparity-agent collect` as a user runs it (issue 3): the BUILT bin, a real config file, real
 * child processes. Secrets leave only as keyed hashes, a hanging probe is listed by name in
 * `errors` while the rest of the document is complete, and a bad config exits 2 naming the key.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type FactDocument, factDocumentSchema, factPath } from '@envparity/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupProcesses, makeTempDir, REPO_ROOT, runAgentCli } from './helpers/index.js';

afterAll(() => cleanupProcesses());

function runCollect(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  return runAgentCli(['collect', ...args], { ...process.env, ...env });
}

const CANARY = 'canary-3f9a7c1e';

describe('envparity-agent collect', () => {
  it('prints a complete document; secrets only as keyed hashes; a hanging probe listed by name', async () => {
    const dir = await makeTempDir('envparity-e2e-collect-');
    const yamlFile = join(dir, 'app.yaml');
    const envFile = join(dir, 'app.env');
    await writeFile(yamlFile, `db:\n  host: db.internal\n  password: ${CANARY}\nlog_level: info\n`);
    await writeFile(envFile, `API_TOKEN=${CANARY}\nWORKERS=4\n`);
    const config = join(dir, 'agent.yaml');
    await writeFile(
      config,
      [
        'environment: staging',
        'watch:',
        '  envVars: ["DB_*", "FEATURE_*"]',
        `  files: [${JSON.stringify(yamlFile)}, ${JSON.stringify(envFile)}]`,
        '  probes:',
        '    - { name: schema_version, command: "echo 42", timeout: 5 }',
        '    - { name: stuck, command: "sleep 30", timeout: 1 }',
        '',
      ].join('\n'),
    );
    const result = await runCollect(['--json', '--config', config, '--state-dir', join(dir, 'state')], {
      DB_PASSWORD: CANARY,
      DB_HOST: 'db.internal',
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(CANARY);
    const document: FactDocument = factDocumentSchema.parse(JSON.parse(result.stdout));
    const hash = /^hmac-sha256:[0-9a-f]{64}$/;
    expect(document.facts['config.env.DB_PASSWORD']).toMatch(hash);
    expect(document.facts['config.env.DB_HOST']).toBe('db.internal');
    expect(document.facts[factPath('config', 'file', yamlFile, 'db', 'password')]).toMatch(hash);
    expect(document.facts[factPath('config', 'file', yamlFile, 'db', 'host')]).toBe('db.internal');
    expect(document.facts[factPath('config', 'file', envFile, 'API_TOKEN')]).toMatch(hash);
    // Equal secrets hash equally (same key), wherever they come from.
    expect(document.facts[factPath('config', 'file', envFile, 'API_TOKEN')]).toBe(
      document.facts['config.env.DB_PASSWORD'],
    );
    expect(document.facts['probe.schema_version']).toBe(42);
    expect(document.errors).toContainEqual({ collector: 'probe', message: 'probe stuck: timeout after 1 s' });
    // Every other category is there: the hanging probe held nothing back.
    const categories = new Set(Object.keys(document.facts).map((path) => path.split(/[.[]/)[0]));
    for (const category of [
      'os',
      'host',
      'hardware',
      'runtime',
      'library',
      'config',
      'network',
      'container',
      'probe',
    ]) {
      expect(categories, category).toContain(category);
    }
    expect(document.collectors.map((c) => c.name).sort()).toEqual(
      [
        'app',
        'config',
        'container',
        'hardware',
        'host',
        'library',
        'network',
        'os',
        'probe',
        'process',
        'runtime',
        'security',
        'service',
      ].sort(),
    );
    for (const collector of document.collectors) expect(collector.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('prints a readable summary grouped by category without --json', async () => {
    const result = await runCollect([]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^host \S+/);
    expect(result.stdout).toMatch(/^os \(\d+\)$/m);
    expect(result.stdout).toMatch(/^library \(\d+\)$/m);
    expect(result.stdout).toMatch(/^collectors$/m);
  });

  it.each([
    ['watch:\n  envvars: [A]\n', 'watch.envvars: unknown key'],
    ['interval: soon\n', 'interval:'],
    ['watch:\n  probes:\n    - { name: p, command: "" }\n', 'watch.probes[0].command'],
  ])('exits 2 on an invalid config, naming the key (%j)', async (text, message) => {
    const dir = await makeTempDir('envparity-e2e-badconfig-');
    const config = join(dir, 'agent.yaml');
    await writeFile(config, text);
    const result = await runCollect(['--json', '--config', config]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('the agent package', () => {
  it('never blocks the event loop with synchronous process or file calls, nor systeminformation', async () => {
    const { readdir, readFile } = await import('node:fs/promises');
    const src = join(REPO_ROOT, 'agent', 'src');
    const files = (await readdir(src, { recursive: true })).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(files.length).toBeGreaterThan(20);
    const offenders: string[] = [];
    for (const file of files) {
      const code = (await readFile(join(src, file), 'utf8')).replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      if (
        /\b(execSync|execFileSync|spawnSync|readFileSync|writeFileSync|readdirSync|statSync)\b|from 'systeminformation'/.test(
          code,
        )
      ) {
        offenders.push(file);
      }
    }
    expect(offenders).toEqual([]);
  });

  it("has no native module and none of the aggregator's dependencies in its production tree", async () => {
    const { existsSync, readFileSync } = await import('node:fs');
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<
        string,
        {
          dependencies?: Record<string, string>;
          optionalDependencies?: Record<string, string>;
          hasInstallScript?: boolean;
          link?: boolean;
          resolved?: string;
        }
      >;
    };
    // Walk the installed tree the way Node resolves it: nested node_modules first, then hoisted.
    const seen = new Set<string>();
    const walk = (fromDir: string, name: string) => {
      let dir = fromDir;
      for (;;) {
        const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
        if (lock.packages[candidate]) {
          visit(candidate);
          return;
        }
        if (!dir) throw new Error(`${name} (needed by ${fromDir || 'the agent'}) is not in package-lock.json`);
        const parent = dir.lastIndexOf('/node_modules/');
        dir = parent < 0 ? '' : dir.slice(0, parent);
      }
    };
    const visit = (location: string) => {
      if (seen.has(location)) return;
      seen.add(location);
      let entry = lock.packages[location]!;
      let dir = location;
      if (entry.link && entry.resolved) {
        dir = entry.resolved;
        entry = lock.packages[dir]!;
      }
      for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) walk(dir, dep);
    };
    for (const dep of Object.keys(lock.packages.agent?.dependencies ?? {})) walk('agent', dep);
    const names = [...seen].map((location) => location.slice(location.lastIndexOf('node_modules/') + 13));
    expect(names).toContain('ws');
    for (const forbidden of ['better-sqlite3', 'hono', '@hono/node-server']) expect(names).not.toContain(forbidden);
    const native = [...seen].filter((location) => {
      const entry = lock.packages[location]!;
      const dir = join(REPO_ROOT, entry.link && entry.resolved ? entry.resolved : location);
      return entry.hasInstallScript === true || existsSync(join(dir, 'binding.gyp'));
    });
    expect(native).toEqual([]);
  });
});
