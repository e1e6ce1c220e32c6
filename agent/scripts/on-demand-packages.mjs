// Packages the one-file bundle carries compressed and compiles only when first imported: the
// clients of the service probes (mysql2 with its charset tables and AWS CA bundle, pg) and
// systeminformation (the collectors' fallback off Linux). They are 1.6 of the agent's 3.4 MB of
// code, and most hosts never load them; V8 parses a module whole before running any of it, and
// keeps its text for as long as the process lives. Kept out of the text that is parsed, they
// cost a bare `--version` and every cold `collect` no parsing, and the daemon no memory, until a
// host watches a MySQL or PostgreSQL service (or runs off Linux).
import { builtinModules } from 'node:module';
import { brotliCompressSync, constants as zlib } from 'node:zlib';
import { build } from 'esbuild';

export const ON_DEMAND_PACKAGES = ['mysql2', 'pg', 'systeminformation'];

const LOADER = 'envparity-on-demand-loader';

// Evaluates a package's CommonJS bundle once, with the bundle's own `require` (builtins, and the
// optional natives beside the file), under a file name that says which package a stack frame is in.
const LOADER_SOURCE = `
const { brotliDecompressSync } = require('node:zlib');
const { compileFunction } = require('node:vm');
const loaded = new Map();
module.exports = function loadOnDemand(name, packed) {
  if (!loaded.has(name)) {
    const script = brotliDecompressSync(Buffer.from(packed(), 'base64')).toString('utf8');
    const module = { exports: {} };
    const run = compileFunction(script, ['exports', 'require', 'module', '__filename', '__dirname'], {
      filename: __filename + '#' + name,
    });
    run(module.exports, require, module, __filename, __dirname);
    loaded.set(name, module.exports);
  }
  return loaded.get(name);
};
`;

/** One package and its dependencies as a CommonJS script, brotli-compressed, in base64. */
async function packPackage(name, resolveDir, externalNatives) {
  const result = await build({
    stdin: { contents: `module.exports = require(${JSON.stringify(name)});`, resolveDir, loader: 'js' },
    bundle: true,
    write: false,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: [...externalNatives, ...builtinModules, ...builtinModules.map((builtin) => `node:${builtin}`)],
    minifySyntax: true,
    minifyWhitespace: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const script = result.outputFiles[0].contents;
  return brotliCompressSync(script, {
    params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: script.length },
  }).toString('base64');
}

/**
 * esbuild plugin: each of ON_DEMAND_PACKAGES becomes a small module whose text holds the packed
 * package inside a function that only the first import calls (V8 compiles a function, and so
 * materializes the string in it, only when it runs).
 */
export function onDemandPackages({ resolveDir, externalNatives }) {
  const filter = new RegExp(`^(${ON_DEMAND_PACKAGES.join('|')})$`);
  return {
    name: 'on-demand-packages',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'on-demand' }));
      pluginBuild.onResolve({ filter: new RegExp(`^${LOADER}$`) }, (args) => ({
        path: args.path,
        namespace: 'on-demand',
      }));
      pluginBuild.onLoad({ filter: /.*/, namespace: 'on-demand' }, async (args) => {
        if (args.path === LOADER) return { contents: LOADER_SOURCE, loader: 'js' };
        const packed = await packPackage(args.path, resolveDir, externalNatives);
        return {
          contents: `module.exports = require(${JSON.stringify(LOADER)})(${JSON.stringify(args.path)}, () => ${JSON.stringify(packed)});`,
          loader: 'js',
          resolveDir,
        };
      });
    },
  };
}
