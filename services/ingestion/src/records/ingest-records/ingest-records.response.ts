import type { FromSchema } from '@mlops/http';

const recordError = {
  type: 'object',
  required: ['kind', 'path', 'message'],
  additionalProperties: false,
  properties: {
    kind: { type: 'string' },
    path: { type: 'string', description: 'JSON Pointer into the record' },
    message: { type: 'string' },
  },
} as const;

const recordResult = {
  type: 'object',
  required: ['index', 'status'],
  additionalProperties: false,
  properties: {
    index: { type: 'integer', minimum: 0 },
    line: { type: 'integer', minimum: 1, description: 'NDJSON line' },
    recordId: { type: 'string' },
    entityId: { type: 'string' },
    status: { enum: ['accepted', 'rejected'] },
    duplicate: { const: true, description: 'the record id was accepted before: nothing was emitted again' },
    eventId: { type: 'string', description: 'id of the mlops.data.validated.v1 / rejected.v1 event' },
    errors: { type: 'array', items: recordError },
  },
} as const;

/** The answer to a batch of records (200: all accepted, 207: some rejected). */
export const ingestRecordsResponse = {
  type: 'object',
  required: ['dataset', 'datasetVersion', 'accepted', 'rejected', 'duplicates', 'results'],
  additionalProperties: false,
  properties: {
    dataset: { type: 'string' },
    datasetVersion: { type: 'integer', minimum: 1 },
    accepted: { type: 'integer', minimum: 0 },
    rejected: { type: 'integer', minimum: 0 },
    duplicates: { type: 'integer', minimum: 0 },
    results: { type: 'array', items: recordResult },
  },
} as const;
export type IngestRecordsResponse = FromSchema<typeof ingestRecordsResponse>;

/** 503: Kafka did not acknowledge, or the service cannot hash: nothing of the request counts. */
export const unavailableBody = {
  type: 'object',
  required: ['error', 'message', 'accepted'],
  additionalProperties: false,
  properties: {
    error: { enum: ['kafka_unavailable', 'hash_key_missing'] },
    message: { type: 'string' },
    accepted: { const: 0 },
  },
} as const;
