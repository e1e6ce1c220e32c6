/**
 * docker/ (issue "Install the agent anywhere", req 6), checked with a Dockerfile parser since no
 * Docker engine runs here: the agent image's final stage holds the one-file bundle and nothing of
 * npm, node_modules or the aggregator; both images run as a numeric non-root user, declare a
 * HEALTHCHECK and carry the OCI labels; what the agent image copies from its build stage is what
 * that stage's commands build; ENTRYPOINT + CMD and compose.yaml's commands use real flags, and the
 * agent image's ENTRYPOINT script is run here, outside Docker, on the real bundle.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { AGENT_BIN, makeTempDir, REPO_ROOT } from './helpers/index.js';

const AGGREGATOR_BIN = join(REPO_ROOT, 'aggregator/bin/envparity-aggregator.js');
/** The decided name of the one-file agent (DESIGN.md, `npm run build`). */
const BUNDLE = 'agent/dist/envparity-agent.mjs';
const OCI_LABELS = ['title', 'description', 'source', 'licenses', 'version'].map(
  (k) => `org.opencontainers.image.${k}`,
);

interface Stage {
  name: string | null;
  workdir: string;
  instructions: Instruction[];
}

/** The Dockerfile's stages, each from its FROM to the next; WORKDIR as it stands at the stage's end. */
function stagesOf(file: string): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of DockerfileParser.parse(readFileSync(join(REPO_ROOT, file), 'utf8')).getInstructions()) {
    const keyword = instruction.getKeyword();
    if (keyword === 'FROM') {
      const stageName = /\bAS\s+(\S+)/i.exec(instruction.getArgumentsContent() ?? '')?.[1] ?? null;
      stages.push({ name: stageName, workdir: '/', instructions: [] });
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`${file}: ${keyword} before the first FROM`);
    stage.instructions.push(instruction);
    if (keyword === 'WORKDIR') stage.workdir = instruction.getArgumentsContent() ?? '/';
  }
  return stages;
}

const ofKind = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.getKeyword() === keyword);
const content = (instruction: Instruction | undefined) => instruction?.getArgumentsContent() ?? '';
/** An exec-form (JSON array) ENTRYPOINT, CMD or HEALTHCHECK CMD. */
const execForm = (instruction: Instruction | undefined): string[] =>
  JSON.parse(content(instruction).replace(/^CMD\s+/, ''));

function labelsOf(stage: Stage): Map<string, string> {
  const labels = new Map<string, string>();
  for (const label of ofKind(stage, 'LABEL')) {
    for (const property of (
      label as unknown as { getProperties(): { getName(): string; getValue(): string }[] }
    ).getProperties()) {
      labels.set(property.getName(), property.getValue());
    }
  }
  return labels;
}

function argDefault(stage: Stage, name: string): string | undefined {
  for (const arg of ofKind(stage, 'ARG')) {
    const [key, value] = content(arg).split('=', 2);
    if (key === name) return value;
  }
  return undefined;
}

/** `COPY --from=STAGE SRC... DEST`: the stage and the sources. */
function copySources(instruction: Instruction): { from: string | undefined; sources: string[]; dest: string } {
  const flags = (
    instruction as unknown as { getFlags(): { getName(): string; getValue(): string | null }[] }
  ).getFlags();
  const from = flags.find((flag) => flag.getName() === 'from')?.getValue() ?? undefined;
  const paths = instruction.getArguments().map((argument) => argument.getValue());
  return { from, sources: paths.slice(0, -1), dest: paths.at(-1) ?? '' };
}

