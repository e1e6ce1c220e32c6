/**
 * The aggregator's one classifier, in three layers: the config `classes` overrides, then the
 * probe classes agents declared in their hello (`watch.probes[].class`), then the default rules.
 * It stays a function (`classify`) so every consumer (store, drift engine, queries) sees the
 * declared layer as soon as a declaration is accepted.
 *
 * The fleet keeps one class per path: a declaration takes effect only when no path it would decide
 * has already been classified otherwise (this registry's cache says which paths it classified, and
 * how), and only when no other declaration gave the same probe another class. A refused one is
 * logged once, naming the host, glob, class and the class that stands, and stays refused; the
 * config `classes` are the way to change a class the fleet already uses. An accepted declaration is
 * persisted (declared-class-repository.ts) and loaded at the next start before the fleet state.
 */
import {
  type Classifier,
  type ClassRule,
  compilePathGlob,
  DEFAULT_CLASS_RULES,
  type DeclarableClass,
  type DeclaredClassRule,
  declaredProbeName,
  type FactClass,
  isProbeErrorPath,
  type PathGlob,
  parsePath,
} from '@envparity/shared';
import type { Logger } from 'pino';
import type { DeclaredClassRecord, DeclaredClassRepository } from '../store/declared-class-repository.js';

/** Declarations the whole fleet may hold; past it new globs are refused (hellos carry at most 1000 each). */
export const DEFAULT_MAX_DECLARED_CLASSES = 10_000;

export type DeclarationOutcome =
  | { glob: string; class: DeclarableClass; outcome: 'accepted' | 'unchanged' }
  | { glob: string; class: DeclarableClass; outcome: 'refused'; reason: string; existing?: FactClass };

export interface ClassRegistryOptions {
  /** Config `classes`: tried first, and never changed by a declaration. */
  overrides?: readonly ClassRule[];
  /** Declarations accepted before (read from the store before it loads the fleet state). */
  declared?: readonly DeclaredClassRecord[];
  /** Where accepted declarations are persisted; none keeps them in memory (see `persistTo`). */
  repository?: DeclaredClassRepository;
  defaults?: readonly ClassRule[];
  maxDeclarations?: number;
  logger?: Pick<Logger, 'warn' | 'info' | 'error'>;
  now?: () => number;
}

interface CompiledRule {
  readonly glob: PathGlob;
  readonly class: FactClass;
}

interface CompiledDeclaration extends CompiledRule {
  readonly record: DeclaredClassRecord;
  readonly probe: string;
}

export class ClassRegistry {
  /** The classifier every part of the aggregator uses. */
  readonly classify: Classifier;
  /**
   * The rules `verify --against` must classify with, as the baseline answer publishes them:
   * overrides, then per declared probe its error path (which a declaration never covers) and the
   * accepted declarations. A live list: it grows as declarations are accepted.
   */
  readonly rules: readonly ClassRule[];
  private readonly published: ClassRule[];
  private readonly overrides: readonly CompiledRule[];
  private readonly defaults: readonly CompiledRule[];
  private readonly declared: CompiledDeclaration[] = [];
  private readonly byGlob = new Map<string, CompiledDeclaration>();
  /** Every path classified so far and its class: what a new declaration must not contradict. */
  private readonly cache = new Map<string, FactClass>();
  /** Refused declarations by `glob NUL class`: asked again, they get the same answer, unlogged. */
  private readonly refused = new Map<string, DeclarationOutcome>();
  private repository: DeclaredClassRepository | undefined;
  private readonly maxDeclarations: number;
  private readonly logger: Pick<Logger, 'warn' | 'info' | 'error'> | undefined;
  private readonly now: () => number;

  constructor({
    overrides = [],
    declared = [],
    repository,
    defaults = DEFAULT_CLASS_RULES,
    maxDeclarations = DEFAULT_MAX_DECLARED_CLASSES,
    logger,
    now = Date.now,
  }: ClassRegistryOptions = {}) {
    const compile = (rule: ClassRule): CompiledRule => ({ glob: compilePathGlob(rule.glob), class: rule.class });
    this.overrides = overrides.map(compile);
    this.defaults = defaults.map(compile);
    this.published = overrides.map((rule) => ({ glob: rule.glob, class: rule.class }));
    this.rules = this.published;
    this.repository = repository;
    this.maxDeclarations = maxDeclarations;
    this.logger = logger;
    this.now = now;
    for (const record of declared) this.adopt(record);
    this.classify = (path) => {
      let factClass = this.cache.get(path);
      if (factClass === undefined) {
        factClass = this.classOf(parsePath(path));
        this.cache.set(path, factClass);
      }
      return factClass;
    };
  }

  /** Persist accepted declarations from now on (the store opens after the registry is built). */
  persistTo(repository: DeclaredClassRepository): void {
    this.repository = repository;
  }

  /** The class of `path` without remembering it: for warm-up runs on synthetic paths. */
  peek(path: string): FactClass {
    return this.cache.get(path) ?? this.classOf(parsePath(path));
  }

  /** Accepted declarations, oldest first. */
  declarations(): readonly DeclaredClassRecord[] {
    return this.declared.map((declaration) => declaration.record);
  }

  /** A host's hello declared these rules: each is accepted, already in force, or refused. */
  declare(hostId: string, rules: readonly DeclaredClassRule[]): DeclarationOutcome[] {
    return rules.map((rule) => this.declareOne(hostId, rule));
  }

