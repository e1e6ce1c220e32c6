#!/usr/bin/env node
// `npm run bench:glob [-- --budget-ms 2000]`
//
// Glob matching worst cases (issue 10, requirement 7): the matcher in shared/dist/glob.js against
// the former one (RegExp per wild segment, recursive `**`; a copy is below), timed in the same
// invocation on the same inputs. Each case prints old and new time per match and their ratio.
// Target: each reported worst case under 1 ms per match with the new matcher (cases marked
// informational show the bound at MAX_GLOB_LENGTH and have no target). Pure CPU, no I/O.
// Needs a build (`npx tsc -b shared`). Last stdout line: one JSON object.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    // Time spent per (case, matcher): enough repetitions to fill it, at least one.
    'budget-ms': { type: 'string', default: '2000' },
  },
});
const budgetMs = Number(args['budget-ms']);
if (!existsSync(join(root, 'shared/dist/glob.js'))) {
  console.error('shared/dist/glob.js is missing: run `npx tsc -b shared` first');
  process.exit(2);
}
const { compilePathGlob, compileNameGlob, MAX_GLOB_LENGTH, MAX_GLOB_SEGMENTS } = await import(
  join(root, 'shared/dist/glob.js')
);
const { parsePath, formatPath } = await import(join(root, 'shared/dist/paths.js'));

// ----- the former matcher (before issue 10), verbatim apart from names -----
const legacyRegExps = new Map();
function legacyNameGlobToRegExp(glob, caseInsensitive = false) {
  const cacheKey = `${caseInsensitive ? 'i' : 's'}:${glob}`;
  let re = legacyRegExps.get(cacheKey);
  if (!re) {
    const source = glob
      .split('')
      .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
      .join('');
    re = new RegExp(`^${source}$`, caseInsensitive ? 'is' : 's');
    legacyRegExps.set(cacheKey, re);
  }
  return re;
}
function legacyQuotedSegmentFlags(glob) {
  const flags = [];
  let i = 0;
  while (i < glob.length) {
    if (glob[i] === '[') {
      flags.push(true);
      i += 2;
      while (i < glob.length && glob[i] !== '"') i += glob[i] === '\\' ? 2 : 1;
      i += 2;
    } else {
      flags.push(false);
      while (i < glob.length && glob[i] !== '.' && glob[i] !== '[') i++;
    }
    if (glob[i] === '.') i++;
  }
  return flags;
}
function legacyMatchSegments(matchers, mi, segments, si) {
  while (mi < matchers.length) {
    const matcher = matchers[mi];
    if (matcher.kind === 'any-depth') {
      for (let skip = si; skip <= segments.length; skip++) {
        if (legacyMatchSegments(matchers, mi + 1, segments, skip)) return true;
      }
      return false;
    }
    if (si >= segments.length) return false;
    const segment = segments[si];
    if (matcher.kind === 'literal' ? matcher.value !== segment : !matcher.re.test(segment)) return false;
    mi++;
    si++;
  }
  return si === segments.length;
}
function legacyCompilePathGlob(glob) {
  const segments = parsePath(glob, '*?');
  const quoted = legacyQuotedSegmentFlags(glob);
  const matchers = segments.map((segment, index) => {
    if (quoted[index]) return { kind: 'literal', value: segment };
    if (segment === '**') return { kind: 'any-depth' };
    if (/[*?]/.test(segment)) return { kind: 'wild', re: legacyNameGlobToRegExp(segment) };
    return { kind: 'literal', value: segment };
  });
  return {
    matches: (path) => legacyMatchSegments(matchers, 0, typeof path === 'string' ? parsePath(path) : path, 0),
  };
}

