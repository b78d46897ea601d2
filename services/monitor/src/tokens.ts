/** Names of the monitor service. */
export const SERVICE = 'monitor';
export const PG_SCHEMA = 'monitor';
/** The ClickHouse database of the monitor's tables. */
export const CLICKHOUSE_DATABASE = 'monitor';
