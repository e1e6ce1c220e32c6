/**
 * The demo fleet (`npm run demo`, scripts/demo.js): web hosts over dev -> staging -> production,
 * drawn by the fleet model like the benchmark's, with a handful of planted differences a new user
 * should find in the aggregator. Everything here is data: the model options that plant facts at
 * boot, the changes to make once every host has reported (the emergency change), the exceptions to
 * create and the aggregator config, plus a description of each planted difference (where to look,
 * and what the API shows) that the demo prints and its test checks.
 *
 * The fleet's natural promotion lag stays: staging runs a few newer packages, runtimes and app
 * dependencies than production (it is ahead in the promotion order), and environment names appear
 * in hostnames and DNS. The planted differences are what a reader should notice on top of that.
 */
import { createHmac } from 'node:crypto';
import { type FactValue, factPath, SECRET_HASH_PREFIX } from '@envparity/shared';
import {
  bumpVersion,
  createFleetModel,
  DEFAULT_ENVIRONMENTS,
  DEFAULT_SEED,
  type FleetModelOptions,
} from './fleet-model.js';
import type { PlantedFact } from './fleet-plants.js';

/** Promotion order of the demo, upstream first (the aggregator config's `promotion`). */
export const DEMO_PROMOTION: readonly string[] = ['dev', 'staging', 'production'];
export const DEMO_DEFAULT_HOSTS = 300;
/** Fewer hosts cannot give every environment a baseline with a clear majority. */
export const DEMO_MIN_HOSTS = 10;
/** The HMAC key of the secrets when the aggregator's fleet key is not given (any key: same format). */
export const DEMO_FLEET_KEY = 'envparity-demo-fleet-key';
/** The justified difference's exception, and the one that expires this long after it is created. */
export const DEMO_EXPIRING_SECONDS = 60;

export const DEMO_CONFIG_FILE = '/etc/myapp/config.yaml';

export type PlantedDifferenceKind =
  | 'security-patch'
  | 'emergency-change'
  | 'scale'
  | 'secret'
  | 'outlier'
  | 'justified'
  | 'expiring-exception';

/** One planted difference, as the demo describes it. */
export interface PlantedDifference {
  kind: PlantedDifferenceKind;
  /** One line for a human. */
  title: string;
  /** The fact paths it is about (the first is the main one). */
  paths: string[];
  /** The environments it is between (or the one it is inside). */
  environments: string[];
  /** The host it is on, for one-host differences. */
  hostId?: string;
  /** Where to look in the dashboard (a path of the aggregator's URL). */
  look: string;
  /** The same in the JSON API. */
  api: string;
}

/** An exception to create through `POST /api/v1/exceptions` (expiry relative to its creation). */
export interface DemoException {
  kind: 'justified' | 'expiring-exception';
  path: string;
  environments: [string, string] | [string];
  reason: string;
  impact?: string;
  owner?: string;
  expiresInSeconds?: number;
}

/** A change a host makes once every host has sent its first report (`Fleet.setFact`). */
export interface DemoChange {
  index: number;
  path: string;
  value: FactValue;
}

export interface DemoFleetOptions {
  hosts?: number;
  seed?: number;
  /** The aggregator's fleet key, so the simulated secret hashes are those a real agent would send. */
  fleetKey?: string;
}

export interface DemoFleetPlan {
  hosts: number;
  seed: number;
  /** `FleetOptions.model` of the fleet. */
  model: Omit<FleetModelOptions, 'seed'>;
  /** Hosts per environment. */
  environments: Record<string, number>;
  /** Made after every host's first report is acknowledged: the emergency change. */
  laterChanges: DemoChange[];
  exceptions: DemoException[];
  /** Keys of the aggregator config the demo needs (`promotion`, `secretPolicy`, `classes`). */
  aggregatorConfig: {
    promotion: string[];
    secretPolicy: { glob: string; expect: 'differ' | 'equal' }[];
    classes: { glob: string; class: 'identity' | 'volatile' | 'scale' | 'behavior' }[];
  };
  differences: PlantedDifference[];
}

/** A secret value as agents report it: `hmac-sha256:` + hex HMAC-SHA256 of the clear value with the fleet key. */
export function hashDemoSecret(fleetKey: string, clear: string): string {
  return `${SECRET_HASH_PREFIX}${createHmac('sha256', fleetKey).update(clear, 'utf8').digest('hex')}`;
}

