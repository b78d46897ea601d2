import type { FromSchema } from '@mlops/http';
import { REASON } from '../params';

/** PUT /models/:name/aliases/:alias */
export const setAliasRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'reason'],
  properties: {
    version: { type: 'integer', minimum: 1 },
    reason: REASON,
    override: { type: 'boolean', description: 'promote a version marked bad anyway (default false)' },
  },
} as const;

export type SetAliasRequest = FromSchema<typeof setAliasRequest>;
