import {
  applyDelta,
  CATEGORIES,
  categoryOf,
  decodeAgentMessage,
  encodeMessage,
  type FactValue,
  fingerprintMap,
  parsePath,
  type ReportMessage,
} from '@envparity/shared';
import { describe, expect, it } from 'vitest';
import { bumpVersion, createFleetModel, olderVersion } from './fleet-model.js';
import { cachedFingerprint, encodeFullReport, fullReportMessage } from './frames.js';
import { randomFor } from './random.js';

const HOSTS = 300;

describe('fleet model documents', () => {
  const model = createFleetModel({ seed: 7 });

  it('puts each host in an environment of its own with environmentPerHost', () => {
    const perHost = createFleetModel({ seed: 7, environmentPerHost: 'pr-' });
    const names = Array.from({ length: 50 }, (_, i) => perHost.host(i).environment);
    expect(new Set(names).size).toBe(50);
    expect(names[3]).toBe('pr-3');
    expect(perHost.host(3).hostId.startsWith('pr-3-')).toBe(true);
  });

  it('uses only paths that parse, under the shared categories', () => {
    const paths = new Map<string, string>();
    for (let i = 0; i < HOSTS; i++) {
      for (const [category, map] of Object.entries(model.categories(model.host(i)))) {
        expect(CATEGORIES).toContain(category);
        for (const path of Object.keys(map)) paths.set(path, category);
      }
    }
    for (const [path, category] of paths) {
      expect(() => parsePath(path)).not.toThrow();
      expect(categoryOf(path)).toBe(category);
    }
  });

  it('produces full reports that encodeMessage accepts, and spliced frames that decode to the same message', () => {
    for (let i = 0; i < 40; i++) {
      const full = model.categories(model.host(i));
      const input = { seq: i + 1, observedAt: 1_750_000_000_000 + i, full };
      const validated = encodeMessage(fullReportMessage(input));
      const spliced = encodeFullReport(input);
      expect(decodeAgentMessage(spliced)).toEqual(decodeAgentMessage(validated));
    }
  });

  it('has hundreds of dpkg packages with real names, some needing quoted segments', () => {
    const library = model.categories(model.host(0)).library ?? {};
    const packages = Object.keys(library).filter((p) => p.startsWith('library.dpkg'));
    expect(packages.length).toBeGreaterThan(300);
    expect(packages).toContain('library.dpkg.openssl');
    expect(packages.some((p) => p.includes('["'))).toBe(true);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const again = createFleetModel({ seed: 7 });
    const other = createFleetModel({ seed: 8 });
    let differs = false;
    for (let i = 0; i < 50; i++) {
      expect(again.host(i)).toEqual(model.host(i));
      expect(again.facts(again.host(i))).toEqual(model.facts(model.host(i)));
      if (JSON.stringify(other.facts(other.host(i))) !== JSON.stringify(model.facts(model.host(i)))) differs = true;
    }
    expect(differs).toBe(true);
  });

  it('shares category content between hosts of a profile (realistic dedupe) with per-host identity', () => {
    const libraries = new Set<string>();
    const environments = new Set<string>();
    const hostnames = new Set<FactValue | undefined>();
    for (let i = 0; i < 2000; i++) {
      const host = model.host(i);
      environments.add(host.environment);
      const categories = model.categories(host);
      libraries.add(cachedFingerprint(categories.library ?? {}));
      hostnames.add(categories.host?.['host.hostname']);
    }
    expect(environments.size).toBe(3);
    expect(libraries.size).toBeGreaterThan(10);
    expect(libraries.size).toBeLessThan(150);
    expect(hostnames.size).toBe(2000);
  });

  it('makes one-path changes whose delta report stays under 512 bytes and whose fingerprint matches', () => {
    const random = randomFor('test-changes');
    for (let i = 0; i < 200; i++) {
      const host = model.host(i);
      const overrides = new Map<string, FactValue>();
      const before = model.categories(host, overrides);
      const change = model.change(host, random, overrides);
      expect(before[change.category]?.[change.path]).not.toEqual(change.value);
      overrides.set(change.path, change.value);
      const after = model.categories(host, overrides)[change.category] ?? {};
      const delta = { set: { [change.path]: change.value }, unset: [] };
      expect(applyDelta(before[change.category] ?? {}, delta)).toEqual(after);
      const message: ReportMessage = {
        type: 'report',
        seq: 1_000_000 + i,
        observedAt: Date.now(),
        delta: { [change.category]: delta },
        fingerprints: { [change.category]: fingerprintMap(after) },
      };
      expect(encodeMessage(message).length).toBeLessThan(512);
    }
  });

  it('bumps and lowers Debian versions on their last number', () => {
    expect(bumpVersion('3.0.19-1~deb12u2')).toBe('3.0.19-1~deb12u3');
    expect(bumpVersion('1:2.39.5-0+deb12u3', 2)).toBe('1:2.39.5-0+deb12u5');
    expect(olderVersion('2.36-9+deb12u14')).toBe('2.36-9+deb12u13');
    expect(olderVersion('1.0-0')).toBe('1.0-0~bpo1');
  });
});

