import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClassifier } from '@envparity/shared';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { readDeclaredClasses, SqliteDeclaredClassRepository } from '../store/declared-class-repository.js';
import { migrate } from '../store/migrations.js';
import { ClassRegistry } from './class-registry.js';

const T0 = Date.UTC(2026, 0, 1);

function recordingLogger() {
  const warnings: { fields: Record<string, unknown>; message: string }[] = [];
  return {
    warnings,
    logger: {
      warn: (fields: Record<string, unknown>, message: string) => warnings.push({ fields, message }),
      info: () => {},
      error: () => {},
    } as never,
  };
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function databaseFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'envparity-classes-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'envparity.db');
}

function openRepository(path: string): SqliteDeclaredClassRepository {
  const db = new Database(path);
  cleanups.push(() => db.close());
  migrate(db);
  return new SqliteDeclaredClassRepository(db);
}

describe('ClassRegistry', () => {
  it('accepts a declaration: the probe and all its keys take the class, its error path does not', () => {
    const registry = new ClassRegistry({ now: () => T0 });
    expect(registry.declare('web-1', [{ glob: 'probe.sizes.**', class: 'scale' }])).toEqual([
      { glob: 'probe.sizes.**', class: 'scale', outcome: 'accepted' },
    ]);
    expect(registry.classify('probe.sizes')).toBe('scale');
    expect(registry.classify('probe.sizes.orders')).toBe('scale');
    expect(registry.classify('probe.sizes.tables["public.orders"]')).toBe('scale');
    expect(registry.classify('probe.sizes.error')).toBe('behavior');
    expect(registry.classify('probe.sizesx.orders')).toBe('behavior');
    expect(registry.declarations()).toEqual([{ glob: 'probe.sizes.**', class: 'scale', hostId: 'web-1', at: T0 }]);
  });

  it('publishes overrides, then the pinned error path and the declaration, so verify classifies alike', () => {
    const registry = new ClassRegistry({ overrides: [{ glob: 'probe.sizes.secret_rows', class: 'volatile' }] });
    registry.declare('web-1', [{ glob: 'probe.sizes.**', class: 'scale' }]);
    expect(registry.rules).toEqual([
      { glob: 'probe.sizes.secret_rows', class: 'volatile' },
      { glob: 'probe.sizes.error', class: 'behavior' },
      { glob: 'probe.sizes.**', class: 'scale' },
    ]);
    const verifyClassifier = createClassifier(registry.rules);
    for (const path of [
      'probe.sizes',
      'probe.sizes.orders',
      'probe.sizes.error',
      'probe.sizes.secret_rows',
      'os.uptime',
    ]) {
      expect(verifyClassifier(path)).toBe(registry.classify(path));
    }
  });

  it('the same glob and class from another host changes nothing', () => {
    const registry = new ClassRegistry({ now: () => T0 });
    registry.declare('web-1', [{ glob: 'probe.sizes.**', class: 'scale' }]);
    expect(registry.declare('web-2', [{ glob: 'probe.sizes.**', class: 'scale' }])).toEqual([
      { glob: 'probe.sizes.**', class: 'scale', outcome: 'unchanged' },
    ]);
    expect(registry.declarations()).toHaveLength(1);
    expect(registry.declarations()[0]?.hostId).toBe('web-1');
  });

  it('refuses another class for a declared glob or probe, logged once, and keeps refusing', () => {
    const { logger, warnings } = recordingLogger();
    const registry = new ClassRegistry({ logger });
    registry.declare('web-1', [{ glob: 'probe.sizes.**', class: 'scale' }]);
    const [again] = registry.declare('web-2', [{ glob: 'probe.sizes.**', class: 'volatile' }]);
    expect(again).toMatchObject({ outcome: 'refused', existing: 'scale' });
    const [sameProbe] = registry.declare('web-2', [{ glob: 'probe.sizes.rows', class: 'behavior' }]);
    expect(sameProbe).toMatchObject({ outcome: 'refused', existing: 'scale' });
    expect(registry.declare('web-3', [{ glob: 'probe.sizes.**', class: 'volatile' }])[0]).toEqual(again);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]?.fields).toMatchObject({
      hostId: 'web-2',
      glob: 'probe.sizes.**',
      class: 'volatile',
      existingClass: 'scale',
    });
    expect(warnings[0]?.message).toContain('aggregator config `classes`');
    expect(registry.classify('probe.sizes.orders')).toBe('scale');
  });

  it('refuses a declaration that would reclassify a path already classified, and stays refused', () => {
    const { logger, warnings } = recordingLogger();
    const registry = new ClassRegistry({ logger });
    expect(registry.classify('probe.orders.orders')).toBe('behavior');
    // Already scale by default: no contradiction for this path.
    expect(registry.classify('probe.orders.rows')).toBe('scale');
    const [outcome] = registry.declare('web-1', [{ glob: 'probe.orders.**', class: 'scale' }]);
    expect(outcome).toMatchObject({ outcome: 'refused', existing: 'behavior' });
    expect(outcome?.outcome === 'refused' && outcome.reason).toContain('probe.orders.orders');
    expect(warnings[0]?.fields).toMatchObject({ hostId: 'web-1', existingClass: 'behavior' });
    expect(registry.classify('probe.orders.orders')).toBe('behavior');
    expect(registry.classify('probe.orders.new_key')).toBe('behavior');
    expect(registry.declarations()).toEqual([]);
    registry.declare('web-2', [{ glob: 'probe.orders.**', class: 'scale' }]);
    expect(warnings).toHaveLength(1);
  });

  it('a classified error path or an override-decided path is no contradiction', () => {
    const registry = new ClassRegistry({ overrides: [{ glob: 'probe.orders.total', class: 'behavior' }] });
    registry.classify('probe.orders.error');
    registry.classify('probe.orders.total');
    expect(registry.declare('web-1', [{ glob: 'probe.orders.**', class: 'scale' }])[0]?.outcome).toBe('accepted');
    expect(registry.classify('probe.orders.total')).toBe('behavior');
    expect(registry.classify('probe.orders.other')).toBe('scale');
  });

  it('refuses globs outside probe.<literal name>, and past the fleet cap', () => {
    const registry = new ClassRegistry({ maxDeclarations: 1 });
    const outcomes = registry.declare('web-1', [
      { glob: 'os.**', class: 'scale' },
      { glob: 'probe.*.**', class: 'scale' },
      { glob: '**', class: 'volatile' },
      { glob: 'probe.a.**', class: 'scale' },
      { glob: 'probe.b.**', class: 'scale' },
    ]);
    expect(outcomes.map((outcome) => outcome.outcome)).toEqual([
      'refused',
      'refused',
      'refused',
      'accepted',
      'refused',
    ]);
    expect(registry.classify('os.distro.id')).toBe('behavior');
    expect(registry.classify('probe.b.x')).toBe('behavior');
  });

  it('peek classifies without remembering, so warm-up paths never contradict a declaration', () => {
    const registry = new ClassRegistry();
    expect(registry.peek('probe.warmup.key-1.value')).toBe('behavior');
    expect(registry.declare('web-1', [{ glob: 'probe.warmup.**', class: 'scale' }])[0]?.outcome).toBe('accepted');
  });

  it('persists accepted declarations: a reopened registry classifies as before, and accepts them again as no-ops', () => {
    const path = databaseFile();
    const first = new ClassRegistry({ repository: openRepository(path), now: () => T0 });
    first.declare('web-1', [
      { glob: 'probe.sizes.**', class: 'scale' },
      { glob: 'probe.os.**', class: 'volatile' },
    ]);
    first.declare('web-2', [{ glob: 'probe.sizes.**', class: 'volatile' }]);
    expect(readDeclaredClasses(path)).toEqual([
      { glob: 'probe.os.**', class: 'volatile', hostId: 'web-1', at: T0 },
      { glob: 'probe.sizes.**', class: 'scale', hostId: 'web-1', at: T0 },
    ]);
    const reopened = new ClassRegistry({ declared: readDeclaredClasses(path), repository: openRepository(path) });
    expect(reopened.classify('probe.sizes.orders')).toBe('scale');
    expect(reopened.classify('probe.os.anything')).toBe('volatile');
    expect(reopened.declare('web-1', [{ glob: 'probe.sizes.**', class: 'scale' }])[0]?.outcome).toBe('unchanged');
    expect(reopened.declare('web-3', [{ glob: 'probe.sizes.**', class: 'behavior' }])[0]?.outcome).toBe('refused');
  });

  it('reads nothing from a missing file, :memory: or a database without the table', () => {
    expect(readDeclaredClasses(':memory:')).toEqual([]);
    const path = databaseFile();
    expect(readDeclaredClasses(path)).toEqual([]);
    const db = new Database(path);
    db.exec('CREATE TABLE other (x INTEGER)');
    db.close();
    expect(readDeclaredClasses(path)).toEqual([]);
  });
});
