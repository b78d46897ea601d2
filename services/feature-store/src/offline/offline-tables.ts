import type { ClickHouseClient } from '@mlops/storage';

export const FEATURE_ROWS_TABLE = 'offline_feature_rows';
export const LABEL_ROWS_TABLE = 'offline_label_rows';
export const SOURCE_RECORDS_TABLE = 'offline_source_records';

/** One offline table: its DDL (under any name, for the migration), and the columns a migration copies. */
interface OfflineTable {
  readonly name: string;
  readonly columns: readonly string[];
  ddl(database: string, name: string): string;
}

/**
 * The offline store's ClickHouse tables. Times are DateTime64(3, 'UTC'): event_time is when the fact happened,
 * created_at when feature-store learned it; point-in-time joins need both to keep late and backfilled data out of
 * the past.
 *
 * Writes reach ClickHouse before the Postgres transaction that carries them commits (a failed ClickHouse insert must
 * roll that transaction back), so a commit that then fails leaves rows whose event is redelivered and written again.
 * Each table is therefore a ReplacingMergeTree whose sorting key identifies a row by the event it came from (the
 * same on every delivery: entity, event time and event id come from the event), with created_at as the version: of
 * a row written twice the later write survives, the one whose transaction committed. Merges remove the extra copy
 * in the background; every read dedupes with FINAL (the partition key is in the sorting key's columns, so copies
 * always share a partition).
 */
const TABLES: readonly OfflineTable[] = [
  {
    name: FEATURE_ROWS_TABLE,
    columns: [
      'view_name',
      'view_version',
      'entity_id',
      'event_time',
      'created_at',
      'features',
      'numeric_features',
      'source_event_id',
    ],
    ddl: (database, name) => `CREATE TABLE IF NOT EXISTS ${database}.${name} (
      view_name LowCardinality(String),
      view_version UInt32,
      entity_id String,
      event_time DateTime64(3, 'UTC'),
      created_at DateTime64(3, 'UTC'),
      features String COMMENT 'JSON object: feature name -> number | string | boolean | null',
      numeric_features Map(String, Float64) COMMENT 'the numeric (and boolean as 0/1) features, for SQL statistics',
      source_event_id String
    ) ENGINE = ReplacingMergeTree(created_at)
    PARTITION BY toYYYYMM(event_time)
    ORDER BY (view_name, view_version, entity_id, event_time, source_event_id)`,
  },
  {
    name: LABEL_ROWS_TABLE,
    columns: ['dataset', 'entity_id', 'event_time', 'created_at', 'record', 'source_event_id'],
    ddl: (database, name) => `CREATE TABLE IF NOT EXISTS ${database}.${name} (
      dataset LowCardinality(String),
      entity_id String,
      event_time DateTime64(3, 'UTC'),
      created_at DateTime64(3, 'UTC'),
      record String COMMENT 'the validated record of the labels dataset, a JSON object',
      source_event_id String
    ) ENGINE = ReplacingMergeTree(created_at)
    PARTITION BY toYYYYMM(event_time)
    ORDER BY (dataset, entity_id, event_time, source_event_id)`,
  },
  // Every validated record of a features dataset: a new view version is backfilled by replaying them in the order
  // they were processed (created_at, Kafka partition and offset), each row keeping the created_at of its record.
  {
    name: SOURCE_RECORDS_TABLE,
    columns: [
      'dataset',
      'entity_id',
      'event_time',
      'created_at',
      'known_at',
      'record_id',
      'record',
      'source_event_id',
      'source_partition',
      'source_offset',
    ],
    ddl: (database, name) => `CREATE TABLE IF NOT EXISTS ${database}.${name} (
      dataset LowCardinality(String),
      entity_id String,
      event_time DateTime64(3, 'UTC'),
      created_at DateTime64(3, 'UTC'),
      known_at DateTime64(3, 'UTC') DEFAULT created_at
        COMMENT 'when the record was known: min(knownAt of the record, created_at); training sets "as known" use it',
      record_id String COMMENT 'recordId when upstream gave one, else the source event id: the record counts once',
      record String COMMENT 'the validated record (sensitive fields already hashed or dropped by ingestion), a JSON object',
      source_event_id String,
      source_partition UInt32 COMMENT 'Kafka partition and offset of the validated event: with created_at, the order records were processed in',
      source_offset UInt64
    ) ENGINE = ReplacingMergeTree(created_at)
    PARTITION BY toYYYYMM(event_time)
    ORDER BY (dataset, entity_id, event_time, source_event_id)`,
  },
];

/** The DDL of the offline tables as they are now (what a new data directory gets). */
export function offlineTableDdl(database: string): string[] {
  assertDatabaseName(database);
  return TABLES.map((table) => table.ddl(database, table.name));
}

/**
 * Creates the offline tables, or migrates those an older version made: a plain MergeTree table (append-only, before
 * redeliveries were deduplicated) is copied into a new ReplacingMergeTree one, which then takes its place in one
 * atomic EXCHANGE. A migration cut short is redone from the start at the next boot: the old table stays in place
 * until the exchange.
 */
export async function createOfflineTables(clickhouse: ClickHouseClient, database: string): Promise<void> {
  assertDatabaseName(database);
  for (const table of TABLES) {
    const staging = `${table.name}__migrating`;
    await clickhouse.command({ query: `DROP TABLE IF EXISTS ${database}.${staging}` });
    const engine = await engineOf(clickhouse, database, table.name);
    if (engine === undefined || engine === 'ReplacingMergeTree') {
      await clickhouse.command({ query: table.ddl(database, table.name) });
      continue;
    }
    // Older source-record tables may lack known_at: their rows read created_at.
    if (table.name === SOURCE_RECORDS_TABLE)
      await clickhouse.command({
        query: `ALTER TABLE ${database}.${table.name} ADD COLUMN IF NOT EXISTS known_at DateTime64(3, 'UTC') DEFAULT created_at`,
      });
    const columns = table.columns.join(', ');
    await clickhouse.command({ query: table.ddl(database, staging) });
    await clickhouse.command({
      query: `INSERT INTO ${database}.${staging} (${columns}) SELECT ${columns} FROM ${database}.${table.name}`,
    });
    await clickhouse.command({ query: `EXCHANGE TABLES ${database}.${table.name} AND ${database}.${staging}` });
    await clickhouse.command({ query: `DROP TABLE ${database}.${staging}` });
  }
}

async function engineOf(clickhouse: ClickHouseClient, database: string, table: string): Promise<string | undefined> {
  const result = await clickhouse.query({
    query: 'SELECT engine FROM system.tables WHERE database = {database:String} AND name = {table:String}',
    query_params: { database, table },
    format: 'JSONEachRow',
  });
  const [row] = await result.json<{ engine: string }>();
  return row?.engine;
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
