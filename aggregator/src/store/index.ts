export * from './audit-log.js';
export * from './fact-store.js';
export * from './history-compaction.js';
export * from './migrations.js';
export * from './sqlite-fact-store.js';
export * from './store-integrity.js';
