/**
 * The tables the simulated fleet draws its facts from: instance types, CPU flags, application
 * dependencies, packages per role, sysctl and ulimit values (fleet-model.ts builds hosts from them).
 */
import type { FactValue } from '@envparity/shared';

export interface InstanceType {
  name: string;
  cores: number;
  memoryGiB: number;
  diskGiB: number;
  cpuModel: string;
}

export const INSTANCE_TYPES: Readonly<Record<string, readonly InstanceType[]>> = {
  web: [
    {
      name: 'm6i.large',
      cores: 2,
      memoryGiB: 8,
      diskGiB: 50,
      cpuModel: 'Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz',
    },
    {
      name: 'm6i.xlarge',
      cores: 4,
      memoryGiB: 16,
      diskGiB: 50,
      cpuModel: 'Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz',
    },
  ],
  worker: [
    {
      name: 'c6i.xlarge',
      cores: 4,
      memoryGiB: 8,
      diskGiB: 100,
      cpuModel: 'Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz',
    },
    {
      name: 'c6i.2xlarge',
      cores: 8,
      memoryGiB: 16,
      diskGiB: 100,
      cpuModel: 'Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz',
    },
  ],
  db: [
    {
      name: 'r6i.2xlarge',
      cores: 8,
      memoryGiB: 64,
      diskGiB: 500,
      cpuModel: 'Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz',
    },
    {
      name: 'r6i.4xlarge',
      cores: 16,
      memoryGiB: 128,
      diskGiB: 1000,
      cpuModel: 'Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz',
    },
  ],
};

// biome-ignore format: a data table
export const CPU_FLAGS = [
  'fpu', 'vme', 'de', 'pse', 'tsc', 'msr', 'pae', 'mce', 'cx8', 'apic', 'sep', 'mtrr', 'pge', 'mca', 'cmov',
  'pat', 'pse36', 'clflush', 'mmx', 'fxsr', 'sse', 'sse2', 'ss', 'ht', 'syscall', 'nx', 'pdpe1gb', 'rdtscp',
  'lm', 'constant_tsc', 'rep_good', 'nopl', 'xtopology', 'nonstop_tsc', 'cpuid', 'aperfmperf', 'pni',
  'pclmulqdq', 'ssse3', 'fma', 'cx16', 'pcid', 'sse4_1', 'sse4_2', 'x2apic', 'movbe', 'popcnt', 'aes',
  'xsave', 'avx', 'f16c', 'rdrand', 'hypervisor', 'lahf_lm', 'abm', 'avx2', 'avx512f', 'avx512dq', 'sha_ni',
];

/** Node dependencies of the web service's lockfile (name -> version at the current release). */
// biome-ignore format: a data table
export const NPM_DEPENDENCIES: readonly (readonly [string, string])[] = [
  ['@aws-sdk/client-s3', '3.826.0'], ['@aws-sdk/client-sqs', '3.826.0'], ['@babel/runtime', '7.27.6'],
  ['@fastify/cors', '11.0.1'], ['@fastify/helmet', '13.0.1'], ['@fastify/rate-limit', '10.3.0'],
  ['@opentelemetry/api', '1.9.0'], ['@opentelemetry/sdk-node', '0.202.0'], ['@sentry/node', '9.28.1'],
  ['ajv', '8.17.1'], ['axios', '1.10.0'], ['bcryptjs', '3.0.2'], ['bullmq', '5.53.2'], ['busboy', '1.6.0'],
  ['chalk', '5.4.1'], ['commander', '14.0.0'], ['cookie', '1.0.2'], ['date-fns', '4.1.0'], ['debug', '4.4.1'],
  ['dotenv', '16.5.0'], ['drizzle-orm', '0.44.2'], ['escape-html', '1.0.3'], ['fast-json-stringify', '6.0.1'],
  ['fastify', '5.4.0'], ['find-my-way', '9.3.0'], ['graphql', '16.11.0'], ['helmet', '8.1.0'], ['ioredis', '5.6.1'],
  ['jose', '6.0.11'], ['js-yaml', '4.1.0'], ['jsonwebtoken', '9.0.2'], ['kafkajs', '2.2.4'], ['knex', '3.1.0'],
  ['lodash', '4.17.21'], ['lru-cache', '11.1.0'], ['mime-types', '3.0.1'], ['ms', '2.1.3'], ['nanoid', '5.1.5'],
  ['node-fetch', '3.3.2'], ['nodemailer', '7.0.3'], ['p-limit', '6.2.0'], ['p-retry', '6.2.1'], ['pg', '8.16.0'],
  ['pg-pool', '3.10.0'], ['pino', '9.7.0'], ['pino-pretty', '13.0.0'], ['prom-client', '15.1.3'], ['qs', '6.14.0'],
  ['redis', '5.5.6'], ['semver', '7.7.2'], ['sharp', '0.34.2'], ['stripe', '18.2.1'], ['superjson', '2.2.2'],
  ['tslib', '2.8.1'], ['undici', '7.10.0'], ['uuid', '11.1.0'], ['ws', '8.18.2'], ['xml2js', '0.6.2'],
  ['yaml', '2.8.0'], ['zod', '3.25.64'],
];

