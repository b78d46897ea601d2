export * from './offline-tables';
export * from './offline-store';
export * from './point-in-time';
export * from './snapshot-format';
export * from './snapshot-builder';
export * from './training-set';
export * from './training-set-quality';
export * from './snapshot-parquet';
