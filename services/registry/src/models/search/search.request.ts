import type { FromSchema } from '@mlops/http';
import { ALIAS_NAME } from '../params';

const LIMIT = { type: 'string', pattern: '^[1-9][0-9]{0,3}$', description: 'at most this many (default 100)' } as const;
const TAG = { type: 'string', minLength: 1, maxLength: 300, description: 'key or key:value' } as const;
const NUMBER = { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]+)?$' } as const;

/** GET /models */
export const listModelsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 63, description: 'part of the name' },
    tag: TAG,
    alias: { ...ALIAS_NAME, description: 'models that have this alias' },
    limit: LIMIT,
  },
} as const;
export type ListModelsQuery = FromSchema<typeof listModelsQuery>;

/** GET /versions and GET /models/:name/versions */
export const listVersionsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    model: { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,62}$' },
    status: { enum: ['registered', 'pending_approval', 'rejected', 'promoted', 'bad'] },
    alias: { ...ALIAS_NAME, description: 'the version an alias points at' },
    tag: TAG,
    metric: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,62}$', description: 'versions that have this metric' },
    min: { ...NUMBER, description: 'metric at least this' },
    max: { ...NUMBER, description: 'metric at most this' },
    limit: LIMIT,
  },
} as const;
export type ListVersionsQuery = FromSchema<typeof listVersionsQuery>;

/** GET /models/:name/audit */
export const auditQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { limit: LIMIT },
} as const;
export type AuditQuery = FromSchema<typeof auditQuery>;
