export * from './aggregator-metrics.js';
export * from './registry.js';