/** Python dependencies of the worker's lockfile. */
// biome-ignore format: a data table
export const PIP_DEPENDENCIES: readonly (readonly [string, string])[] = [
  ['boto3', '1.38.36'], ['botocore', '1.38.36'], ['celery', '5.5.3'], ['certifi', '2025.6.15'],
  ['charset-normalizer', '3.4.2'], ['click', '8.2.1'], ['cryptography', '45.0.4'], ['idna', '3.10'],
  ['jmespath', '1.0.1'], ['kombu', '5.5.4'], ['numpy', '2.3.0'], ['orjson', '3.10.18'], ['pandas', '2.3.0'],
  ['psycopg', '3.2.9'], ['pydantic', '2.11.7'], ['pydantic-core', '2.33.2'], ['python-dateutil', '2.9.0.post0'],
  ['pytz', '2025.2'], ['pyyaml', '6.0.2'], ['redis', '6.2.0'], ['requests', '2.32.4'], ['s3transfer', '0.13.0'],
  ['sentry-sdk', '2.30.0'], ['six', '1.17.0'], ['sqlalchemy', '2.0.41'], ['structlog', '25.4.0'],
  ['tenacity', '9.1.2'], ['typing-extensions', '4.14.0'], ['urllib3', '2.4.0'], ['zope.interface', '7.2'],
];

// biome-ignore format: a data table
export const ROLE_PACKAGES: Readonly<Record<string, readonly (readonly [string, string])[]>> = {
  web: [
    ['nginx', '1.22.1-9+deb12u2'], ['nginx-common', '1.22.1-9+deb12u2'], ['libnginx-mod-http-geoip2', '1:3.4-4'],
    ['libnginx-mod-stream', '1.22.1-9+deb12u2'], ['libmaxminddb0', '1.7.1-1'],
  ],
  worker: [['redis-tools', '5:7.0.15-1~deb12u4'], ['python3-celery', '5.2.6-5'], ['imagemagick', '8:6.9.11.60+dfsg-1.6+deb12u3']],
  db: [['pgbouncer', '1.18.0-1'], ['pgbackrest', '2.47-1'], ['postgresql-15-pgvector', '0.4.1-1+b1']],
};

/** Packages every image has whatever the sampling picks. */
// biome-ignore format: a data table
export const ESSENTIAL_PACKAGES = new Set([
  'base-files', 'bash', 'coreutils', 'dpkg', 'apt', 'libc6', 'libssl3', 'openssl', 'ca-certificates', 'tzdata',
  'systemd', 'libsystemd0', 'zlib1g', 'curl', 'libcurl4', 'openssh-client', 'sudo', 'util-linux', 'procps',
]);

// biome-ignore format: a data table
export const SYSCTL: readonly (readonly [string, FactValue])[] = [
  ['net.core.somaxconn', 4096], ['net.core.netdev_max_backlog', 1000], ['net.core.rmem_max', 16777216],
  ['net.core.wmem_max', 16777216], ['net.ipv4.ip_local_port_range', [1024, 65000]], ['net.ipv4.ip_forward', 0],
  ['net.ipv4.tcp_keepalive_time', 600], ['net.ipv4.tcp_keepalive_intvl', 60], ['net.ipv4.tcp_keepalive_probes', 5],
  ['net.ipv4.tcp_fin_timeout', 30], ['net.ipv4.tcp_tw_reuse', 1], ['net.ipv4.tcp_max_syn_backlog', 8192],
  ['net.ipv4.tcp_syncookies', 1], ['net.ipv4.tcp_congestion_control', 'bbr'], ['net.ipv4.tcp_rmem', [4096, 131072, 16777216]],
  ['net.ipv4.tcp_wmem', [4096, 16384, 16777216]], ['net.ipv4.tcp_mtu_probing', 1], ['net.ipv6.conf.all.disable_ipv6', 0],
  ['net.netfilter.nf_conntrack_max', 262144], ['vm.swappiness', 10], ['vm.overcommit_memory', 0],
  ['vm.max_map_count', 262144], ['vm.dirty_ratio', 20], ['vm.dirty_background_ratio', 10], ['fs.file-max', '9223372036854775807'],
  ['fs.nr_open', 1048576], ['fs.inotify.max_user_watches', 524288], ['fs.inotify.max_user_instances', 512],
  ['kernel.pid_max', 4194304], ['kernel.panic', 10], ['kernel.randomize_va_space', 2], ['kernel.core_pattern', 'core'],
];

// biome-ignore format: a data table
export const ULIMITS: readonly (readonly [string, FactValue])[] = [
  ['cpu', 'unlimited'], ['fsize', 'unlimited'], ['data', 'unlimited'], ['stack', 8388608], ['core', 0],
  ['rss', 'unlimited'], ['nofile', 1048576], ['memlock', 8388608], ['as', 'unlimited'], ['locks', 'unlimited'],
  ['msgqueue', 819200], ['nice', 0], ['rtprio', 0], ['rttime', 'unlimited'],
];

/** Parsed once per process: `[name, version]` in catalog order. */
