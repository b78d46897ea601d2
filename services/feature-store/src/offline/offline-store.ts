import type { ClickHouseClient } from '@mlops/storage';
import {
  FEATURE_ROWS_TABLE,
  LABEL_ROWS_TABLE,
  SOURCE_RECORDS_TABLE,
  assertDatabaseName,
  createOfflineTables,
  toClickHouseTime,
} from './offline-tables';

export type FeatureValue = number | string | boolean | null;

/** One computed feature vector of an entity, as of one event. */
export interface OfflineFeatureRow {
  viewName: string;
  viewVersion: number;
  entityId: string;
  /** When the underlying fact happened. */
  eventTime: Date | string;
  /** When feature-store computed and stored the row (processing time): the row is unknowable before it. */
  createdAt: Date | string;
  features: Record<string, FeatureValue>;
  /** The event the row was computed from (lineage; also the final tie-breaker). */
  sourceEventId: string;
}

/** One validated record of a labels dataset. */
export interface OfflineLabelRow {
  dataset: string;
  entityId: string;
  eventTime: Date | string;
  createdAt: Date | string;
  record: Record<string, unknown>;
  sourceEventId: string;
}

/** One validated record of a features dataset, kept to backfill the views created after it. */
export interface SourceRecordRow {
  dataset: string;
  entityId: string;
  eventTime: Date | string;
  /** When feature-store received it: the rows a backfill computes from it carry this created_at. */
  createdAt: Date | string;
  /** When upstream says the record was known (a history import); counts only when earlier than createdAt. */
  knownAt?: Date | string;
  recordId: string;
  record: Record<string, unknown>;
  sourceEventId: string;
  /** Where the validated event was read: records of one entity share a partition, processed in offset order. */
  sourcePartition: number;
  sourceOffset: string;
}

/** A source record read back, times in ms. */
export interface StoredSourceRecord {
  readonly entityId: string;
  readonly eventTimeMs: number;
  readonly createdAtMs: number;
  readonly recordId: string;
  readonly record: Record<string, unknown>;
  readonly sourceEventId: string;
}

/**
 * Writer of the offline feature and label history in ClickHouse. Rows are keyed by the event they came from: one
 * written again (a redelivery after a failed commit) replaces the earlier copy instead of adding a row.
 */
export class OfflineFeatureStore {
  constructor(
    private readonly clickhouse: ClickHouseClient,
    private readonly database: string,
  ) {
    assertDatabaseName(database);
  }

  createTables(): Promise<void> {
    return createOfflineTables(this.clickhouse, this.database);
  }

  async appendFeatureRows(rows: readonly OfflineFeatureRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.clickhouse.insert({
      table: `${this.database}.${FEATURE_ROWS_TABLE}`,
      format: 'JSONEachRow',
      values: rows.map((row) => {
        if (!row.entityId) throw new Error('feature row without entity id');
        if (!Number.isInteger(row.viewVersion) || row.viewVersion < 1)
          throw new Error(`invalid feature view version ${row.viewVersion}`);
        const numeric: Record<string, number> = {};
        for (const [name, value] of Object.entries(row.features)) {
          if (value !== null && !['number', 'string', 'boolean'].includes(typeof value))
            throw new Error(`feature ${name} is not a number, string, boolean or null`);
          if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`feature ${name} is not finite`);
          if (typeof value === 'number') numeric[name] = value;
          else if (typeof value === 'boolean') numeric[name] = value ? 1 : 0;
        }
        return {
          view_name: row.viewName,
          view_version: row.viewVersion,
          entity_id: row.entityId,
          event_time: toClickHouseTime(row.eventTime),
          created_at: toClickHouseTime(row.createdAt),
          features: JSON.stringify(row.features),
          numeric_features: numeric,
          source_event_id: row.sourceEventId,
        };
      }),
    });
  }

  async appendLabelRows(rows: readonly OfflineLabelRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.clickhouse.insert({
      table: `${this.database}.${LABEL_ROWS_TABLE}`,
      format: 'JSONEachRow',
      values: rows.map((row) => {
        if (!row.entityId) throw new Error('label row without entity id');
        return {
          dataset: row.dataset,
          entity_id: row.entityId,
          event_time: toClickHouseTime(row.eventTime),
          created_at: toClickHouseTime(row.createdAt),
          record: JSON.stringify(row.record),
          source_event_id: row.sourceEventId,
        };
      }),
    });
  }

  async appendSourceRecords(rows: readonly SourceRecordRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.clickhouse.insert({
      table: `${this.database}.${SOURCE_RECORDS_TABLE}`,
      format: 'JSONEachRow',
      values: rows.map((row) => ({
        dataset: row.dataset,
        entity_id: row.entityId,
        event_time: toClickHouseTime(row.eventTime),
        created_at: toClickHouseTime(row.createdAt),
        known_at: toClickHouseTime(knownAtOf(row)),
        record_id: row.recordId,
        record: JSON.stringify(row.record),
        source_event_id: row.sourceEventId,
        source_partition: row.sourcePartition,
        source_offset: row.sourceOffset,
      })),
    });
  }

  /**
   * The dataset's source records with createdAfter < created_at <= upTo (createdAfter null: from the first),
   * in the order they were processed (created_at, then Kafka partition and offset), streamed.
   */
  async *sourceRecords(dataset: string, createdAfter: Date | null, upTo: Date): AsyncGenerator<StoredSourceRecord> {
    const result = await this.clickhouse.query({
      query: `SELECT entity_id, toUnixTimestamp64Milli(event_time) AS event_ms, toUnixTimestamp64Milli(created_at) AS created_ms, record_id, record, source_event_id
              FROM ${this.database}.${SOURCE_RECORDS_TABLE} FINAL
              WHERE dataset = {dataset:String} AND created_at > {after:DateTime64(3, 'UTC')} AND created_at <= {upTo:DateTime64(3, 'UTC')}
              ORDER BY created_at, source_partition, source_offset`,
      query_params: { dataset, after: toClickHouseTime(createdAfter ?? new Date(0)), upTo: toClickHouseTime(upTo) },
      format: 'JSONEachRow',
    });
    for await (const rows of result.stream<{
      entity_id: string;
      event_ms: string | number;
      created_ms: string | number;
      record_id: string;
      record: string;
      source_event_id: string;
    }>()) {
      for (const row of rows) {
        const r = row.json();
        yield {
          entityId: r.entity_id,
          eventTimeMs: Number(r.event_ms),
          createdAtMs: Number(r.created_ms),
          recordId: r.record_id,
          record: JSON.parse(r.record) as Record<string, unknown>,
          sourceEventId: r.source_event_id,
        };
      }
    }
  }
}

/** A record is known at its arrival, or earlier when upstream says so; never later than its arrival. */
export function knownAtOf(row: Pick<SourceRecordRow, 'createdAt' | 'knownAt'>): Date {
  const created = new Date(row.createdAt);
  if (row.knownAt === undefined) return created;
  const known = new Date(row.knownAt);
  return Number.isNaN(known.getTime()) || known > created ? created : known;
}
