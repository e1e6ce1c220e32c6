/**
 * The simulated fleet: which hosts exist and what facts each reports. Deterministic for a seed.
 *
 * Hosts are spread over a few environments (promotion order dev -> staging -> production), roles
 * (web, worker, db) and image variants (the current image and one or two older generations still
 * running), plus a small share of hosts carrying a hotfix. Most categories are therefore shared by
 * many hosts and deduplicate in a content-addressed store the way a real fleet does, while the
 * identity, addresses and volatile facts (uptime, free memory, load) are per host.
 *
 * Memory stays small per simulated host: shared category maps are built once per profile and
 * cached; per-host maps are built when a report is encoded and dropped afterwards.
 */
import { CATEGORIES, categoryOf, type FactMap, type FactValue, factPath } from '@envparity/shared';
import { dpkgCatalogText } from './dpkg-catalog.js';
import { createPlanter, type PlantedFact, resolveInstanceTypes } from './fleet-plants.js';
import {
  CPU_FLAGS,
  ESSENTIAL_PACKAGES,
  INSTANCE_TYPES,
  type InstanceType,
  NPM_DEPENDENCIES,
  PIP_DEPENDENCIES,
  ROLE_PACKAGES,
  SYSCTL,
  ULIMITS,
} from './fleet-tables.js';
import { hashSeed, pick, pickWeighted, type Random, randomFor, randomHex, randomInt } from './random.js';

export interface WeightedName {
  name: string;
  weight: number;
}

/** Listed in promotion order: the first is furthest downstream (oldest software). */
export const DEFAULT_ENVIRONMENTS: readonly WeightedName[] = [
  { name: 'production', weight: 6 },
  { name: 'staging', weight: 3 },
  { name: 'dev', weight: 1 },
];
export const DEFAULT_ROLES: readonly WeightedName[] = [
  { name: 'web', weight: 5 },
  { name: 'worker', weight: 4 },
  { name: 'db', weight: 1 },
];
/** Image generations per environment and role: variant 0 is current, higher ones are older. */
export const DEFAULT_VARIANTS = 3;
/** Share of hosts with one hand-installed package version (a hotfix): realistic outliers. */
export const DEFAULT_HOTFIX_SHARE = 0.02;
/** How many distinct hotfixes exist, so hotfixed hosts still share blobs with each other. */
export const HOTFIX_KINDS = 4;
export const DEFAULT_SEED = 1;
export const DEFAULT_AGENT_VERSION = '0.1.0-loadgen';

export interface FleetModelOptions {
  seed?: number;
  environments?: readonly WeightedName[];
  /**
   * Each host in an environment of its own, `${prefix}${index}` (e.g. per-PR preview
   * environments), instead of `environments`. Their facts follow the first environment's profile.
   */
  environmentPerHost?: string;
  roles?: readonly WeightedName[];
  variants?: number;
  hotfixShare?: number;
  agentVersion?: string;
  /**
   * Environment name -> instance type name (one of INSTANCE_TYPES, any role): every host of that
   * environment runs it instead of a random type of its role (a planted scale difference).
   */
  instanceTypes?: Readonly<Record<string, string>>;
  /**
   * Facts set or removed over what the model produces, on every host of an environment or on one
   * host: planted differences (the demo). Applied in order, before a host's own changes since boot.
   */
  plants?: readonly PlantedFact[];
}

let catalog: readonly (readonly [string, string])[] | undefined;
function dpkgCatalog(): readonly (readonly [string, string])[] {
  catalog ??= dpkgCatalogText()
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const space = line.indexOf(' ');
      return [line.slice(0, space), line.slice(space + 1)] as const;
    });
  return catalog;
}

/** A newer Debian-style version: the last number of the string raised by `by`. */
export function bumpVersion(version: string, by = 1): string {
  const match = /(\d+)(?!.*\d)/.exec(version);
  if (!match) return `${version}.${by}`;
  return version.slice(0, match.index) + String(Number(match[1]) + by) + version.slice(match.index + match[0].length);
}

/** An older version: the last number lowered, or a `~` suffix (sorts lower in dpkg order) when it is 0. */
export function olderVersion(version: string): string {
  const match = /(\d+)(?!.*\d)/.exec(version);
  if (!match || Number(match[1]) === 0) return `${version}~bpo1`;
  return version.slice(0, match.index) + String(Number(match[1]) - 1) + version.slice(match.index + match[0].length);
}

