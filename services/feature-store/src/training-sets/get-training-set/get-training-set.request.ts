import type { FromSchema } from '@mlops/http';

/** GET /training-sets/:id and GET /training-sets/:id/file */
export const trainingSetParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', format: 'uuid', description: 'the training set id' } },
} as const;
export type TrainingSetParams = FromSchema<typeof trainingSetParams>;

export const trainingSetFileQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    format: { enum: ['ndjson', 'parquet'], description: 'ndjson (default) or parquet' },
  },
} as const;
export type TrainingSetFileQuery = FromSchema<typeof trainingSetFileQuery>;
