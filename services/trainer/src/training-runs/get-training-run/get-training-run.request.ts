import type { FromSchema } from '@mlops/http';

/** GET /training-runs/:id */
export const getTrainingRunParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', format: 'uuid', description: 'the trainingRunId' } },
} as const;

export type GetTrainingRunParams = FromSchema<typeof getTrainingRunParams>;
