import type { FromSchema } from '@mlops/http';

/** A name a feature view can have: anything else (NUL, control characters, too long) is a 400, not a lookup. */
export const viewNameParam = {
  type: 'string',
  pattern: '^[a-z][a-z0-9_-]{0,62}$',
  description: 'the feature view',
} as const;

/** GET /feature-views/:name */
export const getFeatureViewParams = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name: viewNameParam },
} as const;

export type GetFeatureViewParams = FromSchema<typeof getFeatureViewParams>;
