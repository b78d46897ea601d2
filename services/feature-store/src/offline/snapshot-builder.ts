import type { ArtifactStore } from '@mlops/artifacts';
import type { DatasetSnapshotCreatedV1 } from '@mlops/contracts';
import type { ClickHouseClient } from '@mlops/storage';
import { SOURCE_RECORDS_TABLE, toClickHouseTime } from './offline-tables';
import { type PointInTimeRequest, type PointInTimeRow, pointInTimeQuery } from './point-in-time';
import { SNAPSHOT_MEDIA_TYPE, type SnapshotColumn, encodeSnapshot } from './snapshot-format';
import { PARQUET_MEDIA_TYPE, encodeParquet } from './snapshot-parquet';
import {
  type KnownAtSemantics,
  type TrainingSetQueryRow,
  type TrainingSetRequest,
  trainingRowOf,
  trainingSetQuery,
} from './training-set';
import {
  type SourceDiagnostics,
  type TrainingSetQuality,
  emptinessWarning,
  trainingSetQuality,
} from './training-set-quality';

export interface SnapshotOptions {
  /** Feature columns in this order (e.g. from the feature view definition); default: every feature seen, sorted. */
  features?: readonly string[];
}

/** What buildSnapshot wrote: everything the snapshot.created event reports about the file. */
export interface BuiltSnapshot {
  uri: string;
  sha256: string;
  sizeBytes: number;
  format: 'jsonl';
  rows: number;
  columns: SnapshotColumn[];
  timeRange: { start: string; end: string };
}

/** An exact training set: the snapshot, the semantics it was built with, and its quality. */
export interface BuiltTrainingSet extends BuiltSnapshot {
  semantics: KnownAtSemantics;
  quality: TrainingSetQuality;
  /** The same rows as Parquet, in the artifact store too. */
  parquet: { uri: string; sha256: string; sizeBytes: number };
  /** The rows as written (parsed back), for other encodings of the same training set. */
  lines: Array<Record<string, unknown>>;
}

/**
 * Builds point-in-time training sets from the offline store into the artifact store.
 * Same request over the same data gives the same bytes, hence the same sha256 and uri.
 */
export class SnapshotBuilder {
  constructor(
    private readonly clickhouse: ClickHouseClient,
    private readonly artifacts: ArtifactStore,
    private readonly database: string,
  ) {}

  async buildSnapshot(request: PointInTimeRequest, options: SnapshotOptions = {}): Promise<BuiltSnapshot> {
    const { query, query_params } = pointInTimeQuery(this.database, request);
    const result = await this.clickhouse.query({ query, query_params, format: 'JSONEachRow' });
    const rows = await result.json<PointInTimeRow>();
    const encoded = encodeSnapshot(rows, request.labels.field, options.features);
    const stored = await this.artifacts.put(encoded.bytes, {
      mediaType: SNAPSHOT_MEDIA_TYPE,
      name: `${request.featureView.name}-v${request.featureView.version}-${request.labels.dataset}.jsonl`,
    });
    return {
      uri: stored.uri,
      sha256: stored.sha256,
      sizeBytes: stored.sizeBytes,
      format: 'jsonl',
      rows: encoded.rows,
      columns: encoded.columns,
      timeRange: { start: request.timeRange.start, end: request.timeRange.end },
    };
  }
}

/**
 * Exact training sets (training-set.ts): rows at each label time from the source records, under the request's
 * known-at semantics, with their quality. Same request over the same data gives the same bytes.
 */
export class TrainingSetBuilder {
  constructor(
    private readonly clickhouse: ClickHouseClient,
    private readonly artifacts: ArtifactStore,
    private readonly database: string,
  ) {}

  private materializedCte: Promise<boolean> | undefined;

  /** Whether the engine knows materialized CTEs (embedded chdb does; a ClickHouse 24.8 server does not). */
  private supportsMaterializedCte(): Promise<boolean> {
    this.materializedCte ??= this.clickhouse
      .query({
        query: "SELECT count() AS n FROM system.settings WHERE name = 'enable_materialized_cte'",
        format: 'JSONEachRow',
      })
      .then((result) => result.json<{ n: string | number }>())
      .then((rows) => Number(rows[0]?.n ?? 0) > 0)
      .catch((error: unknown) => {
        this.materializedCte = undefined;
        throw error;
      });
    return this.materializedCte;
  }

