import type { FromSchema } from '@mlops/http';
import { datasetNameParam } from '../../datasets/dataset-name.request';
import { SUPPORTED_MEDIA_TYPES } from '../../domain/records-body';

/** `POST /datasets/:name/records`. */
export const ingestRecordsParams = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name: datasetNameParam },
} as const;
export type IngestRecordsParams = FromSchema<typeof ingestRecordsParams>;

export const ingestRecordsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    version: {
      type: 'string',
      pattern: '^[1-9][0-9]{0,8}$',
      description: 'the dataset version to check against; the latest when absent',
    },
    knownAt: {
      enum: ['event-time'],
      description:
        'event-time: every record of this request was known at its event time (a history import), so training sets "as known" use it for labels after its event time; default: a record is known when it arrives',
    },
  },
} as const;
export type IngestRecordsQuery = FromSchema<typeof ingestRecordsQuery>;

const record = { type: 'object', description: 'a record, checked against the dataset record schema' } as const;
const envelope = {
  type: 'object',
  required: ['record'],
  additionalProperties: false,
  properties: {
    recordId: {
      type: 'string',
      minLength: 1,
      maxLength: 256,
      description: 'upstream id: a retry with it is idempotent',
    },
    knownAt: {
      type: 'string',
      format: 'date-time',
      description: 'when upstream knew the record, if before now (training sets "as known" count it from then)',
    },
    record,
  },
} as const;
const item = { anyOf: [envelope, record] } as const;

/**
 * The body is read raw (raw-body.middleware: NDJSON, our size limit) and parsed by domain/records-body, so that a
 * malformed line fails alone: these schemas document it, no pipe checks them.
 */
export const recordsBodyContent = Object.fromEntries(
  SUPPORTED_MEDIA_TYPES.map((type) => [
    type,
    type === 'application/json'
      ? { schema: { anyOf: [item, { type: 'array', items: item }] } }
      : { schema: { type: 'string', description: 'one record (or envelope) of JSON per line; blank lines ignored' } },
  ]),
);
