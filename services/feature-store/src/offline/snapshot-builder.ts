import type { ArtifactStore } from '@mlops/artifacts';
import type { DatasetSnapshotCreatedV1 } from '@mlops/contracts';
import type { ClickHouseClient } from '@mlops/storage';
import { type PointInTimeRequest, type PointInTimeRow, pointInTimeQuery } from './point-in-time';
import { SNAPSHOT_MEDIA_TYPE, type SnapshotColumn, encodeSnapshot } from './snapshot-format';

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

/** The snapshot.created event data for a request and the snapshot built for it. */
export function snapshotCreatedEvent(
  request: Pick<DatasetSnapshotCreatedV1, 'snapshotId' | 'trainingRunId' | 'featureView' | 'labels'>,
  snapshot: BuiltSnapshot,
  createdAt: Date,
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
    createdAt: createdAt.toISOString(),
  };
}
