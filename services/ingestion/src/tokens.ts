/** DI tokens of the ingestion service. */
export const INGESTION_CONFIG = Symbol('INGESTION_CONFIG');
export const SOURCE = 'urn:mlops:ingestion';
export const PG_SCHEMA = 'ingestion';
export const SERVICE = 'ingestion';
