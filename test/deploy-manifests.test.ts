/**
 * deploy/kubernetes (issue "Install the agent anywhere", req 5): every YAML document is built with
 * kubernetes-models, whose validate() checks it against the Kubernetes OpenAPI schema (types,
 * enums, required fields; it does NOT reject unknown fields, so the fields that matter are asserted
 * by name below). The agent DaemonSet must be the host mode of docs/AGENT.md with flags the real
 * `run --help` lists; the aggregator's flags must be in the real `serve --help`. The liveness probe
 * is run for real against the image's entrypoint wrapper around a live agent process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseConfigText, validateAgentConfig } from '@envparity/shared';
import { DockerfileParser } from 'dockerfile-ast';
import { DaemonSet, StatefulSet } from 'kubernetes-models/apps/v1';
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { AGENT_BIN, cleanupProcesses, makeTempDir, REPO_ROOT, spawnManaged, waitFor } from './helpers/index.js';

const MANIFEST_DIR = join(REPO_ROOT, 'deploy/kubernetes');
const AGGREGATOR_BIN = join(REPO_ROOT, 'aggregator/bin/envparity-aggregator.js');

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML, read by path below.
type Doc = any;
type ModelClass = new (data: Doc) => { validate(): void };

const MODELS: Record<string, ModelClass> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/DaemonSet': DaemonSet,
  'apps/v1/StatefulSet': StatefulSet,
};

interface Manifest {
  file: string;
  doc: Doc;
}

async function yamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => relative(MANIFEST_DIR, join(entry.parentPath, entry.name)))
    .sort();
}

async function loadManifests(): Promise<Manifest[]> {
  const manifests: Manifest[] = [];
  for (const file of await yamlFiles(MANIFEST_DIR)) {
    for (const document of parseAllDocuments(await readFile(join(MANIFEST_DIR, file), 'utf8'))) {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]?.message}`);
      const doc = document.toJS();
      if (doc !== null) manifests.push({ file, doc });
    }
  }
  return manifests;
}

/** Validates one object against the schema of its apiVersion/kind; throws on an unknown kind or a schema error. */
function validateObject(doc: Doc): void {
  const model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  if (!model) throw new Error(`no schema for ${doc.apiVersion}/${doc.kind}`);
  new model(doc).validate();
}

/** Long flags of a real `--help`: the option lines, `  --flag` or `  -h, --help`. */
function helpFlags(bin: string, command: string): Set<string> {
  const result = spawnSync(process.execPath, [bin, command, '--help'], { encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  return new Set([...result.stdout.matchAll(/^ {2}(?:-\w, )?(--[a-z][a-z-]*)/gm)].map((match) => match[1] as string));
}

function flagsOf(args: readonly string[]): string[] {
  return args.filter((arg) => arg.startsWith('--')).map((arg) => arg.split('=', 1)[0] as string);
}

/** The value after `--flag` (or of `--flag=value`). */
function flagValue(args: readonly string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  if (at >= 0) return args[at + 1];
  return args.find((arg) => arg.startsWith(`${flag}=`))?.slice(flag.length + 1);
}

const BINARY_UNITS: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 };

/** A Kubernetes memory quantity (`64Mi`, `128M`, `1Gi`, bytes) in bytes. */
function bytesOf(quantity: string | number): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?$/.exec(String(quantity));
  if (!match) throw new Error(`unreadable quantity ${quantity}`);
  const unit = match[2] ?? '';
  const scale = BINARY_UNITS[unit] ?? { '': 1, k: 1e3, M: 1e6, G: 1e9 }[unit] ?? Number.NaN;
  return Number(match[1]) * scale;
}

/** RFC 6902 add/replace/remove, enough for the overlay's patch (its paths must exist for replace). */
function applyJsonPatch(target: Doc, operations: readonly Doc[]): Doc {
  const copy = structuredClone(target);
  for (const { op, path, value } of operations) {
    const keys = (path as string).split('/').slice(1);
    const last = keys.pop() as string;
    let parent = copy;
    for (const key of keys) {
      parent = parent[key];
      if (parent === undefined) throw new Error(`patch path ${path}: ${key} does not exist`);
    }
    if (op !== 'add' && !(last in parent)) throw new Error(`patch ${op} ${path}: nothing there`);
    if (op === 'remove') delete parent[last];
    else if (op === 'add' || op === 'replace') parent[last] = structuredClone(value);
    else throw new Error(`patch op ${op} not supported here`);
  }
  return copy;
}

let manifests: Manifest[];
let agentRunFlags: Set<string>;
let aggregatorServeFlags: Set<string>;

function only(kind: string, name?: string, file?: string): Doc {
  const found = manifests.filter(
    (m) => m.doc.kind === kind && (name === undefined || m.doc.metadata?.name === name) && (!file || m.file === file),
  );
  expect(found.map((m) => m.file)).toHaveLength(1);
  return found[0]?.doc;
}