// ----- cases: each has inputs and the answer both matchers must give -----
const depth12 = Array.from({ length: 12 }, (_, i) => `s${i}`);
const comparePaths = [];
for (let i = 0; i < 200; i++) {
  comparePaths.push(formatPath(['config', 'file', `/etc/app${i}/config.yaml`, 'db', 'pool', 'size']));
  comparePaths.push(formatPath(['library', 'npm', `@scope/pkg-${i}`, 'version']));
  comparePaths.push(formatPath(['app', '/srv/app', 'npm', `dep${i}`, 'deps', 'a', 'b', 'c', 'version']));
}
const cases = [
  {
    name: 'name: ten `*a` against 30 `a` and a `b`',
    glob: '*a'.repeat(10),
    inputs: [`${'a'.repeat(30)}b`],
    expected: false,
    compileNew: (g) => compileNameGlob(g),
    compileOld: (g) => legacyNameGlobToRegExp(g),
    run: (m, input) => (m.matches ? m.matches(input) : m.test(input)),
  },
  {
    name: 'name: ten `*a`, secrets mode (case-insensitive), 30 `A` and a `b`',
    glob: '*a'.repeat(10),
    inputs: [`${'A'.repeat(30)}b`],
    expected: false,
    compileNew: (g) => compileNameGlob(g, true),
    compileOld: (g) => legacyNameGlobToRegExp(g, true),
    run: (m, input) => (m.matches ? m.matches(input) : m.test(input)),
  },
  {
    name: 'path: ten `*a` in one segment, 30 `a` and a `b`',
    glob: `config.env.${'*a'.repeat(10)}`,
    inputs: [`config.env.${'a'.repeat(30)}b`],
    expected: false,
  },
  {
    name: 'path: `**.*` x 8 then a literal, 12-segment path',
    glob: `${'**.*.'.repeat(8)}nope`,
    inputs: [depth12],
    expected: false,
  },
  {
    name: 'path: exception glob `**` x 10 then `x`, 600 compare paths (per path)',
    glob: `${'**.'.repeat(10)}x`,
    inputs: comparePaths,
    expected: false,
  },
  {
    name: 'path: exception glob `**.*.**.*.**.*.**.x`, 600 compare paths (per path)',
    glob: '**.*.**.*.**.*.**.x',
    inputs: comparePaths,
    expected: false,
  },
  {
    name: 'path: a long glob at the limits (64 segments of `*a*`), 64-segment path',
    glob: Array.from({ length: MAX_GLOB_SEGMENTS }, () => '*a*').join('.'),
    inputs: [Array.from({ length: MAX_GLOB_SEGMENTS }, (_, i) => (i === MAX_GLOB_SEGMENTS - 1 ? 'b' : 'xax'))],
    expected: false,
  },
  // Beyond the reported cases: adversarial globs at MAX_GLOB_LENGTH against a 10,000-unit name.
  // Informational (no 1 ms target): they show the bound, O(name) or O(name x run / 32).
  {
    name: `name at the cap: \`*\` + ${MAX_GLOB_LENGTH - 3} \`a\` + \`b*\` (literal run) against 10,000 \`a\``,
    glob: `*${'a'.repeat(MAX_GLOB_LENGTH - 3)}b*`, // exactly at the cap
    inputs: ['a'.repeat(10_000)],
    expected: false,
    target: false,
    compileNew: (g) => compileNameGlob(g),
    compileOld: (g) => legacyNameGlobToRegExp(g),
    run: (m, input) => (m.matches ? m.matches(input) : m.test(input)),
  },
  {
    name: `name at the cap: \`*\` + 510 \`a?\` + \`b*\` (a run with \`?\`) against 10,000 \`a\``,
    glob: `*${'a?'.repeat(510)}b*`,
    inputs: ['a'.repeat(10_000)],
    expected: false,
    target: false,
    compileNew: (g) => compileNameGlob(g),
    compileOld: (g) => legacyNameGlobToRegExp(g),
    run: (m, input) => (m.matches ? m.matches(input) : m.test(input)),
  },
  {
    name: `name at the cap: \`*b\` x 250 + \`a*\` x 250 (1,000 chars) against 5,000 \`b\``,
    glob: `${'*b'.repeat(250)}${'a*'.repeat(250)}`,
    inputs: ['b'.repeat(5000)],
    expected: false,
    target: false,
    compileNew: (g) => compileNameGlob(g),
    compileOld: null, // the RegExp form would not finish
    run: (m, input) => m.matches(input),
  },
];

/** Mean ms per match over as many rounds as fit in the budget (at least one), and the answer. */
function time(matcher, run, inputs) {
  let answer;
  let matches = 0;
  const started = performance.now();
  let elapsed = 0;
  do {
    for (const input of inputs) answer = run(matcher, input) || answer;
    matches += inputs.length;
    elapsed = performance.now() - started;
  } while (elapsed < budgetMs && matches < 1e7);
  return { msPerMatch: elapsed / matches, matches, answer: Boolean(answer) };
}

const results = [];
let ok = true;
for (const c of cases) {
  const run = c.run ?? ((m, input) => m.matches(input));
  const compileNew = c.compileNew ?? compilePathGlob;
  const compileOld = c.compileOld === undefined ? legacyCompilePathGlob : c.compileOld;
  const fresh = time(compileNew(c.glob), run, c.inputs);
  const old = compileOld ? time(compileOld(c.glob), run, c.inputs) : undefined;
  const agree = fresh.answer === c.expected && (!old || old.answer === c.expected);
  const under1ms = fresh.msPerMatch < 1;
  ok &&= agree && (under1ms || c.target === false);
  const ratio = old ? old.msPerMatch / fresh.msPerMatch : undefined;
  results.push({
    case: c.name,
    oldMsPerMatch: old ? Number(old.msPerMatch.toPrecision(4)) : null,
    newMsPerMatch: Number(fresh.msPerMatch.toPrecision(4)),
    oldMatches: old?.matches ?? 0,
    newMatches: fresh.matches,
    speedup: ratio ? Number(ratio.toPrecision(3)) : null,
    agree,
    under1ms,
    target: c.target !== false,
  });
  console.error(
    `${c.name}\n  old ${old ? `${old.msPerMatch.toPrecision(4)} ms/match (${old.matches} matches)` : 'not run'}` +
      `  new ${fresh.msPerMatch.toPrecision(4)} ms/match (${fresh.matches} matches)` +
      `${ratio ? `  old/new ${ratio.toPrecision(3)}x` : ''}  ${agree ? 'same answer' : 'WRONG ANSWER'}  ${under1ms ? '< 1 ms' : 'over 1 ms'}` +
      `${c.target === false ? ' (informational)' : ''}`,
  );
}
console.log(JSON.stringify({ node: process.version, budgetMs, ok, results }));
process.exitCode = ok ? 0 : 1;
