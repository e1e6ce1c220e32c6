#!/usr/bin/env node
// `node agent/scripts/bundle.mjs` (the last step of `npm run build`, after `tsc -b`): the whole agent
// as ONE ES module, agent/dist/envparity-agent.mjs, that runs with any Node >= 20 and no
// node_modules. Its entry is the workspace bin itself, over the same compiled dist/, so the two
// behave alike. package-agent.mjs reuses bundleAgent() for the single executable's CommonJS script.
import { readFile, stat } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { onDemandPackages } from './on-demand-packages.mjs';

export const AGENT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE_FILE = join(AGENT_DIR, 'dist', 'envparity-agent.mjs');
const ENTRY = join(AGENT_DIR, 'bin', 'envparity-agent.js');

// ws loads these native accelerators in a try/catch when they are installed: left out of the
// bundle, a missing one stays the optional dependency it is.
const OPTIONAL_NATIVE = ['bufferutil', 'utf-8-validate'];

/**
 * In the single executable, `require` loads builtins only and warns on anything else: the optional
 * natives become modules that throw as a missing module does, which ws catches, without a warning.
 */
const optionalNativesAbsent = {
  name: 'optional-natives-absent',
  setup(pluginBuild) {
    const filter = new RegExp(`^(${OPTIONAL_NATIVE.join('|')})$`);
    pluginBuild.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'optional-native-absent' }));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'optional-native-absent' }, (args) => ({
      contents: `throw Object.assign(new Error(${JSON.stringify(`Cannot find module '${args.path}'`)}), { code: 'MODULE_NOT_FOUND' });`,
      loader: 'js',
    }));
  },
};

// CommonJS dependencies bundled into an ES module still call `require` for node builtins and read
// `__filename`/`__dirname` (the yarn lockfile parser does, as it loads): given them, naming the
// bundle itself. (`define` below points the free identifiers at these names.)
const ESM_BANNER = [
  "import { createRequire as __envparityCreateRequire } from 'node:module';",
  "import { dirname as __envparityDirnameOf } from 'node:path';",
  "import { fileURLToPath as __envparityFileURLToPath } from 'node:url';",
  'const require = __envparityCreateRequire(import.meta.url);',
  'const __envparityFilename = __envparityFileURLToPath(import.meta.url);',
  'const __envparityDirname = __envparityDirnameOf(__envparityFilename);',
].join('\n');
const ESM_DEFINES = { __filename: '__envparityFilename', __dirname: '__envparityDirname' };
const CJS_BANNER = "var __envparityImportMetaUrl = require('node:url').pathToFileURL(__filename).href;";

/**
 * zod re-exports every locale it has (`z.locales`, ~300 KB of the bundle's code); the agent uses
 * none but English, which zod installs itself. The bundle's index of locales names English only.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[/\\]zod[/\\]v4[/\\]locales[/\\]index\.js$/ }, () => ({
      contents: 'export { default as en } from "./en.js";',
      loader: 'js',
    }));
  },
};

/**
 * Packages loaded on first use with `createRequire(import.meta.url)('<name>')` (the yarn v1
 * lockfile parser; the TOML, INI, dotenv and semver parsers in lazy-packages.js), which esbuild
 * cannot follow (and which would look for node_modules beside the bundle): rewritten to a plain
 * `require`, which esbuild bundles and still runs only when called. Fails the build if a file
 * known to load packages this way no longer does.
 */
const CREATE_REQUIRE_CALL = /createRequire\(import\.meta\.url\)\(('[^']+')\)/g;
const LAZY_REQUIRE_FILES = {
  'yarn-v1.js': ['@yarnpkg/lockfile'],
  'lazy-packages.js': ['dotenv', 'ini', 'semver', 'smol-toml'],
};
const bundleCreateRequireCalls = {
  name: 'bundle-create-require-calls',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[/\\](yarn-v1|lazy-packages)\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const file = args.path.split(/[/\\]/).pop();
      for (const name of LAZY_REQUIRE_FILES[file] ?? []) {
        const dynamic = `createRequire(import.meta.url)('${name}')`;
        if (!source.includes(dynamic)) {
          throw new Error(`${args.path} no longer loads ${name} through ${dynamic}: update bundle.mjs`);
        }
      }
      return { contents: source.replace(CREATE_REQUIRE_CALL, 'require($1)'), loader: 'js' };
    });
  },
};

export async function agentVersion() {
  return JSON.parse(await readFile(join(AGENT_DIR, 'package.json'), 'utf8')).version;
}

/**
 * Bundles the agent into `outfile`: `esm` for the one-file bundle (the service clients and
 * systeminformation in it compressed, compiled on first import: on-demand-packages.mjs), `cjs` for
 * the single executable (Node 20 runs an executable's script as CommonJS, with a `require` for
 * builtins only; V8's code cache there already spares it most of the parsing).
 */
export async function bundleAgent({ format = 'esm', outfile = BUNDLE_FILE } = {}) {
  const version = await agentVersion();
  await build({
    entryPoints: [ENTRY],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format,
    external: [
      ...(format === 'esm' ? OPTIONAL_NATIVE : []),
      ...builtinModules,
      ...builtinModules.map((name) => `node:${name}`),
    ],
    define: {
      __ENVPARITY_AGENT_VERSION__: JSON.stringify(version),
      ...(format === 'cjs' ? { 'import.meta.url': '__envparityImportMetaUrl' } : ESM_DEFINES),
    },
    plugins:
      format === 'esm'
        ? [
            bundleCreateRequireCalls,
            zodEnglishOnly,
            onDemandPackages({ resolveDir: AGENT_DIR, externalNatives: OPTIONAL_NATIVE }),
          ]
        : [bundleCreateRequireCalls, optionalNativesAbsent],
    banner: { js: format === 'esm' ? ESM_BANNER : CJS_BANNER },
    // Dead branches (the version read from package.json) dropped; names kept for stack traces.
    minifySyntax: true,
    minifyWhitespace: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  return { outfile, version, bytes: (await stat(outfile)).size };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { outfile, bytes } = await bundleAgent();
  console.log(`bundled ${outfile} (${Math.round(bytes / 1024)} KiB)`);
}