beforeAll(async () => {
  manifests = await loadManifests();
  agentRunFlags = helpFlags(AGENT_BIN, 'run');
  aggregatorServeFlags = helpFlags(AGGREGATOR_BIN, 'serve');
});

afterAll(() => cleanupProcesses());

describe('deploy/kubernetes: every manifest against the Kubernetes schema', () => {
  it('parses every YAML file and validates every object but the kustomizations', () => {
    const objects = manifests.filter((m) => m.doc.kind !== 'Kustomization');
    expect(objects.length).toBeGreaterThanOrEqual(9);
    for (const { file, doc } of objects) {
      expect(() => validateObject(doc), `${file}: ${doc.kind} ${doc.metadata?.name}`).not.toThrow();
    }
  });

  it('the check is not vacuous: broken copies of the real objects throw', () => {
    const statefulSet = only('StatefulSet');
    expect(() => validateObject({ ...statefulSet, spec: { ...statefulSet.spec, replicas: 'x' } })).toThrow(/replicas/);
    const daemonSet = structuredClone(only('DaemonSet', 'envparity-agent', 'agent-daemonset.yaml'));
    delete daemonSet.spec.selector;
    expect(() => validateObject(daemonSet)).toThrow(/selector/);
    const badMount = structuredClone(only('DaemonSet', 'envparity-agent', 'agent-daemonset.yaml'));
    badMount.spec.template.spec.containers[0].volumeMounts[0].readOnly = 'yes';
    expect(() => validateObject(badMount)).toThrow(/readOnly/);
    expect(() => validateObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } })).toThrow(/no schema/);
  });

  it('kustomization.yaml lists every manifest beside it, and no placeholder Secret', async () => {
    const kustomization = only('Kustomization', undefined, 'kustomization.yaml');
    const besideIt = (await yamlFiles(MANIFEST_DIR)).filter(
      (file) => !file.includes('/') && file !== 'kustomization.yaml',
    );
    expect([...kustomization.resources].sort()).toEqual(besideIt);
    expect(kustomization.namespace).toBe(only('Namespace').metadata.name);
    // The examples hold placeholder values: apply -k must never create them.
    const listed = manifests.filter((m) => kustomization.resources.includes(m.file));
    expect(listed.filter((m) => m.doc.kind === 'Secret')).toEqual([]);
    const overlay = only('Kustomization', undefined, 'full-host-facts/kustomization.yaml');
    expect(overlay.resources).toEqual(['..']);
  });
});

