export * from './config.js';
export * from './errors.js';
export * from './facts.js';
export * from './glob.js';
export * from './paths.js';
