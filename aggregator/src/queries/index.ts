export * from './compare-sides.js';
export * from './environment-catalog.js';
export * from './fact-distribution.js';
export * from './fleet-commands.js';
export * from './fleet-queries.js';
