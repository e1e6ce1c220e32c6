export * from './agent.js';
export * from './aggregator.js';
export * from './processes.js';
export * from './sqlite.js';
export * from './wait-for.js';
