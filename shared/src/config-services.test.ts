import { describe, expect, it } from 'vitest';
import { parseAgentConfig } from './config.js';
import { DEFAULT_POSTGRES_SETTINGS, DEFAULT_SERVICE_TIMEOUT_SECONDS } from './config-services.js';
import { ConfigError } from './errors.js';

const servicesOf = (yaml: string) => parseAgentConfig(`watch:\n  services:\n${yaml}`).watch.services;

function refusal(yaml: string): string {
  try {
    servicesOf(yaml);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('the config was accepted');
}

describe('watch.services', () => {
  it('reads each type with its defaults', () => {
    const services = servicesOf(`
    - { name: db, type: postgres, host: 127.0.0.1, database: app, user: app, passwordEnv: DB_PASSWORD, tables: [orders, public.users], migrationsTable: schema_migrations }
    - { name: legacy, type: mysql, host: db.internal }
    - { name: cache, type: redis, host: 127.0.0.1, passwordFile: /run/secrets/redis }
    - { name: api, type: http, url: "http://127.0.0.1:8080/version", versionJsonPath: "$.build.version" }
    - { name: ssh, type: tcp, host: "[::1]", port: 22 }
`);
    expect(services.map((s) => [s.name, s.type])).toEqual([
      ['db', 'postgres'],
      ['legacy', 'mysql'],
      ['cache', 'redis'],
      ['api', 'http'],
      ['ssh', 'tcp'],
    ]);
    const [db, legacy, cache, api, ssh] = services;
    expect(db).toMatchObject({
      port: 5432,
      settings: [...DEFAULT_POSTGRES_SETTINGS],
      tables: ['orders', 'public.users'],
    });
    expect(db?.timeout).toBe(DEFAULT_SERVICE_TIMEOUT_SECONDS);
    expect(legacy).toMatchObject({ port: 3306, tables: [] });
    expect(legacy).not.toHaveProperty('user');
    expect(cache).toMatchObject({ port: 6379, passwordFile: '/run/secrets/redis' });
    expect(api).toMatchObject({ url: 'http://127.0.0.1:8080/version', versionJsonPath: '$.build.version' });
    expect(ssh).toMatchObject({ host: '::1', port: 22, banner: true });
  });

  it('accepts a unix socket directory as a postgres host', () => {
    expect(servicesOf('    - { name: db, type: postgres, host: /var/run/postgresql }')[0]).toMatchObject({
      host: '/var/run/postgresql',
    });
  });

  it('refuses a service with no host, naming the key', () => {
    expect(refusal('    - { name: db, type: postgres }')).toContain(
      "watch.services[0].host: required: the server's host name or address",
    );
    expect(refusal('    - { name: ssh, type: tcp, port: 22 }')).toContain('watch.services[0].host: required');
  });

  it('refuses an unknown type, naming the known ones', () => {
    expect(refusal('    - { name: db, type: mongodb, host: x }')).toContain(
      'watch.services[0].type: expected one of postgres, mysql, redis, http, tcp',
    );
  });

  it('refuses a password written in clear, saying where it belongs, and never echoes it', () => {
    for (const type of ['postgres', 'mysql', 'redis']) {
      const message = refusal(`    - { name: db, type: ${type}, host: 127.0.0.1, password: s3cr3t-in-clear }`);
      expect(message).toContain('watch.services[0].password: a password is never written in the config');
      expect(message).toContain('passwordEnv');
      expect(message).toContain('passwordFile');
      expect(message).not.toContain('s3cr3t-in-clear');
    }
  });

  it('refuses duplicate names, bad ports, bad table names, unknown keys and tables without credentials', () => {
    expect(
      refusal('    - { name: a, type: tcp, host: x, port: 1 }\n    - { name: a, type: tcp, host: y, port: 2 }'),
    ).toContain('watch.services: service names must be unique');
    expect(refusal('    - { name: db, type: postgres, host: x, port: 70000 }')).toContain('watch.services[0].port');
    expect(refusal('    - { name: db, type: postgres, host: x, tables: ["orders; drop table x"] }')).toContain(
      'watch.services[0].tables[0]: a table name',
    );
    expect(refusal('    - { name: db, type: redis, host: x, databse: 1 }')).toContain(
      'watch.services[0].databse: unknown key',
    );
    expect(refusal('    - { name: db, type: mysql, host: x, tables: [orders] }')).toContain(
      'watch.services[0].tables: tables need user and database',
    );
    expect(refusal('    - { name: api, type: http, url: "ftp://x" }')).toContain('watch.services[0].url');
    expect(refusal('    - { name: api, type: http, url: "http://x", versionJsonPath: "version" }')).toContain(
      'watch.services[0].versionJsonPath: a JSON path',
    );
  });
});
