export * from './clickhouse';
export * from './postgres';
export * from './sql';
export * from './advisory-lock';
export * from './nest';
