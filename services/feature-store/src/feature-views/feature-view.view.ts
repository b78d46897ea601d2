import type { FromSchema } from '@mlops/http';
import type { StoredFeatureView } from '../infrastructure/catalog-store';
import { createFeatureViewRequest } from './create-feature-view/create-feature-view.request';

/** A stored definition: the request's, with the version the feature store gave it. */
export const featureViewDefinitionSchema = {
  ...createFeatureViewRequest,
  required: [...createFeatureViewRequest.required, 'version'],
  properties: { ...createFeatureViewRequest.properties, version: { type: 'integer', minimum: 1 } },
} as const;

const backfillSchema = {
  type: 'object',
  description: 'progress of the replay of the dataset history into this version',
  required: ['startedAt', 'records', 'rows', 'entities'],
  additionalProperties: false,
  properties: {
    startedAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: 'string', format: 'date-time' },
    records: { type: 'integer', description: 'source records replayed' },
    rows: { type: 'integer', description: 'offline feature rows written' },
    entities: { type: 'integer', description: 'entities with a state' },
    upTo: { type: 'string', format: 'date-time', description: 'arrival time of the newest record replayed' },
    lastError: { type: 'string' },
  },
} as const;

/** One feature view version in HTTP answers. */
export const featureViewVersionResponse = {
  type: 'object',
  required: ['name', 'version', 'dataset', 'datasetVersion', 'definition', 'createdAt', 'status'],
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    version: { type: 'integer' },
    dataset: { type: 'string' },
    datasetVersion: { type: 'integer', description: 'the dataset registration the version was validated against' },
    definition: featureViewDefinitionSchema,
    createdAt: { type: 'string', format: 'date-time' },
    status: {
      enum: ['backfilling', 'ready'],
      description: "'backfilling' until its history is replayed, then 'ready' (materialized and served)",
    },
    backfill: backfillSchema,
  },
} as const;

export type FeatureViewVersionResponse = FromSchema<typeof featureViewVersionResponse>;

/** The JSON of one feature view version in HTTP answers. */
export function featureViewVersionView(view: StoredFeatureView): FeatureViewVersionResponse {
  return {
    name: view.name,
    version: view.version,
    dataset: view.dataset,
    datasetVersion: view.datasetVersion,
    definition: view.definition,
    createdAt: view.createdAt.toISOString(),
    status: view.status,
    ...(view.backfill ? { backfill: view.backfill } : {}),
  };
}
