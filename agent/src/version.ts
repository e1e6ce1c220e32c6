import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** This package's version, reported in every fact document and in `hello`. */
export const AGENT_VERSION: string = (require('../package.json') as { version: string }).version;
