import type { FromSchema } from '@mlops/http';

const name = { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,62}$' } as const;

/** POST /training-sets: the fields of mlops.dataset.snapshot.requested.v1 a person chooses. */
export const createTrainingSetRequest = {
  type: 'object',
  required: ['id', 'featureView', 'labels', 'timeRange'],
  additionalProperties: false,
  properties: {
    id: {
      type: 'string',
      format: 'uuid',
      description: 'chosen by the caller: the same id again answers the training set built for its first request',
    },
    trainingRunId: { type: 'string', format: 'uuid', description: 'the training run it is for; default: the id' },
    featureView: {
      type: 'object',
      required: ['name', 'version'],
      additionalProperties: false,
      properties: { name, version: { type: 'integer', minimum: 1 } },
    },
    labels: {
      type: 'object',
      required: ['dataset', 'field'],
      additionalProperties: false,
      properties: {
        dataset: { ...name, description: 'a dataset registered with role "labels"' },
        field: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$', description: 'its label field' },
      },
    },
    timeRange: {
      type: 'object',
      required: ['start', 'end'],
      additionalProperties: false,
      description: 'label event times: start inclusive, end exclusive',
      properties: { start: { type: 'string', format: 'date-time' }, end: { type: 'string', format: 'date-time' } },
    },
    featureTtlSeconds: {
      type: 'integer',
      minimum: 1,
      description: "narrows the view's ttl for this training set (never widens it)",
    },
    semantics: {
      enum: ['as-known', 'event-time'],
      description:
        'as-known (default): a record counts for a label only if it was known at the label time (its arrival, or its earlier knownAt); event-time: by event time alone (Feast)',
    },
  },
} as const;
export type CreateTrainingSetRequest = FromSchema<typeof createTrainingSetRequest>;
