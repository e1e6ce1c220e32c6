import { createHmac } from 'node:crypto';
import { compareFacts, createClassifier, type FactMap, type FactValue, fingerprintFacts } from '@envparity/shared';
import { describe, expect, it } from 'vitest';
import { DEMO_PROMOTION, demoFleetPlan, hashDemoSecret } from './demo-fleet.js';
import { createFleetModel } from './fleet-model.js';

/** The dominant value of each path over some hosts (what a baseline holds, ties aside). */
function majority(maps: readonly FactMap[]): FactMap {
  const counts = new Map<string, Map<string, { value: FactValue; n: number }>>();
  for (const map of maps) {
    for (const [path, value] of Object.entries(map)) {
      let values = counts.get(path);
      if (!values) {
        values = new Map();
        counts.set(path, values);
      }
      const key = JSON.stringify(value);
      const entry = values.get(key) ?? { value, n: 0 };
      entry.n++;
      values.set(key, entry);
    }
  }
  const out: FactMap = {};
  for (const [path, values] of counts) {
    const best = [...values.values()].sort((a, b) => b.n - a.n)[0];
    if (best && best.n * 2 > maps.length) out[path] = best.value;
  }
  return out;
}

describe('the demo fleet', () => {
  const plan = demoFleetPlan({ hosts: 60, fleetKey: 'k' });
  const model = createFleetModel({ ...plan.model, seed: plan.seed });
  const hosts = Array.from({ length: plan.hosts }, (_, i) => model.host(i));
  const factsOf = (environment: string) =>
    hosts.filter((h) => h.environment === environment).map((h) => model.facts(h));
  const classify = createClassifier(plan.aggregatorConfig.classes);

  it('spreads web hosts over dev, staging and production, every one of them populated', () => {
    expect(Object.keys(plan.environments)).toEqual([...DEMO_PROMOTION]);
    for (const environment of DEMO_PROMOTION) expect(plan.environments[environment]).toBeGreaterThan(0);
    expect(Object.values(plan.environments).reduce((a, b) => a + b, 0)).toBe(60);
    expect(new Set(hosts.map((h) => h.role))).toEqual(new Set(['web']));
    expect(plan.aggregatorConfig.promotion).toEqual(['dev', 'staging', 'production']);
  });

  it('plants the security patch, the scale and the secret difference between staging and production', () => {
    const staging = majority(factsOf('staging'));
    const production = majority(factsOf('production'));
    const result = compareFacts(staging, production, { classify });
    const byPath = new Map(result.differences.map((d) => [d.path, d]));
    const openssl = byPath.get('library.dpkg.openssl');
    expect(openssl?.status).toBe('drift');
    expect(String(openssl?.to)).not.toBe(String(openssl?.from));
    expect(byPath.get('hardware.cpu.cores')).toMatchObject({ from: 2, to: 4, status: 'scale' });
    expect(byPath.get('hardware.memory.total')?.status).toBe('scale');
    expect(byPath.get('hardware.model')?.status).toBe('scale');
    const token = byPath.get('config.env.API_TOKEN');
    expect(token?.status).toBe('drift');
    expect(token?.from).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(token?.to).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    // The same hash a real agent sends for the clear value with the fleet key.
    expect(token?.to).toBe(
      `hmac-sha256:${createHmac('sha256', 'k').update('demo-payments-token-2025-06').digest('hex')}`,
    );
    expect(hashDemoSecret('k', 'x')).toBe(`hmac-sha256:${createHmac('sha256', 'k').update('x').digest('hex')}`);
    // Staging and dev share the token: only production rotated it.
    expect(majority(factsOf('dev'))['config.env.API_TOKEN']).toBe(staging['config.env.API_TOKEN']);
    // The justified and the expiring exception's paths do differ (so the exceptions justify something).
    for (const exception of plan.exceptions) expect(byPath.get(exception.path)?.status).toBe('drift');
    // The emergency path does not differ yet: it changes after start.
    expect(byPath.has('config.env.FEATURE_RATE_LIMIT')).toBe(false);
  });

  it('has exactly one outlier host in production, and none elsewhere', () => {
    const outlier = plan.differences.find((d) => d.kind === 'outlier');
    for (const environment of DEMO_PROMOTION) {
      const envHosts = hosts.filter((h) => h.environment === environment);
      const baseline = majority(envHosts.map((h) => model.facts(h)));
      const off = envHosts.filter((h) => {
        const facts = model.facts(h);
        return compareFacts(baseline, facts, { classify }).differences.some((d) => d.status === 'drift');
      });
      expect(off.map((h) => h.hostId)).toEqual(environment === 'production' ? [outlier?.hostId] : []);
    }
  });

  it('changes a behavior fact on every production host after start, to a value staging never had', () => {
    const production = hosts.filter((h) => h.environment === 'production').map((h) => h.index);
    expect(plan.laterChanges.map((c) => c.index)).toEqual(production);
    const change = plan.laterChanges[0];
    expect(classify(change?.path as string)).toBe('behavior');
    for (const facts of [...factsOf('staging'), ...factsOf('production')]) {
      expect(facts[change?.path as string]).not.toEqual(change?.value);
    }
  });

  it('describes each planted difference and the exceptions to create', () => {
    expect(plan.differences.map((d) => d.kind).sort()).toEqual(
      ['emergency-change', 'expiring-exception', 'justified', 'outlier', 'scale', 'secret', 'security-patch'].sort(),
    );
    expect(plan.exceptions.map((e) => [e.kind, e.expiresInSeconds])).toEqual([
      ['justified', undefined],
      ['expiring-exception', 60],
    ]);
    for (const exception of plan.exceptions) expect(exception.reason.length).toBeGreaterThan(10);
  });

  it('is deterministic, and refuses fleets too small for the story', () => {
    const again = demoFleetPlan({ hosts: 60, fleetKey: 'k' });
    expect(again).toEqual(plan);
    const other = createFleetModel({ ...again.model, seed: again.seed });
    expect(fingerprintFacts(other.facts(other.host(5))).overall).toBe(
      fingerprintFacts(model.facts(model.host(5))).overall,
    );
    expect(() => demoFleetPlan({ hosts: 5 })).toThrow(/at least 10/);
  });
});
