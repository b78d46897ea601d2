import type { ClickHouseClient } from '@mlops/storage';

export const FEATURE_ROWS_TABLE = 'offline_feature_rows';
export const LABEL_ROWS_TABLE = 'offline_label_rows';
export const SOURCE_RECORDS_TABLE = 'offline_source_records';

/**
 * The offline store's ClickHouse tables, append-only (plain MergeTree: history is the point).
 * Times are DateTime64(3, 'UTC'): event_time is when the fact happened, created_at when feature-store
 * learned it; point-in-time joins need both to keep late and backfilled data out of the past.
 */
export function offlineTableDdl(database: string): string[] {
  assertDatabaseName(database);
  return [
    `CREATE TABLE IF NOT EXISTS ${database}.${FEATURE_ROWS_TABLE} (
      view_name LowCardinality(String),
      view_version UInt32,
      entity_id String,
      event_time DateTime64(3, 'UTC'),
      created_at DateTime64(3, 'UTC'),
      features String COMMENT 'JSON object: feature name -> number | string | boolean | null',
      numeric_features Map(String, Float64) COMMENT 'the numeric (and boolean as 0/1) features, for SQL statistics',
      source_event_id String
    ) ENGINE = MergeTree
    PARTITION BY toYYYYMM(event_time)
    ORDER BY (view_name, view_version, entity_id, event_time, created_at)`,
    `CREATE TABLE IF NOT EXISTS ${database}.${LABEL_ROWS_TABLE} (
      dataset LowCardinality(String),
      entity_id String,
      event_time DateTime64(3, 'UTC'),
      created_at DateTime64(3, 'UTC'),
      record String COMMENT 'the validated record of the labels dataset, a JSON object',
      source_event_id String
    ) ENGINE = MergeTree
    PARTITION BY toYYYYMM(event_time)
    ORDER BY (dataset, entity_id, event_time, source_event_id)`,
    // Every validated record of a features dataset, in arrival order: a new view version is backfilled by
    // replaying them, each row keeping the created_at of its record (the time its data was known).
    `CREATE TABLE IF NOT EXISTS ${database}.${SOURCE_RECORDS_TABLE} (
      dataset LowCardinality(String),
      entity_id String,
      event_time DateTime64(3, 'UTC'),
      created_at DateTime64(3, 'UTC'),
      record_id String COMMENT 'recordId when upstream gave one, else the source event id: the record counts once',
      record String COMMENT 'the validated record (sensitive fields already hashed or dropped by ingestion), a JSON object',
      source_event_id String,
      source_partition UInt32 COMMENT 'Kafka partition and offset of the validated event: with created_at, the order records were processed in',
      source_offset UInt64
    ) ENGINE = MergeTree
    PARTITION BY toYYYYMM(created_at)
    ORDER BY (dataset, created_at, source_partition, source_offset)`,
    // When the record's data was known: its arrival (created_at) unless upstream said earlier (knownAt, a history
    // import). Tables are created IF NOT EXISTS, so the column is added to older ones; their rows read created_at.
    `ALTER TABLE ${database}.${SOURCE_RECORDS_TABLE}
      ADD COLUMN IF NOT EXISTS known_at DateTime64(3, 'UTC') DEFAULT created_at
      COMMENT 'when the record was known: min(knownAt of the record, created_at); training sets "as known" use it'`,
  ];
}

export async function createOfflineTables(clickhouse: ClickHouseClient, database: string): Promise<void> {
  for (const query of offlineTableDdl(database)) await clickhouse.command({ query });
}

export function assertDatabaseName(database: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) throw new Error(`invalid ClickHouse database name "${database}"`);
}

/** 2025-03-10T00:00:00.000Z -> '2025-03-10 00:00:00.000' (read as UTC by DateTime64(3, 'UTC')). */
export function toClickHouseTime(time: Date | string): string {
  const date = typeof time === 'string' ? new Date(time) : time;
  if (Number.isNaN(date.getTime())) throw new Error(`invalid time "${String(time)}"`);
  return date.toISOString().replace('T', ' ').replace('Z', '');
}
