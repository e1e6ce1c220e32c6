import { createRequire } from 'node:module';

/**
 * Set by the bundler (`agent/scripts/bundle.mjs`, esbuild `define`): a bundle or single executable
 * has no package.json beside it. Undeclared when running from `dist/`, which `typeof` tolerates.
 */
declare const __ENVPARITY_AGENT_VERSION__: string | undefined;

function versionFromPackageJson(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

/** This package's version, reported in every fact document and in `hello`. */
export const AGENT_VERSION: string =
  typeof __ENVPARITY_AGENT_VERSION__ === 'string' ? __ENVPARITY_AGENT_VERSION__ : versionFromPackageJson();