/** Who one simulated host is. Cheap to recompute from the index, so agents need not keep it. */
export interface SimHost {
  index: number;
  hostId: string;
  environment: string;
  /** Position in promotion order: 0 = most downstream (production), higher = further ahead. */
  environmentRank: number;
  role: string;
  /** 0 = current image, higher = older image generation. */
  variant: number;
  /** -1 for none, else which of the HOTFIX_KINDS hotfixes the host carries. */
  hotfix: number;
  instanceType: InstanceType;
  zone: string;
  labels: Record<string, string>;
}

/** A one-path change: what a host's next delta report carries. */
export interface FactChange {
  category: string;
  path: string;
  value: FactValue;
}

export interface FleetModel {
  readonly seed: number;
  readonly agentVersion: string;
  host(index: number): SimHost;
  /**
   * The host's facts per category, with `overrides` (paths it changed since boot) applied.
   * Shared categories are the same cached objects for every host of a profile: do not mutate.
   */
  categories(host: SimHost, overrides?: ReadonlyMap<string, FactValue>): Record<string, FactMap>;
  /** The flat fact map of a host (all categories merged). */
  facts(host: SimHost, overrides?: ReadonlyMap<string, FactValue>): FactMap;
  /** A realistic one-path change against the host's current state: a package upgrade, a config flip... */
  change(host: SimHost, random: Random, overrides?: ReadonlyMap<string, FactValue>): FactChange;
}

const ZONES = ['a', 'b', 'c'];
const GiB = 1024 ** 3;

