import type { FromSchema } from '@mlops/http';

export const MODEL_NAME = { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,62}$' } as const;
export const ALIAS_NAME = { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' } as const;
const VERSION_NUMBER = { type: 'string', pattern: '^[1-9][0-9]{0,8}$', description: 'version number' } as const;
export const REASON = { type: 'string', minLength: 1, maxLength: 2000, description: 'why (audit log, event)' } as const;

/** `/models/:name` */
export const modelParams = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: MODEL_NAME },
} as const;
export type ModelParams = FromSchema<typeof modelParams>;

/** `/models/:name/versions/:version` */
export const versionParams = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'version'],
  properties: { name: MODEL_NAME, version: VERSION_NUMBER },
} as const;
export type VersionParams = FromSchema<typeof versionParams>;

/** `/models/:name/aliases/:alias` */
export const aliasParams = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'alias'],
  properties: { name: MODEL_NAME, alias: ALIAS_NAME },
} as const;
export type AliasParams = FromSchema<typeof aliasParams>;

/** A body that only carries a reason. */
export const reasonRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['reason'],
  properties: { reason: REASON },
} as const;
export type ReasonRequest = FromSchema<typeof reasonRequest>;