const encode = (text: string) => encodeURIComponent(text);

/** The demo fleet with its planted differences. Deterministic for a host count, seed and fleet key. */
export function demoFleetPlan({
  hosts = DEMO_DEFAULT_HOSTS,
  seed = DEFAULT_SEED,
  fleetKey = DEMO_FLEET_KEY,
}: DemoFleetOptions = {}): DemoFleetPlan {
  if (!Number.isInteger(hosts) || hosts < DEMO_MIN_HOSTS) {
    throw new RangeError(`the demo fleet needs at least ${DEMO_MIN_HOSTS} hosts, got ${hosts}`);
  }
  // One role, the current image only and no random hotfixes: each environment is homogeneous, so
  // its outliers are the planted ones, not half the fleet.
  const base: Omit<FleetModelOptions, 'seed'> = {
    environments: DEFAULT_ENVIRONMENTS,
    roles: [{ name: 'web', weight: 1 }],
    variants: 1,
    hotfixShare: 0,
    // Scale: production runs the next size up.
    instanceTypes: { dev: 'm6i.large', staging: 'm6i.large', production: 'm6i.xlarge' },
  };
  const baseModel = createFleetModel({ ...base, seed });
  const byEnvironment = new Map<string, number[]>();
  for (let i = 0; i < hosts; i++) {
    const host = baseModel.host(i);
    let list = byEnvironment.get(host.environment);
    if (!list) {
      list = [];
      byEnvironment.set(host.environment, list);
    }
    list.push(i);
  }
  const production = byEnvironment.get('production') ?? [];
  const staging = byEnvironment.get('staging') ?? [];
  for (const environment of DEMO_PROMOTION) {
    if ((byEnvironment.get(environment)?.length ?? 0) === 0)
      throw new RangeError(`with ${hosts} hosts, ${environment} has none: use more hosts`);
  }
  if (production.length < 3) throw new RangeError(`with ${hosts} hosts, production has too few for an outlier`);

  const hostId = (index: number) => baseModel.host(index).hostId;
  const stagingLibrary = baseModel.categories(baseModel.host(staging[0] as number)).library ?? {};
  const plants: PlantedFact[] = [];
  const differences: PlantedDifference[] = [];

  // (a) A security patch applied in production only: openssl one revision past staging's.
  const patched = ['openssl', 'libssl3'].map((name) => factPath('library', 'dpkg', name));
  for (const path of patched) {
    plants.push({ environment: 'production', path, value: bumpVersion(String(stagingLibrary[path])) });
  }
  differences.push({
    kind: 'security-patch',
    title: `security patch in production that staging never got: openssl ${String(stagingLibrary[patched[0] as string])} (staging) vs ${String(plants[0]?.value)} (production)`,
    paths: patched,
    environments: ['staging', 'production'],
    look: '/compare?from=staging&to=production',
    api: '/api/v1/compare?from=staging&to=production&category=library',
  });

  // (b) An emergency change: once the fleet is up, rate limiting is switched off by hand on every
  // production host. Staging never had the value, so each change is flagged as an emergency change
  // and the staging/production difference it causes carries `emergency: true`.
  const emergencyPath = factPath('config', 'env', 'FEATURE_RATE_LIMIT');
  const laterChanges = production.map((index) => ({ index, path: emergencyPath, value: 'false' }));
  differences.push({
    kind: 'emergency-change',
    title: `emergency change: ${emergencyPath} set to "false" on every production host after start, never through staging`,
    paths: [emergencyPath],
    environments: ['staging', 'production'],
    hostId: hostId(production[0] as number),
    look: '/drift',
    api: `/api/v1/hosts/${encode(hostId(production[0] as number))}/changes`,
  });

  // (c) Scale: production's instance type has twice the cores and memory (class `scale`: listed,
  // never drift). The instance type name itself is declared `scale` in the aggregator config.
  differences.push({
    kind: 'scale',
    title: 'scale difference: production runs m6i.xlarge (4 cores, 16 GiB), staging m6i.large (2 cores, 8 GiB)',
    paths: [
      factPath('hardware', 'cpu', 'cores'),
      factPath('hardware', 'memory', 'total'),
      factPath('hardware', 'model'),
    ],
    environments: ['staging', 'production'],
    look: '/compare?from=staging&to=production',
    api: '/api/v1/compare?from=staging&to=production&category=hardware',
  });

  // (d) Secrets, hashed as agents hash them. Database passwords differ per environment as they
  // should (config `secretPolicy: differ`: equal would be the finding); the payments API token was
  // rotated in production only, so staging and production differ on it.
  const dbPassword = factPath('config', 'env', 'DB_PASSWORD');
  const apiToken = factPath('config', 'env', 'API_TOKEN');
  for (const environment of DEMO_PROMOTION) {
    plants.push({ environment, path: dbPassword, value: hashDemoSecret(fleetKey, `demo-db-password-${environment}`) });
    const token = environment === 'production' ? 'demo-payments-token-2025-06' : 'demo-payments-token-2025-05';
    plants.push({ environment, path: apiToken, value: hashDemoSecret(fleetKey, token) });
  }
  differences.push({
    kind: 'secret',
    title: `differing secret: ${apiToken} was rotated in production only (compared as HMAC hashes, never in clear)`,
    paths: [apiToken],
    environments: ['staging', 'production'],
    look: '/compare?from=staging&to=production',
    api: '/api/v1/compare?from=staging&to=production&category=config',
  });

  // (e) One outlier: a production host that missed the reboot after the kernel update.
  const outlier = production[Math.min(2, production.length - 1)] as number;
  const kernelRelease = factPath('os', 'kernel', 'release');
  const kernelVersion = factPath('os', 'kernel', 'version');
  plants.push({ hostIndex: outlier, path: kernelRelease, value: '6.1.0-35-cloud-amd64' });
  plants.push({ hostIndex: outlier, path: kernelVersion, value: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.135-1' });
  differences.push({
    kind: 'outlier',
    title: `outlier host: ${hostId(outlier)} still runs kernel 6.1.0-35 (missed the reboot), the rest of production 6.1.0-37`,
    paths: [kernelRelease, kernelVersion],
    environments: ['production'],
    hostId: hostId(outlier),
    look: `/hosts/${encode(hostId(outlier))}`,
    api: '/api/v1/environments/production/outliers',
  });

  // (f) A justified difference, and (g) one whose exception expires a minute after start.
  const logLevel = factPath('config', 'env', 'LOG_LEVEL');
  const poolMax = factPath('config', 'file', DEMO_CONFIG_FILE, 'db', 'pool', 'max');
  const exceptions: DemoException[] = [
    {
      kind: 'justified',
      path: logLevel,
      environments: ['staging', 'production'],
      reason: 'debug logs in staging to investigate releases before they ship',
      impact: 'none for users; staging writes more logs',
      owner: 'platform-team',
    },
    {
      kind: 'expiring-exception',
      path: poolMax,
      environments: ['staging', 'production'],
      reason: 'production database pool raised for the launch load test',
      impact: 'production holds up to 40 connections per host',
      owner: 'sre-oncall',
      expiresInSeconds: DEMO_EXPIRING_SECONDS,
    },
  ];
  differences.push({
    kind: 'justified',
    title: `justified difference: ${logLevel} is debug in staging, info in production (exception with reason and owner)`,
    paths: [logLevel],
    environments: ['staging', 'production'],
    look: '/exceptions',
    api: '/api/v1/exceptions',
  });
  differences.push({
    kind: 'expiring-exception',
    title: `expiring exception: ${poolMax} (40 in production, 10 in staging) is justified for ${DEMO_EXPIRING_SECONDS} s, then drift`,
    paths: [poolMax],
    environments: ['staging', 'production'],
    look: '/exceptions',
    api: '/api/v1/exceptions',
  });

  return {
    hosts,
    seed,
    model: { ...base, plants },
    environments: Object.fromEntries(DEMO_PROMOTION.map((e) => [e, byEnvironment.get(e)?.length ?? 0])),
    laterChanges,
    exceptions,
    aggregatorConfig: {
      promotion: [...DEMO_PROMOTION],
      secretPolicy: [{ glob: dbPassword, expect: 'differ' }],
      classes: [{ glob: factPath('hardware', 'model'), class: 'scale' }],
    },
    differences,
  };
}
