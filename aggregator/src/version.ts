/**
 * This package's version, read from its package.json (the relative path is the same from src/ and
 * dist/), for the OpenAPI document and user agents; one place so they never disagree.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const AGGREGATOR_PACKAGE_VERSION: string = (require('../package.json') as { version: string }).version;
