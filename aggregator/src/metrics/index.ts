export * from './aggregator-metrics.js';