/** Builds the fleet model. Deterministic: the same options give the same hosts and facts. */
export function createFleetModel({
  seed = DEFAULT_SEED,
  environments = DEFAULT_ENVIRONMENTS,
  roles = DEFAULT_ROLES,
  variants = DEFAULT_VARIANTS,
  hotfixShare = DEFAULT_HOTFIX_SHARE,
  agentVersion = DEFAULT_AGENT_VERSION,
  environmentPerHost,
  instanceTypes,
  plants = [],
}: FleetModelOptions = {}): FleetModel {
  if (environments.length === 0 || roles.length === 0) throw new Error('a fleet needs environments and roles');
  const fixedTypes = resolveInstanceTypes(instanceTypes);
  const applyPlants = createPlanter(plants);
  const envNames = environments.map((e) => e.name);
  const envWeights = environments.map((e) => e.weight);
  const roleNames = roles.map((r) => r.name);
  const roleWeights = roles.map((r) => r.weight);
  const variantList = Array.from({ length: Math.max(1, variants) }, (_, i) => i);
  // Geometric: most hosts run the current image, fewer each older generation.
  const variantWeights = variantList.map((i) => 0.25 ** i);
  const shared = new Map<string, FactMap>();
  const cached = (key: string, build: () => FactMap): FactMap => {
    let map = shared.get(key);
    if (!map) {
      map = build();
      shared.set(key, map);
    }
    return map;
  };

  function host(index: number): SimHost {
    const random = randomFor(seed, 'host', index);
    const picked = pickWeighted(random, envNames, envWeights);
    const environment = environmentPerHost === undefined ? picked : `${environmentPerHost}${index}`;
    const role = pickWeighted(random, roleNames, roleWeights);
    const variant = pickWeighted(random, variantList, variantWeights);
    const hotfix = random() < hotfixShare ? randomInt(random, 0, HOTFIX_KINDS - 1) : -1;
    const types = INSTANCE_TYPES[role] ?? (INSTANCE_TYPES.web as readonly InstanceType[]);
    const drawn = pick(random, types);
    const instanceType = fixedTypes.get(environment) ?? drawn;
    const zone = pick(random, ZONES);
    const hostId = `${environment}-${role}-${String(index).padStart(5, '0')}`;
    return {
      index,
      hostId,
      environment,
      environmentRank: environmentPerHost === undefined ? envNames.indexOf(environment) : 0,
      role,
      variant,
      hotfix,
      instanceType,
      zone,
      labels: { role, zone: `eu-west-1${zone}`, instanceType: instanceType.name },
    };
  }

  // --- shared categories ------------------------------------------------------------------------

  function library(h: SimHost): FactMap {
    return cached(`library|${h.environment}|${h.role}|${h.variant}|${h.hotfix}`, () => {
      const facts: FactMap = {};
      const packages: [string, string][] = [];
      for (const [name, version] of dpkgCatalog()) {
        const inBase = ESSENTIAL_PACKAGES.has(name) || hashSeed(seed, 'base', name) % 100 < 55;
        const inRole = !inBase && hashSeed(seed, 'role', h.role, name) % 100 < 25;
        if (inBase || inRole) packages.push([name, version]);
      }
      for (const [name, version] of ROLE_PACKAGES[h.role] ?? []) packages.push([name, version]);
      const hotfixTarget = h.hotfix >= 0 ? hashSeed(seed, 'hotfix', h.hotfix) % packages.length : -1;
      packages.forEach(([name, version], i) => {
        let v = version;
        // Environments ahead in promotion order already run newer versions of some packages.
        if (hashSeed(seed, 'ahead', name) % 100 < 4 * h.environmentRank) v = bumpVersion(v);
        // Older image generations lag behind on a few packages.
        if (h.variant > 0 && hashSeed(seed, 'behind', h.role, name) % 100 < 3 * h.variant) v = olderVersion(v);
        if (i === hotfixTarget) v = bumpVersion(v, 2);
        facts[factPath('library', 'dpkg', name)] = v;
      });
      const opensslVersion = String(facts[factPath('library', 'dpkg', 'openssl')] ?? '3.0.19-1~deb12u2');
      facts[factPath('library', 'openssl', 'version')] = opensslVersion.replace(/-.*$/, '');
      facts[factPath('library', 'glibc', 'version')] = '2.36';
      return facts;
    });
  }

  function runtime(h: SimHost): FactMap {
    return cached(`runtime|${h.environment}|${h.role}|${h.variant}`, () => {
      const ahead = h.environmentRank;
      const facts: FactMap = {};
      const set = (name: string, version: string) => {
        facts[factPath('runtime', name, 'version')] = version;
      };
      set('node', `20.${19 - h.variant}.${2 + 2 * ahead}`);
      set('npm', `10.8.${2 + ahead}`);
      set('python', `3.11.${2 + (ahead > 1 ? 1 : 0)}`);
      set('pip', '23.0.1');
      set('perl', '5.36.0');
      if (h.role === 'worker') {
        set('java', `17.0.${15 + ahead}`);
        set('ruby', '3.1.2');
      }
      if (h.role === 'db') set('psql', `15.${13 - h.variant}`);
      return facts;
    });
  }

  function app(h: SimHost): FactMap | undefined {
    if (h.role === 'db') return undefined;
    return cached(`app|${h.environment}|${h.role}|${h.variant}`, () => {
      const facts: FactMap = {};
      const project = h.role === 'web' ? '/srv/app' : '/srv/worker';
      const manager = h.role === 'web' ? 'npm' : 'pip';
      const deps = h.role === 'web' ? NPM_DEPENDENCIES : PIP_DEPENDENCIES;
      facts[factPath('app', project, 'lockfile')] = h.role === 'web' ? 'package-lock.json' : 'poetry.lock';
      for (const [name, version] of deps) {
        let v = version;
        if (hashSeed(seed, 'app-ahead', name) % 100 < 10 * h.environmentRank) v = bumpVersion(v);
        if (h.variant > 0 && hashSeed(seed, 'app-behind', name) % 100 < 5 * h.variant) v = olderVersion(v);
        facts[factPath('app', project, manager, name)] = v;
      }
      return facts;
    });
  }

  function config(h: SimHost): FactMap {
    return cached(`config|${h.environment}|${h.role}`, () => {
      const facts: FactMap = {};
      const env = h.environment;
      const secret = (name: string) => `hmac-sha256:${randomHex(randomFor(seed, 'secret', env, name), 32)}`;
      const envVars: Record<string, FactValue> = {
        NODE_ENV: env === 'dev' ? 'development' : 'production',
        LOG_LEVEL: env === 'production' ? 'info' : 'debug',
        APP_ENV: env,
        DB_HOST: `db.${env}.internal`,
        DB_PORT: '5432',
        DB_NAME: 'app',
        DB_USER: 'app',
        DB_PASSWORD: secret('DB_PASSWORD'),
        REDIS_URL: `redis://cache.${env}.internal:6379/0`,
        API_TOKEN: secret('API_TOKEN'),
        FEATURE_NEW_CHECKOUT: h.environmentRank > 0 ? 'true' : 'false',
        FEATURE_SEARCH_V2: 'true',
        FEATURE_RATE_LIMIT: 'true',
        TZ: 'UTC',
      };
      for (const [name, value] of Object.entries(envVars)) facts[factPath('config', 'env', name)] = value;
      const file = h.role === 'db' ? '/etc/postgresql/15/main/postgresql.conf' : '/etc/myapp/config.yaml';
      const settings: Record<string, FactValue> =
        h.role === 'db'
          ? {
              max_connections: 400,
              shared_buffers: '16GB',
              work_mem: '64MB',
              wal_level: 'replica',
              max_wal_senders: 10,
              synchronous_commit: 'on',
              log_min_duration_statement: env === 'production' ? 500 : 100,
            }
          : {
              'server.port': 8080,
              'server.workers': 4,
              'server.keepAliveTimeout': 65,
              'db.host': `db.${env}.internal`,
              'db.pool.min': 2,
              'db.pool.max': env === 'production' ? 40 : 10,
              'db.statementTimeout': 30000,
              'cache.ttl': 300,
              'cache.maxEntries': 10000,
              'queue.concurrency': h.role === 'worker' ? 16 : 4,
              'queue.retries': 5,
              'log.format': 'json',
              'log.redact': ['req.headers.authorization', 'password'],
              'features.newCheckout': h.environmentRank > 0,
              'features.searchV2': true,
              'http.timeout': 10000,
              'http.retries': 3,
            };
      for (const [key, value] of Object.entries(settings)) {
        facts[factPath('config', 'file', file, ...key.split('.'))] = value;
      }
      for (const [key, value] of SYSCTL) facts[factPath('config', 'sysctl', key)] = value;
      for (const [key, value] of ULIMITS) facts[factPath('config', 'ulimit', key)] = value;
      return facts;
    });
  }

  function container(h: SimHost): FactMap {
    return cached(`container|${h.role}|${h.instanceType.name}`, () => {
      if (h.role === 'db') return { [factPath('container', 'inside')]: false };
      return {
        [factPath('container', 'inside')]: true,
        [factPath('container', 'runtime')]: 'containerd',
        [factPath('container', 'cgroup', 'version')]: 2,
        [factPath('container', 'cgroup', 'cpu', 'quota')]: h.instanceType.cores * 100000,
        [factPath('container', 'cgroup', 'cpu', 'period')]: 100000,
        [factPath('container', 'cgroup', 'cpu', 'limitCores')]: h.instanceType.cores,
        [factPath('container', 'cgroup', 'memory', 'limit')]: h.instanceType.memoryGiB * GiB * 0.75,
      };
    });
  }

  function probe(h: SimHost): FactMap | undefined {
    if (h.role === 'db') return undefined;
    return cached(`probe|${h.environment}|${h.variant}`, () => ({
      [factPath('probe', 'schema_version', 'value')]: `2025061${1 + h.environmentRank}_${1200 - 100 * h.variant}`,
      [factPath('probe', 'service_version', 'value')]: `4.${12 + h.environmentRank}.${3 - Math.min(h.variant, 3)}`,
    }));
  }

  // --- per-host categories (small) --------------------------------------------------------------

  function os(h: SimHost, random: Random): FactMap {
    const base = cached(`os|${h.environment}|${h.variant}`, () => ({
      [factPath('os', 'platform')]: 'linux',
      [factPath('os', 'distro', 'id')]: 'debian',
      [factPath('os', 'distro', 'name')]: 'Debian GNU/Linux',
      [factPath('os', 'distro', 'prettyName')]: 'Debian GNU/Linux 12 (bookworm)',
      [factPath('os', 'distro', 'version')]: '12',
      [factPath('os', 'distro', 'codename')]: 'bookworm',
      [factPath('os', 'distro', 'release')]: `12.${11 + Math.min(h.environmentRank, 1) - h.variant}`,
      [factPath('os', 'kernel', 'release')]: `6.1.0-${37 - 2 * h.variant}-cloud-amd64`,
      [factPath('os', 'kernel', 'version')]: `#1 SMP PREEMPT_DYNAMIC Debian 6.1.${140 - 5 * h.variant}-1`,
      [factPath('os', 'arch')]: 'x86_64',
      [factPath('os', 'timezone')]: 'UTC',
      [factPath('os', 'locale')]: 'C.UTF-8',
    }));
    const uptime = randomInt(random, 3600, 90 * 86400);
    return {
      ...base,
      [factPath('os', 'uptime')]: uptime,
      [factPath('os', 'bootTime')]: new Date(Date.UTC(2025, 5, 30) - uptime * 1000).toISOString(),
    };
  }

  function hardware(h: SimHost, random: Random): FactMap {
    const t = h.instanceType;
    const base = cached(`hardware|${t.name}`, () => ({
      [factPath('hardware', 'vendor')]: 'Amazon EC2',
      [factPath('hardware', 'model')]: t.name,
      [factPath('hardware', 'virtualization')]: 'kvm',
      [factPath('hardware', 'cpu', 'vendor')]: 'GenuineIntel',
      [factPath('hardware', 'cpu', 'model')]: t.cpuModel,
      [factPath('hardware', 'cpu', 'cores')]: t.cores,
      [factPath('hardware', 'cpu', 'physicalCores')]: t.cores / 2,
      [factPath('hardware', 'cpu', 'sockets')]: 1,
      [factPath('hardware', 'cpu', 'flags')]: CPU_FLAGS,
      [factPath('hardware', 'memory', 'total')]: t.memoryGiB * GiB,
      [factPath('hardware', 'swap', 'total')]: 0,
      [factPath('hardware', 'storage', 'nvme0n1', 'size')]: t.diskGiB * GiB,
      [factPath('hardware', 'storage', 'nvme0n1', 'rotational')]: false,
    }));
    const total = t.memoryGiB * GiB;
    const free = Math.round(total * (0.1 + 0.6 * random()));
    return {
      ...base,
      [factPath('hardware', 'cpu', 'mhz')]: Math.round((2900 + random() * 600) * 1000) / 1000,
      [factPath('hardware', 'memory', 'free')]: free,
      [factPath('hardware', 'memory', 'available')]: Math.min(total, free + Math.round(total * 0.1)),
      [factPath('hardware', 'load', '1')]: Math.round(random() * t.cores * 100) / 100,
      [factPath('hardware', 'load', '5')]: Math.round(random() * t.cores * 100) / 100,
      [factPath('hardware', 'load', '15')]: Math.round(random() * t.cores * 100) / 100,
    };
  }

  function addressOf(h: SimHost): string {
    const n = h.index + 10;
    return `10.${16 + h.environmentRank}.${(n >> 8) & 0xff}.${n & 0xff}`;
  }

  function macOf(random: Random): string {
    return `0a:${randomHex(random, 5).replace(/(..)(?!$)/g, '$1:')}`;
  }

  function network(h: SimHost, random: Random): FactMap {
    const base = cached(`network|${h.environment}|${h.role}`, () => {
      const subnet = `10.${16 + h.environmentRank}`;
      const listen: Record<string, number[]> = {
        web: [22, 443, 8080, 9100],
        worker: [22, 9100],
        db: [22, 5432, 6432, 9100],
      };
      const facts: FactMap = {
        [factPath('network', 'interface', 'lo', 'mtu')]: 65536,
        [factPath('network', 'interface', 'lo', 'state')]: 'unknown',
        [factPath('network', 'interface', 'lo', 'addresses')]: ['127.0.0.1/8', '::1/128'],
        [factPath('network', 'interface', 'eth0', 'mtu')]: 9001,
        [factPath('network', 'interface', 'eth0', 'state')]: 'up',
        [factPath('network', 'gateway', 'ipv4')]: `${subnet}.0.1`,
        [factPath('network', 'gateway', 'interface')]: 'eth0',
        [factPath('network', 'dns', 'nameservers')]: [`${subnet}.0.2`],
        [factPath('network', 'dns', 'search')]: [`${h.environment}.internal`, 'eu-west-1.compute.internal'],
        [factPath('network', 'dns', 'options')]: ['timeout:2', 'attempts:3'],
        [factPath('network', 'hosts', 'localhost')]: ['127.0.0.1', '::1'],
        [factPath('network', 'resolve', `db.${h.environment}.internal`)]: [`${subnet}.1.10`],
        [factPath('network', 'resolve', `cache.${h.environment}.internal`)]: [`${subnet}.1.20`],
      };
      const endpoint = `api.${h.environment}.internal:443`;
      facts[factPath('network', 'tls', endpoint, 'issuer')] = 'CN=Internal CA R3,O=Example Corp';
      facts[factPath('network', 'tls', endpoint, 'subject')] = `CN=api.${h.environment}.internal`;
      facts[factPath('network', 'tls', endpoint, 'sans')] = [
        `api.${h.environment}.internal`,
        `*.${h.environment}.internal`,
      ];
      facts[factPath('network', 'tls', endpoint, 'notAfter')] = `2026-0${3 + h.environmentRank}-15T12:00:00.000Z`;
      facts[factPath('network', 'tls', endpoint, 'sha256')] = randomHex(randomFor(seed, 'tls', h.environment), 32);
      for (const port of listen[h.role] ?? [22])
        facts[factPath('network', 'listen', 'tcp', String(port))] = ['0.0.0.0'];
      return facts;
    });
    return {
      ...base,
      [factPath('network', 'interface', 'eth0', 'addresses')]: [
        `${addressOf(h)}/20`,
        `fe80::${randomHex(random, 2)}:${randomHex(random, 2)}/64`,
      ],
      [factPath('network', 'interface', 'eth0', 'mac')]: macOf(random),
    };
  }

  function hostCategory(h: SimHost, random: Random): FactMap {
    const hostname = `${h.role}-${String(h.index).padStart(5, '0')}`;
    return {
      [factPath('host', 'hostname')]: hostname,
      [factPath('host', 'fqdn')]: `${hostname}.${h.environment}.internal`,
      [factPath('host', 'machineId')]: randomHex(random, 16),
      [factPath('host', 'addresses')]: [addressOf(h)],
      [factPath('host', 'macs')]: [macOf(random)],
    };
  }

  function categories(h: SimHost, overrides?: ReadonlyMap<string, FactValue>): Record<string, FactMap> {
    // One random stream per host for its own facts, independent of the shared profiles.
    const random = randomFor(seed, 'facts', h.index);
    const byCategory: Record<string, FactMap | undefined> = {
      os: os(h, random),
      hardware: hardware(h, random),
      runtime: runtime(h),
      library: library(h),
      app: app(h),
      config: config(h),
      network: network(h, random),
      container: container(h),
      probe: probe(h),
      host: hostCategory(h, random),
    };
    const result: Record<string, FactMap> = {};
    for (const category of CATEGORIES) {
      const map = byCategory[category];
      if (map) result[category] = map;
    }
    applyPlants(h, result);
    if (overrides && overrides.size > 0) {
      const copied = new Set<string>();
      for (const [path, value] of overrides) {
        const category = categoryOf(path);
        const map = result[category];
        if (!map) continue;
        if (!copied.has(category)) {
          result[category] = { ...map };
          copied.add(category);
        }
        (result[category] as FactMap)[path] = value;
      }
    }
    return result;
  }

  function facts(h: SimHost, overrides?: ReadonlyMap<string, FactValue>): FactMap {
    return Object.assign({}, ...Object.values(categories(h, overrides))) as FactMap;
  }

  function change(h: SimHost, random: Random, overrides?: ReadonlyMap<string, FactValue>): FactChange {
    const current = categories(h, overrides);
    const kind = random();
    if (kind < 0.2) {
      // A config flip: log level or a feature flag.
      const name = pick(random, ['LOG_LEVEL', 'FEATURE_NEW_CHECKOUT', 'FEATURE_SEARCH_V2', 'FEATURE_RATE_LIMIT']);
      const path = factPath('config', 'env', name);
      const now = current.config?.[path];
      const value =
        name === 'LOG_LEVEL'
          ? pick(
              random,
              ['debug', 'info', 'warn'].filter((v) => v !== now),
            )
          : now === 'true'
            ? 'false'
            : 'true';
      return { category: 'config', path, value };
    }
    if (kind < 0.4 && current.app) {
      const paths = Object.keys(current.app).filter((p) => !p.endsWith('.lockfile'));
      const path = pick(random, paths);
      return { category: 'app', path, value: bumpVersion(String(current.app[path])) };
    }
    // Most changes: an unattended upgrade of one OS package.
    const libraryMap = current.library ?? {};
    const paths = Object.keys(libraryMap).filter((p) => p.startsWith('library.dpkg'));
    const path = pick(random, paths);
    return { category: 'library', path, value: bumpVersion(String(libraryMap[path])) };
  }

  return { seed, agentVersion, host, categories, facts, change };
}