  async build(request: TrainingSetRequest): Promise<BuiltTrainingSet> {
    const { view } = request;
    const semantics = request.semantics ?? 'as-known';
    const compiled = trainingSetQuery(this.database, request, {
      materializedCte: await this.supportsMaterializedCte(),
    });
    const result = await this.clickhouse.query({
      query: compiled.query,
      query_params: compiled.query_params,
      format: 'JSONEachRow',
    });
    const rows = (await result.json<TrainingSetQueryRow>()).map((row) => trainingRowOf(view, compiled, row));
    const encoded = encodeSnapshot(rows, request.labels.field, view.outputNames);
    const lines = encoded.bytes
      .toString('utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const quality = trainingSetQuality(encoded.columns, lines);
    const latestLabelMs = rows.reduce<number | null>((max, row) => Math.max(max ?? 0, Number(row.label_time_ms)), null);
    const warning =
      quality.rows > 0 && quality.rowsWithFeatures * 2 < quality.rows
        ? emptinessWarning(
            quality,
            semantics,
            latestLabelMs,
            await this.diagnostics(view.source.dataset, request.timeRange.end),
            compiled.ttlMs,
          )
        : undefined;
    const stored = await this.artifacts.put(encoded.bytes, {
      mediaType: SNAPSHOT_MEDIA_TYPE,
      name: `${view.name}-v${view.version}-${request.labels.dataset}.jsonl`,
    });
    const parquet = await this.artifacts.put(await encodeParquet(encoded.columns, lines), {
      mediaType: PARQUET_MEDIA_TYPE,
      name: `${view.name}-v${view.version}-${request.labels.dataset}.parquet`,
    });
    return {
      uri: stored.uri,
      sha256: stored.sha256,
      sizeBytes: stored.sizeBytes,
      format: 'jsonl',
      rows: encoded.rows,
      columns: encoded.columns,
      timeRange: { start: request.timeRange.start, end: request.timeRange.end },
      semantics,
      quality: warning === undefined ? quality : { ...quality, warning },
      parquet: { uri: parquet.uri, sha256: parquet.sha256, sizeBytes: parquet.sizeBytes },
      lines,
    };
  }

  private async diagnostics(dataset: string, end: string): Promise<SourceDiagnostics> {
    const result = await this.clickhouse.query({
      query: `SELECT count() AS records, toUnixTimestamp64Milli(min(known_at)) AS earliest_known_ms
              FROM ${this.database}.${SOURCE_RECORDS_TABLE} FINAL
              WHERE dataset = {dataset:String} AND event_time < {end:DateTime64(3, 'UTC')}`,
      query_params: { dataset, end: toClickHouseTime(end) },
      format: 'JSONEachRow',
    });
    const [row] = await result.json<{ records: string | number; earliest_known_ms: string | number }>();
    const records = Number(row?.records ?? 0);
    return { dataset, records, earliestKnownMs: records === 0 ? null : Number(row?.earliest_known_ms) };
  }
}

/** The snapshot.created event data for a request and the snapshot built for it (with its quality when exact). */
export function snapshotCreatedEvent(
  request: Pick<DatasetSnapshotCreatedV1, 'snapshotId' | 'trainingRunId' | 'featureView' | 'labels'>,
  snapshot: BuiltSnapshot | BuiltTrainingSet,
  createdAt: Date,
  datasetVersions?: DatasetSnapshotCreatedV1['datasetVersions'],
): DatasetSnapshotCreatedV1 {
  return {
    snapshotId: request.snapshotId,
    trainingRunId: request.trainingRunId,
    featureView: { name: request.featureView.name, version: request.featureView.version },
    labels: { dataset: request.labels.dataset, field: request.labels.field },
    timeRange: snapshot.timeRange,
    uri: snapshot.uri,
    sha256: snapshot.sha256,
    format: snapshot.format,
    rows: snapshot.rows,
    sizeBytes: snapshot.sizeBytes,
    columns: snapshot.columns,
    ...('quality' in snapshot
      ? { parquet: snapshot.parquet, semantics: snapshot.semantics, quality: snapshot.quality }
      : {}),
    ...(datasetVersions ? { datasetVersions } : {}),
    createdAt: createdAt.toISOString(),
  };
}
