import type { FromSchema } from '@mlops/http';
import { viewNameParam } from '../get-feature-view/get-feature-view.request';

/** GET /feature-views/:name/entities/:id */
export const getOnlineFeaturesParams = {
  type: 'object',
  required: ['name', 'id'],
  additionalProperties: false,
  properties: {
    name: viewNameParam,
    id: {
      type: 'string',
      minLength: 1,
      maxLength: 256,
      // No NUL or control characters: ingestion never accepts such an entity id, and Postgres cannot hold NUL.
      pattern: '^[^\\x00-\\x1f\\x7f-\\x9f]+$',
      description: 'the entity key',
    },
  },
} as const;

export const getOnlineFeaturesQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    version: {
      type: 'string',
      pattern: '^[1-9][0-9]{0,8}$',
      description: 'a view version (default: the serving version)',
    },
    asOf: {
      description: 'slide the windows to this time, not before the entity\'s newest record: "now" or an RFC 3339 time',
      anyOf: [{ const: 'now' }, { type: 'string', format: 'date-time' }],
    },
  },
} as const;

export type GetOnlineFeaturesParams = FromSchema<typeof getOnlineFeaturesParams>;
export type GetOnlineFeaturesQuery = FromSchema<typeof getOnlineFeaturesQuery>;