/** Long flags of a real `--help` (`  --flag` or `  -h, --help` lines). */
function helpFlags(command: readonly string[]): Set<string> {
  const result = spawnSync(process.execPath, [...command, '--help'], { encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  return new Set([...result.stdout.matchAll(/^ {2}(?:-\w, )?(--[a-z][a-z-]*)/gm)].map((match) => match[1] as string));
}

const flagsOf = (args: readonly string[]) => args.filter((a) => a.startsWith('--')).map((a) => a.split('=', 1)[0]);

function checkImageMetadata(stage: Stage): void {
  const users = ofKind(stage, 'USER');
  expect(users.length).toBeGreaterThan(0);
  const [uid, gid] = content(users.at(-1)).split(':');
  // Numeric and not 0: Kubernetes' runAsNonRoot can verify it without a passwd lookup.
  expect(uid).toMatch(/^[1-9]\d*$/);
  expect(gid ?? uid).toMatch(/^[1-9]\d*$/);
  expect(ofKind(stage, 'HEALTHCHECK')).toHaveLength(1);
  const labels = labelsOf(stage);
  for (const key of OCI_LABELS) expect(labels.get(key), key).toBeTruthy();
  const version = JSON.parse(readFileSync(join(REPO_ROOT, 'agent/package.json'), 'utf8')).version;
  expect(labels.get('org.opencontainers.image.version')).toMatch(/^\$\{VERSION\}$/);
  expect(argDefault(stage, 'VERSION')).toBe(version);
  expect(labels.get('org.opencontainers.image.licenses')).toBe('Apache-2.0');
}

describe('docker/agent.Dockerfile', () => {
  const stages = stagesOf('docker/agent.Dockerfile');
  const build = stages.find((stage) => stage.name === 'build') as Stage;
  const final = stages.at(-1) as Stage;

  it('builds the bundle in a build stage with the decided commands', () => {
    expect(stages).toHaveLength(2);
    const commands = ofKind(build, 'RUN').map(content).join(' && ');
    expect(commands).toMatch(/npm ci --ignore-scripts\b/);
    expect(commands).toMatch(/npx tsc -b shared agent\b/);
    expect(commands).toMatch(/node agent\/scripts\/bundle\.mjs\b/);
  });

  it('the final stage: no npm install, no node_modules, no aggregator, only the bundle from the build', () => {
    for (const run of ofKind(final, 'RUN')) expect(content(run)).not.toMatch(/npm (ci|install|i)\b|apt-get install/);
    const copies = [...ofKind(final, 'COPY'), ...ofKind(final, 'ADD')].map(copySources);
    const sources = copies.flatMap((copy) => copy.sources);
    for (const source of sources) expect(source).not.toMatch(/aggregator|node_modules/);
    expect(copies).toEqual([{ from: 'build', sources: [`${build.workdir}/${BUNDLE}`], dest: expect.any(String) }]);
    // The bundle path is the one the bundler writes.
    if (existsSync(join(REPO_ROOT, 'agent/scripts/bundle.mjs'))) {
      expect(readFileSync(join(REPO_ROOT, 'agent/scripts/bundle.mjs'), 'utf8')).toContain("'envparity-agent.mjs'");
    }
  });

  it('non-root, HEALTHCHECK, OCI labels', () => checkImageMetadata(final));

  it('ENTRYPOINT runs the bundle it copied; CMD and HEALTHCHECK agree with it', () => {
    const [shell, dashC, script, argv0] = execForm(ofKind(final, 'ENTRYPOINT').at(-1));
    expect([shell, dashC, argv0]).toEqual(['/bin/sh', '-c', 'envparity-agent']);
    const [copy] = ofKind(final, 'COPY').map(copySources);
    expect(script).toContain(`exec node ${copy?.dest} "$@"`);
    expect(script).toContain('echo $$ > /tmp/envparity-agent.pid');
    expect(execForm(ofKind(final, 'HEALTHCHECK').at(-1)).join(' ')).toContain('/tmp/envparity-agent.pid');
    const cmd = execForm(ofKind(final, 'CMD').at(-1));
    expect(cmd[0]).toBe('run');
    const runFlags = helpFlags([AGENT_BIN, 'run']);
    for (const flag of flagsOf(cmd)) expect(runFlags, flag).toContain(flag);
  });

  it("runs the ENTRYPOINT's command outside Docker: the bundle answers --help and knows CMD's flags", async (context) => {
    const bundle = join(REPO_ROOT, BUNDLE);
    if (!existsSync(bundle)) {
      context.skip(`${BUNDLE} is not built yet (npm run build makes it): the image's command cannot be run`);
    }
    const [shell, dashC, script, argv0] = execForm(ofKind(final, 'ENTRYPOINT').at(-1));
    const [copy] = ofKind(final, 'COPY').map(copySources);
    const pidFile = join(await makeTempDir('envparity-e2e-entrypoint-'), 'agent.pid');
    const local = (script as string)
      .replace('/tmp/envparity-agent.pid', pidFile)
      .replace(`node ${copy?.dest}`, `${process.execPath} ${bundle}`);
    const help = spawnSync(shell as string, [dashC as string, local, argv0 as string, '--help'], { encoding: 'utf8' });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: envparity-agent /);
    expect(readFileSync(pidFile, 'utf8').trim()).toMatch(/^\d+$/);
    const cmd = execForm(ofKind(final, 'CMD').at(-1));
    const bundleRunFlags = helpFlags([bundle, 'run']);
    for (const flag of flagsOf(cmd)) expect(bundleRunFlags, flag).toContain(flag);
  });
});

describe('docker/aggregator.Dockerfile', () => {
  const stages = stagesOf('docker/aggregator.Dockerfile');
  const final = stages.at(-1) as Stage;

  it('non-root, HEALTHCHECK on /healthz, OCI labels; no build tools installed in the final stage', () => {
    checkImageMetadata(final);
    expect(execForm(ofKind(final, 'HEALTHCHECK').at(-1)).join(' ')).toContain('/healthz');
    for (const run of ofKind(final, 'RUN')) expect(content(run)).not.toMatch(/apt-get install|npm (ci|install)\b/);
  });

  it("CMD's serve flags exist and its port is the one EXPOSEd and health-checked", () => {
    const cmd = execForm(ofKind(final, 'CMD').at(-1));
    expect(execForm(ofKind(final, 'ENTRYPOINT').at(-1))).toEqual(['node', 'aggregator/bin/envparity-aggregator.js']);
    expect(cmd[0]).toBe('serve');
    const serveFlags = helpFlags([AGGREGATOR_BIN, 'serve']);
    for (const flag of flagsOf(cmd)) expect(serveFlags, flag).toContain(flag);
    const port = cmd[cmd.indexOf('--port') + 1];
    expect(content(ofKind(final, 'EXPOSE').at(-1))).toBe(port);
    expect(execForm(ofKind(final, 'HEALTHCHECK').at(-1)).join(' ')).toContain(`127.0.0.1:${port}/healthz`);
  });
});

describe('docker/compose.yaml', () => {
  const compose = parseYaml(readFileSync(join(REPO_ROOT, 'docker/compose.yaml'), 'utf8'));
  const services = Object.entries(compose.services as Record<string, Record<string, unknown>>);

  it("every agent service's command uses real flags of its subcommand, and mounts files that exist", () => {
    const agents = services.filter(([, service]) =>
      (service.build as { dockerfile: string }).dockerfile.includes('agent'),
    );
    expect(agents.length).toBeGreaterThanOrEqual(2);
    for (const [name, service] of agents) {
      const command = service.command as string[];
      const flags = helpFlags([AGENT_BIN, command[0] as string]);
      for (const flag of flagsOf(command)) expect(flags, `${name}: ${flag}`).toContain(flag);
      for (const volume of service.volumes as string[]) {
        const source = volume.split(':', 1)[0] as string;
        expect(existsSync(join(REPO_ROOT, 'docker', source)), `${name}: ${source}`).toBe(true);
      }
      const config = command[command.indexOf('--config') + 1];
      expect(
        (service.volumes as string[]).some((volume) => volume.split(':')[1] === config),
        name,
      ).toBe(true);
    }
  });

  it('the aggregator service builds the aggregator image and gets its secrets from the environment', () => {
    const aggregator = compose.services.aggregator as Record<string, unknown>;
    expect((aggregator.build as { dockerfile: string }).dockerfile).toBe('docker/aggregator.Dockerfile');
    expect(Object.keys(aggregator.environment as object)).toEqual(['ENVPARITY_ENROLL_SECRET', 'ENVPARITY_ADMIN_TOKEN']);
  });
});

describe('docker/compose.cluster.yaml: two aggregators on one PostgreSQL', () => {
  // `<<` merges the shared aggregator block into each aggregator service, as compose does.
  const compose = parseYaml(readFileSync(join(REPO_ROOT, 'docker/compose.cluster.yaml'), 'utf8'), { merge: true });
  const services = compose.services as Record<string, Record<string, unknown>>;

  it('runs two aggregators on the same database with the same secrets and fleet key, and an agent listing both', () => {
    const aggregators = Object.entries(services).filter(([, service]) =>
      (service.build as { dockerfile?: string } | undefined)?.dockerfile?.includes('aggregator'),
    );
    expect(aggregators.map(([name]) => name)).toEqual(['aggregator-a', 'aggregator-b']);
    const environments = aggregators.map(([, service]) => service.environment as Record<string, string>);
    expect(environments[0]).toEqual(environments[1]);
    expect(Object.keys(environments[0] ?? {}).sort()).toEqual([
      'ENVPARITY_ADMIN_TOKEN',
      'ENVPARITY_ENROLL_SECRET',
      'ENVPARITY_FLEET_KEY',
      'ENVPARITY_STORE_URL',
      'PGPASSWORD',
    ]);
    const postgres = services.postgres?.environment as Record<string, string>;
    expect(environments[0]?.ENVPARITY_STORE_URL).toBe(
      `postgres://${postgres.POSTGRES_USER}@postgres:5432/${postgres.POSTGRES_DB}`,
    );
    expect(environments[0]?.PGPASSWORD).toBe(postgres.POSTGRES_PASSWORD);
    const agent = services.agent as Record<string, unknown>;
    const command = agent.command as string[];
    const flags = helpFlags([AGENT_BIN, command[0] as string]);
    for (const flag of flagsOf(command)) expect(flags, flag).toContain(flag);
    const urls = command.filter((_, i) => command[i - 1] === '--aggregator');
    expect(urls).toEqual(['http://aggregator-a:7300', 'http://aggregator-b:7300']);
    for (const volume of agent.volumes as string[]) {
      expect(existsSync(join(REPO_ROOT, 'docker', volume.split(':', 1)[0] as string)), volume).toBe(true);
    }
  });

  it('the aggregator image carries the PostgreSQL bridge worker', () => {
    const final = stagesOf('docker/aggregator.Dockerfile').at(-1) as Stage;
    const copies = ofKind(final, 'COPY').map((copy) => content(copy));
    expect(
      copies.some((copy) => copy.endsWith('/src/aggregator/lib ./aggregator/lib')),
      JSON.stringify(copies),
    ).toBe(true);
    expect(existsSync(join(REPO_ROOT, 'aggregator/lib/pg-bridge-worker.cjs'))).toBe(true);
  });
});
