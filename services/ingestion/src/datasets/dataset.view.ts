import type { FromSchema } from '@mlops/http';
import type { DatasetVersion } from '../domain/dataset';

const datasetProperties = {
  dataset: { type: 'string' },
  version: { type: 'integer', minimum: 1 },
  role: { enum: ['features', 'labels'] },
  recordSchema: { type: 'object', description: 'JSON Schema 2020-12 of the records' },
  entityKeyField: { type: 'string' },
  eventTimeField: { type: 'string' },
  labelField: { type: 'string' },
  sensitiveFields: { type: 'object', additionalProperties: { enum: ['hash', 'drop'] } },
  description: { type: 'string' },
  owner: { type: 'string' },
  registeredAt: { type: 'string', format: 'date-time' },
} as const;
const datasetRequired = [
  'dataset',
  'version',
  'role',
  'recordSchema',
  'entityKeyField',
  'eventTimeField',
  'sensitiveFields',
  'registeredAt',
] as const;

/** How a dataset version is shown over HTTP. */
export const datasetResponse = {
  type: 'object',
  required: datasetRequired,
  additionalProperties: false,
  properties: datasetProperties,
} as const;
export type DatasetResponse = FromSchema<typeof datasetResponse>;

export function datasetView(dataset: DatasetVersion): DatasetResponse {
  return {
    dataset: dataset.name,
    version: dataset.version,
    role: dataset.role,
    recordSchema: dataset.recordSchema,
    entityKeyField: dataset.entityKeyField,
    eventTimeField: dataset.eventTimeField,
    ...(dataset.labelField !== undefined ? { labelField: dataset.labelField } : {}),
    sensitiveFields: { ...dataset.sensitiveFields },
    ...(dataset.description !== undefined ? { description: dataset.description } : {}),
    ...(dataset.owner !== undefined ? { owner: dataset.owner } : {}),
    registeredAt: dataset.registeredAt.toISOString(),
  };
}

/** A registration's answer: the version, and `unchanged` when it was identical to the latest one (200, not 201). */
export const registrationResponse = {
  type: 'object',
  required: datasetRequired,
  additionalProperties: false,
  properties: { ...datasetProperties, unchanged: { const: true } },
} as const;
export type RegistrationResponse = FromSchema<typeof registrationResponse>;