describe('planted facts and fixed instance types', () => {
  const plain = createFleetModel({ seed: 7 });

  it('changes nothing when the options are absent or empty', () => {
    const empty = createFleetModel({ seed: 7, plants: [], instanceTypes: {} });
    for (let i = 0; i < 50; i++) {
      expect(empty.host(i)).toEqual(plain.host(i));
      expect(empty.facts(empty.host(i))).toEqual(plain.facts(plain.host(i)));
    }
  });

  it('plants facts per environment (shared maps stay shared) and per host, before the host changes', () => {
    const openssl = 'library.dpkg.openssl';
    const kernel = 'os.kernel.release';
    const model = createFleetModel({
      seed: 7,
      plants: [
        { environment: 'production', path: openssl, value: '9.9.9-1' },
        { environment: 'staging', path: 'config.env.NEW_VAR', value: 'x' },
        { hostIndex: 4, path: kernel, value: '6.1.0-1-cloud-amd64' },
        { hostIndex: 4, path: 'os.locale', remove: true },
      ],
    });
    const planted = new Map<unknown, unknown>();
    for (let i = 0; i < 100; i++) {
      const host = model.host(i);
      const categories = model.categories(host);
      const before = plain.categories(plain.host(i));
      if (host.environment === 'production') {
        expect(categories.library?.[openssl]).toBe('9.9.9-1');
        // Hosts sharing a library map share its planted copy (one encoding, one blob).
        if (!planted.has(before.library)) planted.set(before.library, categories.library);
        expect(categories.library).toBe(planted.get(before.library));
      } else {
        expect(categories.library).toEqual(before.library);
      }
      expect(categories.config?.['config.env.NEW_VAR']).toBe(host.environment === 'staging' ? 'x' : undefined);
      expect(categories.os?.[kernel]).toBe(i === 4 ? '6.1.0-1-cloud-amd64' : before.os?.[kernel]);
      expect('os.locale' in (categories.os ?? {})).toBe(i !== 4);
      expect(Object.keys(categories)).toEqual(Object.keys(before));
    }
    expect(planted.size).toBeGreaterThan(0);
    // A host's own change since boot wins over a plant.
    const production = Array.from({ length: 100 }, (_, i) => model.host(i)).find((h) => h.environment === 'production');
    const overrides = new Map<string, FactValue>([[openssl, '10.0.0-1']]);
    expect(model.categories(production as never, overrides).library?.[openssl]).toBe('10.0.0-1');
  });

  it('refuses plants it could not report', () => {
    expect(() => createFleetModel({ plants: [{ path: 'os.locale', value: 'C' }] })).toThrow(/environment or a host/);
    expect(() => createFleetModel({ plants: [{ hostIndex: 1, path: 'os.locale' }] })).toThrow(/value/);
    expect(() => createFleetModel({ plants: [{ hostIndex: 1, path: 'os["locale"]', value: 'C' }] })).toThrow(
      /canonical/,
    );
    expect(() => createFleetModel({ plants: [{ hostIndex: 1, path: 'nope.x', value: 1 }] })).toThrow(/category/);
    expect(() => createFleetModel({ instanceTypes: { dev: 'z9.huge' } })).toThrow(/unknown instance type/);
  });

  it('gives every host of an environment its fixed instance type, the others unchanged', () => {
    const model = createFleetModel({
      seed: 7,
      roles: [{ name: 'web', weight: 1 }],
      instanceTypes: { production: 'm6i.xlarge' },
    });
    const same = createFleetModel({ seed: 7, roles: [{ name: 'web', weight: 1 }] });
    for (let i = 0; i < 100; i++) {
      const host = model.host(i);
      if (host.environment === 'production') {
        expect(host.instanceType.name).toBe('m6i.xlarge');
        expect(model.facts(host)['hardware.cpu.cores']).toBe(4);
      } else {
        expect(host).toEqual(same.host(i));
      }
      expect(host.zone).toBe(same.host(i).zone);
    }
  });
});
