export * from './agent-gateway.js';
export * from './agent-session.js';
export * from './categories-needed.js';
export * from './close-reason.js';
export * from './token-bucket.js';