  private declareOne(hostId: string, rule: DeclaredClassRule): DeclarationOutcome {
    const existing = this.byGlob.get(rule.glob);
    if (existing?.class === rule.class) return { glob: rule.glob, class: rule.class, outcome: 'unchanged' };
    const key = `${rule.glob}\0${rule.class}`;
    const known = this.refused.get(key);
    if (known) return known;
    const problem = existing
      ? {
          reason: `${rule.glob} was declared ${existing.class} by host ${existing.record.hostId}`,
          existing: existing.class,
        }
      : this.problemOf(rule);
    if (problem) return this.refuse(hostId, rule, key, problem);
    const record: DeclaredClassRecord = { glob: rule.glob, class: rule.class, hostId, at: this.now() };
    try {
      this.repository?.add(record);
    } catch (error) {
      // Not refused for good: in force without being stored, a restart would classify differently.
      this.logger?.error(
        { hostId, glob: rule.glob, class: rule.class, err: { message: (error as Error).message } },
        'declared class not stored: not in force, the next hello tries again',
      );
      return { glob: rule.glob, class: rule.class, outcome: 'refused', reason: 'not stored' };
    }
    this.adopt(record);
    this.logger?.info({ hostId, glob: rule.glob, class: rule.class }, 'declared class accepted');
    return { glob: rule.glob, class: rule.class, outcome: 'accepted' };
  }

  /** Why a new glob cannot take effect, or undefined when it can. */
  private problemOf(rule: DeclaredClassRule): { reason: string; existing?: FactClass } | undefined {
    const probe = declaredProbeName(rule.glob);
    if (probe === undefined) return { reason: `${rule.glob} is not under probe.<name> with a literal name` };
    let glob: PathGlob;
    try {
      glob = compilePathGlob(rule.glob);
    } catch (error) {
      return { reason: `${rule.glob} is not a valid glob: ${(error as Error).message}` };
    }
    const sameProbe = this.declared.find((declaration) => declaration.probe === probe);
    if (sameProbe && sameProbe.class !== rule.class) {
      return {
        reason: `probe ${probe} is declared ${sameProbe.class} by host ${sameProbe.record.hostId} (${sameProbe.record.glob})`,
        existing: sameProbe.class,
      };
    }
    if (this.declared.length >= this.maxDeclarations) {
      return { reason: `the fleet holds ${this.declared.length} declared classes, the most it takes` };
    }
    const conflict = this.classifiedOtherwise(probe, glob, rule.class);
    if (conflict)
      return { reason: `${conflict.path} is already classified ${conflict.class}`, existing: conflict.class };
    return undefined;
  }

  /** A path this registry classified that the declaration would now decide differently. */
  private classifiedOtherwise(
    probe: string,
    glob: PathGlob,
    factClass: FactClass,
  ): { path: string; class: FactClass } | undefined {
    const prefix = `probe.${probe}`;
    for (const [path, cached] of this.cache) {
      if (cached === factClass || !path.startsWith(prefix)) continue;
      const next = path.charAt(prefix.length);
      if (next !== '' && next !== '.' && next !== '[') continue;
      const segments = parsePath(path);
      if (!glob.matches(segments) || isProbeErrorPath(segments, probe)) continue;
      // An override decides this path whatever is declared: no change, no conflict.
      if (this.overrides.some((rule) => rule.glob.matches(segments))) continue;
      return { path, class: cached };
    }
    return undefined;
  }

  private refuse(
    hostId: string,
    rule: DeclaredClassRule,
    key: string,
    problem: { reason: string; existing?: FactClass },
  ): DeclarationOutcome {
    const outcome: DeclarationOutcome = { glob: rule.glob, class: rule.class, outcome: 'refused', ...problem };
    this.refused.set(key, outcome);
    this.logger?.warn(
      { hostId, glob: rule.glob, class: rule.class, existingClass: problem.existing ?? null, reason: problem.reason },
      `declared class refused: ${problem.reason}; the fleet keeps one class per path (set it in the aggregator config \`classes\` instead)`,
    );
    return outcome;
  }

  private adopt(record: DeclaredClassRecord): void {
    const probe = declaredProbeName(record.glob);
    if (probe === undefined || this.byGlob.has(record.glob)) return;
    const declaration: CompiledDeclaration = {
      glob: compilePathGlob(record.glob),
      class: record.class,
      record,
      probe,
    };
    // `verify` classifies with plain first-match rules: the error path is pinned ahead of the
    // declared glob to the class it has here, once per probe.
    if (!this.declared.some((earlier) => earlier.probe === probe)) {
      const errorPath = ['probe', probe, 'error'];
      const errorClass = this.defaults.find((rule) => rule.glob.matches(errorPath))?.class ?? 'behavior';
      this.published.push({ glob: `probe.${probe}.error`, class: errorClass });
    }
    this.declared.push(declaration);
    this.byGlob.set(record.glob, declaration);
    this.published.push({ glob: record.glob, class: record.class });
  }

  private classOf(segments: readonly string[]): FactClass {
    const override = this.overrides.find((rule) => rule.glob.matches(segments));
    if (override) return override.class;
    const declared = this.declared.find(
      (rule) => rule.glob.matches(segments) && !isProbeErrorPath(segments, rule.probe),
    );
    if (declared) return declared.class;
    return this.defaults.find((rule) => rule.glob.matches(segments))?.class ?? 'behavior';
  }
}
