import { describe, expect, it } from 'vitest';
import { createClassifier, DEFAULT_CLASS_RULES, isCompared } from './classes.js';
import { CATEGORIES } from './facts.js';
import { compilePathGlob } from './glob.js';

describe('default class rules', () => {
  const classify = createClassifier();

  it.each([
    ['host.hostname', 'identity'],
    ['host.machineId', 'identity'],
    ['network.interface.eth0.mac', 'identity'],
    ['os.uptime', 'volatile'],
    ['hardware.memory.free', 'volatile'],
    ['hardware.load.1', 'volatile'],
    ['network.interface.eth0.addresses', 'volatile'],
    ['hardware.cpu.cores', 'scale'],
    ['hardware.memory.total', 'scale'],
    ['hardware.storage.sda.size', 'scale'],
    ['container.cgroup.memory.limit', 'scale'],
    ['config.sysctl["fs.file-max"]', 'scale'],
    ['probe.orders.rows', 'scale'],
    ['os.kernel.release', 'behavior'],
    ['library.dpkg.openssl', 'behavior'],
    ['config.env.LOG_LEVEL', 'behavior'],
    ['network.dns.nameservers', 'behavior'],
    ['runtime.node.version', 'behavior'],
    ['app./srv/app.npm.express', 'behavior'],
    ['probe.schema_version', 'behavior'],
    ['process.api.count', 'scale'],
    ['process.api.limit.nproc', 'scale'],
    ['process.api.pid', 'volatile'],
    ['process.api.stale', 'volatile'],
    ['process.api.env.LOG_LEVEL', 'behavior'],
    ['process.api.env.pid', 'behavior'],
    ['process.api.argv', 'behavior'],
    ['process.api.limit.nofile', 'behavior'],
    ['config.envFile["/etc/default/api"].LOG_LEVEL', 'behavior'],
    ['service.db.reachable', 'volatile'],
    ['service.db.latencyMs', 'volatile'],
    ['service.db.error', 'volatile'],
    ['service.db.version', 'behavior'],
    ['service.db.settings.timezone', 'behavior'],
    ['service.db.settings.shared_buffers', 'scale'],
    ['service.db.settings.max_connections', 'scale'],
    ['service.cache.settings.maxmemory', 'scale'],
    ['service.cache.settings["maxmemory-policy"]', 'behavior'],
    ['service.db.tables.orders.rows', 'scale'],
    ['service.db.tables["public.orders"].rows', 'scale'],
    ['service.db.tables.orders.columns.email', 'behavior'],
    ['service.db.extensions.pg_trgm', 'behavior'],
    ['security.sshd.PermitRootLogin', 'behavior'],
    ['security.sshd.Ciphers', 'behavior'],
    ['security.apparmor.profiles.enforce', 'behavior'],
    ['security.selinux.mode', 'behavior'],
    ['security.firewall.fingerprint', 'behavior'],
    ['security.firewall.rules', 'behavior'],
    ['security.firewall.policy.inet.filter.input', 'behavior'],
    ['security.sysctl["kernel.kptr_restrict"]', 'behavior'],
    ['security.kernel.lockdown', 'behavior'],
    ['security.tls["api.internal:443"].accepts', 'behavior'],
    ['security.accounts.uid0', 'behavior'],
    ['security.accounts.emptyPassword', 'behavior'],
  ] as const)('%s is %s', (path, expected) => {
    expect(classify(path)).toBe(expected);
  });

  it('gives every category of the brief a default (unmatched paths are behavior)', () => {
    for (const category of CATEGORIES) {
      expect(['identity', 'volatile', 'scale', 'behavior']).toContain(classify(`${category}.something`));
    }
    expect(classify('host.anything')).toBe('identity');
  });

  it('has only valid globs', () => {
    for (const rule of DEFAULT_CLASS_RULES) expect(() => compilePathGlob(rule.glob)).not.toThrow();
  });
});

describe('overrides', () => {
  it('win over the defaults, first match first', () => {
    const classify = createClassifier([
      { glob: 'hardware.cpu.cores', class: 'behavior' },
      { glob: 'config.env.BUILD_*', class: 'volatile' },
      { glob: 'config.env.*', class: 'scale' },
    ]);
    expect(classify('hardware.cpu.cores')).toBe('behavior');
    expect(classify('config.env.BUILD_ID')).toBe('volatile');
    expect(classify('config.env.WORKERS')).toBe('scale');
    expect(classify('hardware.memory.total')).toBe('scale');
  });

  it('isCompared keeps behavior and scale only', () => {
    expect(isCompared('behavior')).toBe(true);
    expect(isCompared('scale')).toBe(true);
    expect(isCompared('identity')).toBe(false);
    expect(isCompared('volatile')).toBe(false);
  });
});
