export * from './fact-store.js';
export * from './migrations.js';
export * from './report-paths.js';
export * from './sqlite-fact-store.js';
