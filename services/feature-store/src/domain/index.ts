/**
 * The feature store's pure domain: feature view definitions and their validation, the expression language,
 * per-record feature computation and the per-entity windowed-aggregation state (see aggregation-state.ts for
 * the persistence contract). No framework, broker or database import belongs here.
 */
export * from './json';
export * from './duration';
export * from './expression';
export * from './record-schema';
export * from './feature-view';
export * from './feature-view-rules';
export * from './aggregation-state';
export * from './compute';
