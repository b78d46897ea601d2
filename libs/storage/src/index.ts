export * from './clickhouse';
export * from './postgres';
export * from './nest';
