import type { FromSchema } from '@mlops/http';

/** GET /feature-views/:name */
export const getFeatureViewParams = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name: { type: 'string', description: 'the feature view' } },
} as const;

export type GetFeatureViewParams = FromSchema<typeof getFeatureViewParams>;
