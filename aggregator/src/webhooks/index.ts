export * from './dispatcher.js';
export * from './signature.js';
export * from './slack-text.js';
