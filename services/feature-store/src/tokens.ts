/** Names and DI tokens of the feature-store service. */
export const SERVICE = 'feature-store';
export const PG_SCHEMA = 'feature_store';
/** The ClickHouse database of the offline store. */
export const CLICKHOUSE_DATABASE = 'feature_store';
/** CloudEvents source of every event this service produces. */
export const SOURCE = 'urn:mlops:feature-store';

export const ARTIFACT_STORE = Symbol('ARTIFACT_STORE');
