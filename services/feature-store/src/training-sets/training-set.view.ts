import type { DatasetSnapshotCreatedV1 } from '@mlops/contracts';
import type { FromSchema } from '@mlops/http';

const sha256 = { type: 'string', pattern: '^[a-f0-9]{64}$' } as const;
const qualitySchema = {
  type: 'object',
  required: ['rows', 'rowsWithFeatures', 'labelBalance', 'features'],
  additionalProperties: false,
  properties: {
    rows: { type: 'integer' },
    rowsWithFeatures: { type: 'integer', description: 'rows with at least one feature value' },
    labelBalance: {
      type: 'array',
      description: 'rows per label value (JSON text), most frequent first, at most 20 values',
      items: {
        type: 'object',
        required: ['label', 'rows'],
        additionalProperties: false,
        properties: { label: { type: 'string' }, rows: { type: 'integer' } },
      },
    },
    features: {
      type: 'array',
      description: 'per feature column, the share of rows with a value',
      items: {
        type: 'object',
        required: ['name', 'share'],
        additionalProperties: false,
        properties: { name: { type: 'string' }, share: { type: 'number' } },
      },
    },
    warning: { type: 'string', description: 'most rows have no feature: the likely cause' },
  },
} as const;

/** A training set's status: `pending` while its view version is being backfilled, then `ready` with its files. */
const datasetVersion = {
  type: 'object',
  required: ['dataset', 'version'],
  additionalProperties: false,
  properties: { dataset: { type: 'string' }, version: { type: 'integer' } },
} as const;

export const trainingSetResponse = {
  type: 'object',
  required: ['id', 'status'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', format: 'uuid' },
    status: { enum: ['pending', 'ready'] },
    featureView: {
      type: 'object',
      required: ['name', 'version'],
      additionalProperties: false,
      properties: { name: { type: 'string' }, version: { type: 'integer' } },
    },
    labels: {
      type: 'object',
      required: ['dataset', 'field'],
      additionalProperties: false,
      properties: { dataset: { type: 'string' }, field: { type: 'string' } },
    },
    timeRange: {
      type: 'object',
      required: ['start', 'end'],
      additionalProperties: false,
      properties: { start: { type: 'string' }, end: { type: 'string' } },
    },
    semantics: { enum: ['as-known', 'event-time'], description: 'the known-at semantics it was built with' },
    datasetVersions: {
      type: 'object',
      description: 'the record schema versions of its datasets when it was built (lineage)',
      required: ['features', 'labels'],
      additionalProperties: false,
      properties: { features: datasetVersion, labels: datasetVersion },
    },
    rows: { type: 'integer' },
    columns: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'type', 'role'],
        additionalProperties: false,
        properties: { name: { type: 'string' }, type: { type: 'string' }, role: { type: 'string' } },
      },
    },
    quality: qualitySchema,
    files: {
      type: 'object',
      description: 'download each with GET /training-sets/:id/file?format=ndjson|parquet',
      required: ['ndjson'],
      additionalProperties: false,
      properties: {
        ndjson: {
          type: 'object',
          required: ['uri', 'sha256', 'sizeBytes'],
          additionalProperties: false,
          properties: { uri: { type: 'string' }, sha256, sizeBytes: { type: 'integer' } },
        },
        parquet: {
          type: 'object',
          required: ['uri', 'sha256', 'sizeBytes'],
          additionalProperties: false,
          properties: { uri: { type: 'string' }, sha256, sizeBytes: { type: 'integer' } },
        },
      },
    },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;
export type TrainingSetResponse = FromSchema<typeof trainingSetResponse>;

/** The answer for a training set from its recorded snapshot.created data (undefined: still pending). */
export function trainingSetView(id: string, result: DatasetSnapshotCreatedV1 | undefined): TrainingSetResponse {
  if (!result) return { id, status: 'pending' };
  return {
    id,
    status: 'ready',
    featureView: result.featureView,
    labels: result.labels,
    timeRange: result.timeRange,
    ...(result.semantics !== undefined ? { semantics: result.semantics } : {}),
    ...(result.datasetVersions !== undefined ? { datasetVersions: result.datasetVersions } : {}),
    rows: result.rows,
    columns: result.columns,
    ...(result.quality !== undefined ? { quality: result.quality } : {}),
    files: {
      ndjson: { uri: result.uri, sha256: result.sha256, sizeBytes: result.sizeBytes },
      ...(result.parquet !== undefined ? { parquet: result.parquet } : {}),
    },
    createdAt: result.createdAt,
  };
}
