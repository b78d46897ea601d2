import type { ArtifactStore } from '@mlops/artifacts';
import type { ClickHouseClient } from '@mlops/storage';
import type { FeatureValue } from './offline-store';
import { FEATURE_ROWS_TABLE, assertDatabaseName, toClickHouseTime } from './offline-tables';
import { ENTITY_COLUMN, EVENT_TIME_COLUMN, SNAPSHOT_MEDIA_TYPE, SnapshotFormatError } from './snapshot-format';

/** A column of an export: the snapshot's columns without the label. */
export interface ExportColumn {
  name: string;
  type: 'number' | 'string' | 'boolean';
  role: 'entity' | 'event_time' | 'feature';
}

/** One stored feature vector: the offline row of one record, as computed at its event time. */
export interface ExportRow {
  readonly entity_id: string;
  readonly event_ms: string | number;
  /** JSON object: feature name -> value. */
  readonly features: string;
}

export interface RangeExportRequest {
  readonly view: { readonly name: string; readonly version: number };
  /** The view's output names: the feature columns, in this order. */
  readonly features: readonly string[];
  /** Event times: start inclusive, end exclusive (RFC 3339). */
  readonly timeRange: { readonly start: string; readonly end: string };
}

export interface BuiltExport {
  uri: string;
  sha256: string;
  sizeBytes: number;
  format: 'jsonl';
  rows: number;
  columns: ExportColumn[];
}

/**
 * The rows of a view version whose event time is in [start, end), from offline_feature_rows FINAL (one row per
 * source event, redeliveries collapsed): each is the vector the view computed when that record arrived, i.e. the
 * point-in-time vector at its event time. Sorted by entity, event time, source event: equal data, equal bytes.
 */
export function rangeExportQuery(
  database: string,
  request: RangeExportRequest,
): { query: string; query_params: Record<string, string | number> } {
  assertDatabaseName(database);
  return {
    query: `SELECT entity_id, toUnixTimestamp64Milli(event_time) AS event_ms, features
            FROM ${database}.${FEATURE_ROWS_TABLE} FINAL
            WHERE view_name = {view:String} AND view_version = {version:UInt32}
              AND event_time >= {start:DateTime64(3, 'UTC')} AND event_time < {end:DateTime64(3, 'UTC')}
            ORDER BY entity_id, event_time, source_event_id`,
    query_params: {
      view: request.view.name,
      version: request.view.version,
      start: toClickHouseTime(request.timeRange.start),
      end: toClickHouseTime(request.timeRange.end),
    },
  };
}

/**
 * The export file: the snapshot format ("jsonl", snapshot-format.ts) without a label column. One JSON object per
 * line: entity_id, event_time (RFC 3339 UTC with milliseconds), then the features in the given order (missing ones
 * null; a feature whose values mix types written as strings). No rows: 0 bytes.
 */
export function encodeExport(
  rows: readonly ExportRow[],
  featureNames: readonly string[],
): { columns: ExportColumn[]; rows: number; bytes: Buffer } {
  for (const name of featureNames)
    if (name === ENTITY_COLUMN || name === EVENT_TIME_COLUMN)
      throw new SnapshotFormatError(`feature "${name}" collides with the ${name} column`);
  const decoded = rows.map((row) => ({
    entityId: row.entity_id,
    eventTime: new Date(Number(row.event_ms)).toISOString(),
    features: JSON.parse(row.features) as Record<string, FeatureValue>,
  }));
  const types = featureNames.map((name) => typeOfValues(decoded.map((row) => row.features[name])));
  const columns: ExportColumn[] = [
    { name: ENTITY_COLUMN, type: 'string', role: 'entity' },
    { name: EVENT_TIME_COLUMN, type: 'string', role: 'event_time' },
    ...featureNames.map((name, i) => ({ name, type: types[i] ?? 'number', role: 'feature' as const })),
  ];
  const lines = decoded.map((row) => {
    const cells = [
      cell(ENTITY_COLUMN, row.entityId),
      cell(EVENT_TIME_COLUMN, row.eventTime),
      ...featureNames.map((name, i) => cell(name, coerce(row.features[name], types[i] ?? 'number'))),
    ];
    return `{${cells.join(',')}}\n`;
  });
  return { columns, rows: decoded.length, bytes: Buffer.from(lines.join(''), 'utf8') };
}

/** Writes the rows of a view version in an event-time range to the artifact store. */
export class RangeExporter {
  constructor(
    private readonly clickhouse: ClickHouseClient,
    private readonly artifacts: ArtifactStore,
    private readonly database: string,
  ) {}

  async export(request: RangeExportRequest): Promise<BuiltExport> {
    const { query, query_params } = rangeExportQuery(this.database, request);
    const result = await this.clickhouse.query({ query, query_params, format: 'JSONEachRow' });
    const encoded = encodeExport(await result.json<ExportRow>(), request.features);
    const stored = await this.artifacts.put(encoded.bytes, {
      mediaType: SNAPSHOT_MEDIA_TYPE,
      name: `${request.view.name}-v${request.view.version}-rows.jsonl`,
    });
    return {
      uri: stored.uri,
      sha256: stored.sha256,
      sizeBytes: stored.sizeBytes,
      format: 'jsonl',
      rows: encoded.rows,
      columns: encoded.columns,
    };
  }
}

function cell(name: string, value: unknown): string {
  return `${JSON.stringify(name)}:${JSON.stringify(value ?? null)}`;
}

/** number or boolean or string when every non-null value is; string when they mix; number when all are null. */
function typeOfValues(values: readonly unknown[]): ExportColumn['type'] {
  const kinds = new Set(values.filter((value) => value !== null && value !== undefined).map((value) => typeof value));
  if (kinds.size === 0) return 'number';
  const [only] = kinds;
  if (kinds.size === 1 && (only === 'number' || only === 'boolean' || only === 'string')) return only;
  return 'string';
}

function coerce(value: unknown, type: ExportColumn['type']): FeatureValue {
  if (value === null || value === undefined) return null;
  if (type === 'string' && typeof value !== 'string') return JSON.stringify(value);
  return value as FeatureValue;
}
