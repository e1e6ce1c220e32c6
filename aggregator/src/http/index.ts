export * from './api-auth.js';
export * from './create-app.js';
export * from './error-handler.js';
export * from './hosts-routes.js';
export * from './parse-query.js';