describe('the agent DaemonSet is host mode (docs/AGENT.md#host-mode-an-agent-in-a-container)', () => {
  const base = () => only('DaemonSet', 'envparity-agent', 'agent-daemonset.yaml');
  const agentContainer = (daemonSet: Doc) => daemonSet.spec.template.spec.containers[0];

  function checkHostMode(daemonSet: Doc): void {
    const pod = daemonSet.spec.template.spec;
    const container = agentContainer(daemonSet);
    const args: string[] = container.args;
    expect(args[0]).toBe('run');
    for (const flag of flagsOf(args)) expect(agentRunFlags, `run ${flag}`).toContain(flag);

    // The node's / read-only at the host root the agent is told about.
    const hostRoot = flagValue(args, '--host-root');
    expect(hostRoot).toBe('/host');
    const rootVolume = pod.volumes.find((volume: Doc) => volume.hostPath?.path === '/');
    const rootMount = container.volumeMounts.find((mount: Doc) => mount.name === rootVolume?.name);
    expect(rootMount).toMatchObject({ mountPath: hostRoot, readOnly: true });
    expect(pod.hostPID).toBe(true);
    expect(pod.hostNetwork).toBe(true);
    expect(pod.dnsPolicy).toBe('ClusterFirstWithHostNet');

    // The node name from the Downward API as the host id (`--host-id`: the agent reads no env for it).
    const hostId = flagValue(args, '--host-id');
    const variable = /^\$\(([A-Z_]+)\)$/.exec(hostId ?? '')?.[1];
    const nodeName = container.env.find((entry: Doc) => entry.name === variable);
    expect(nodeName?.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');

    const enroll = container.env.find((entry: Doc) => entry.name === 'ENVPARITY_ENROLL_SECRET');
    expect(enroll?.valueFrom?.secretKeyRef).toMatchObject({ name: 'envparity-agent-enroll', key: 'enroll-secret' });
    expect(args).not.toContain('--enroll-secret');

    expect(bytesOf(container.resources.requests.memory)).toBeLessThanOrEqual(64 * 2 ** 20);
    expect(bytesOf(container.resources.limits.memory)).toBeLessThanOrEqual(128 * 2 ** 20);
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(container.securityContext.capabilities.drop).toEqual(['ALL']);

    // Writable: the state dir (on the node) and /tmp (the entrypoint's pid file for the probe).
    const stateDir = flagValue(args, '--state-dir');
    const stateMount = container.volumeMounts.find((mount: Doc) => mount.mountPath === stateDir);
    expect(stateMount?.readOnly).not.toBe(true);
    const stateVolume = pod.volumes.find((volume: Doc) => volume.name === stateMount?.name);
    expect(stateVolume.hostPath).toMatchObject({ path: '/var/lib/envparity-kubernetes', type: 'DirectoryOrCreate' });
    const tmp = container.volumeMounts.find((mount: Doc) => mount.mountPath === '/tmp');
    expect(tmp?.readOnly).not.toBe(true);

    // The state dir belongs to the uid the agent runs as.
    const owner = pod.initContainers[0].env.find((entry: Doc) => entry.name === 'STATE_DIR_OWNER');
    expect(Number(owner.value)).toBe(container.securityContext.runAsUser);
    expect(pod.initContainers[0].volumeMounts[0].mountPath).toBe(stateDir);
    expect(pod.initContainers[0].securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['CHOWN', 'FOWNER'] });
  }

  it('mounts, flags, host id, enroll secret, limits and security context', () => {
    const daemonSet = base();
    checkHostMode(daemonSet);
    expect(agentContainer(daemonSet).securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
    expect(agentContainer(daemonSet).securityContext.capabilities.add).toBeUndefined();
  });

  it('full-host-facts/ patches it into root with SYS_PTRACE and DAC_READ_SEARCH only, still valid', () => {
    const overlay = only('Kustomization', undefined, 'full-host-facts/kustomization.yaml');
    const [patch] = overlay.patches;
    expect(patch.target).toEqual({ kind: 'DaemonSet', name: base().metadata.name });
    const patched = applyJsonPatch(base(), parseAllDocuments(patch.patch)[0]?.toJS());
    expect(() => validateObject(patched)).not.toThrow();
    checkHostMode(patched);
    expect(agentContainer(patched).securityContext).toMatchObject({ runAsUser: 0, runAsNonRoot: false });
    expect(agentContainer(patched).securityContext.capabilities.add.sort()).toEqual(['DAC_READ_SEARCH', 'SYS_PTRACE']);
  });

  it('reads its config and CA from the ConfigMaps it mounts; the config is a valid agent config', () => {
    const container = agentContainer(base());
    const args: string[] = container.args;
    const configMount = container.volumeMounts.find((mount: Doc) => mount.mountPath === '/etc/envparity');
    const volume = base().spec.template.spec.volumes.find((v: Doc) => v.name === configMount.name);
    const mapNames = volume.projected.sources.map((source: Doc) => source.configMap.name);
    expect(mapNames).toEqual(['envparity-agent-config', 'envparity-aggregator-ca']);
    expect(flagValue(args, '--config')).toBe('/etc/envparity/agent.yaml');
    expect(flagValue(args, '--ca')).toBe('/etc/envparity/ca.crt');
    const agentConfig = only('ConfigMap', 'envparity-agent-config');
    const caShape = only('ConfigMap', 'envparity-aggregator-ca');
    expect(Object.keys(agentConfig.data)).toEqual(['agent.yaml']);
    expect(Object.keys(caShape.data)).toEqual(['ca.crt']);
    const config = validateAgentConfig(parseConfigText(agentConfig.data['agent.yaml'], 'agent.yaml'), 'agent.yaml');
    expect(config.environment).toBeTruthy();
    // Host mode comes from the flag; a hostRoot in the file as well would only be confusing.
    expect(config.hostRoot).toBeUndefined();
  });

  it("dials the aggregator's Service over wss://", () => {
    const service = only('Service', 'envparity-aggregator');
    const namespace = only('Namespace').metadata.name;
    const url = flagValue(agentContainer(base()).args, '--aggregator');
    expect(url).toBe(`wss://${service.metadata.name}.${namespace}.svc:${service.spec.ports[0].port}`);
  });

  it("the liveness probe runs the image's pid check: 0 while the agent runs, not 0 once it is gone", async () => {
    const dir = await makeTempDir('envparity-e2e-probe-');
    const pidFile = join(dir, 'envparity-agent.pid');
    const dockerfile = DockerfileParser.parse(await readFile(join(REPO_ROOT, 'docker/agent.Dockerfile'), 'utf8'));
    const entrypoint: string[] = JSON.parse(dockerfile.getENTRYPOINTs().at(-1)?.getArgumentsContent() ?? '[]');
    const probe: string[] = agentContainer(base()).livenessProbe.exec.command;
    expect(probe.join(' ')).toContain('/tmp/envparity-agent.pid');
    expect(entrypoint.join(' ')).toContain('/tmp/envparity-agent.pid');
    // The same two scripts with this test's pid file, and the workspace bin in place of the bundle.
    const local = (words: string[]) =>
      words.map((word) =>
        word
          .replaceAll('/tmp/envparity-agent.pid', pidFile)
          .replaceAll('node /opt/envparity/envparity-agent.mjs', `${process.execPath} ${AGENT_BIN}`),
      );
    const probeExit = () =>
      new Promise<number | null>((resolve) => {
        const [command, ...rest] = local(probe);
        spawn(command as string, rest, { stdio: 'ignore' }).once('close', resolve);
      });
    const config = join(dir, 'agent.yaml');
    await writeFile(config, 'environment: probe\n');
    const [shell, ...shellArgs] = local(entrypoint);
    // A daemon that keeps retrying an aggregator nobody listens on (port 9 on loopback).
    const agent = spawnManaged(shell as string, [
      ...shellArgs,
      'run',
      '--aggregator',
      'ws://127.0.0.1:9',
      '--enroll-secret',
      'probe-test-enroll-secret',
      '--state-dir',
      join(dir, 'state'),
      '--config',
      config,
    ]);
    await waitFor(() => existsSync(join(dir, 'state', 'identity.json')), { timeoutMs: 20_000 });
    expect(await probeExit()).toBe(0);
    await agent.kill('SIGTERM');
    expect(await probeExit()).not.toBe(0);
  });
});

describe('the aggregator StatefulSet and Service', () => {
  const container = () => only('StatefulSet', 'envparity-aggregator').spec.template.spec.containers[0];

  it('serve flags exist; probes hit /healthz on the port it listens on, with its scheme', () => {
    const args: string[] = container().args;
    expect(args[0]).toBe('serve');
    for (const flag of flagsOf(args)) expect(aggregatorServeFlags, `serve ${flag}`).toContain(flag);
    const [port] = container().ports;
    expect(String(port.containerPort)).toBe(flagValue(args, '--port'));
    expect(flagValue(args, '--host')).toBe('0.0.0.0');
    const scheme = flagValue(args, '--tls-cert') ? 'HTTPS' : 'HTTP';
    for (const probe of [container().readinessProbe, container().livenessProbe]) {
      expect(probe.httpGet.path).toBe('/healthz');
      expect([port.name, port.containerPort]).toContain(probe.httpGet.port);
      expect(probe.httpGet.scheme ?? 'HTTP').toBe(scheme);
    }
  });

  it('the data dir is the volume claim; TLS files come from their Secret', () => {
    const statefulSet = only('StatefulSet', 'envparity-aggregator');
    const args: string[] = container().args;
    const [claim] = statefulSet.spec.volumeClaimTemplates;
    expect(statefulSet.spec.replicas).toBe(1);
    const dataMount = container().volumeMounts.find((mount: Doc) => mount.name === claim.metadata.name);
    expect(dataMount.mountPath).toBe(flagValue(args, '--data'));
    const tlsMount = container().volumeMounts.find((mount: Doc) => mount.name === 'tls');
    expect(flagValue(args, '--tls-cert')).toBe(`${tlsMount.mountPath}/tls.crt`);
    expect(flagValue(args, '--tls-key')).toBe(`${tlsMount.mountPath}/tls.key`);
    expect(container().securityContext.readOnlyRootFilesystem).toBe(true);
    expect(statefulSet.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, fsGroup: 1000 });
  });

  it('secrets by reference; the example Secrets hold every key referenced', () => {
    const examples = manifests.filter((m) => m.doc.kind === 'Secret');
    const keysOf = (name: string) =>
      Object.keys(examples.find((m) => m.doc.metadata.name === name)?.doc.stringData ?? {});
    const pods = [
      only('StatefulSet').spec.template.spec,
      only('DaemonSet', 'envparity-agent', 'agent-daemonset.yaml').spec.template.spec,
    ];
    const references = pods.flatMap((pod: Doc) =>
      pod.containers.flatMap((c: Doc) => (c.env ?? []).map((e: Doc) => e.valueFrom?.secretKeyRef).filter(Boolean)),
    );
    expect(references.length).toBe(4);
    for (const reference of references.filter((r: Doc) => !r.optional)) {
      expect(keysOf(reference.name), reference.name).toContain(reference.key);
    }
  });

  it("the Service selects the aggregator's pods and targets its port", () => {
    const service = only('Service', 'envparity-aggregator');
    const statefulSet = only('StatefulSet', 'envparity-aggregator');
    expect(statefulSet.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    expect(statefulSet.spec.serviceName).toBe(service.metadata.name);
    expect(service.spec.ports[0].targetPort).toBe(container().ports[0].name);
  });
});
