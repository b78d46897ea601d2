import type { FromSchema } from '@mlops/http';

// What mlflow's RestStore sends (protobuf messages as JSON: only the fields set; GET: as query parameters, int64 and
// repeated fields as strings / repeated keys). Closed: a field we do not know is INVALID_PARAMETER_VALUE.
const STRING = { type: 'string', maxLength: 1000 } as const;
const NAME = { type: 'string', minLength: 1, maxLength: 256 } as const;
const VERSION = { type: ['string', 'integer'], description: 'version number (MLflow sends a string)' } as const;
const INT = { type: ['string', 'integer'] } as const;
const STRINGS = { anyOf: [STRING, { type: 'array', items: STRING, maxItems: 100 }] } as const;
const TAGS = {
  type: 'array',
  maxItems: 100,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['key'],
    properties: { key: STRING, value: { type: 'string', maxLength: 5000 } },
  },
} as const;

export const modelNameQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: NAME },
} as const;
export type ModelNameQuery = FromSchema<typeof modelNameQuery>;

export const searchQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { filter: { type: 'string', maxLength: 4000 }, max_results: INT, order_by: STRINGS, page_token: STRING },
} as const;
export type SearchQuery = FromSchema<typeof searchQuery>;

export const latestVersionsRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: NAME, stages: STRINGS },
} as const;
export type LatestVersionsRequest = FromSchema<typeof latestVersionsRequest>;

export const setModelTagBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'key', 'value'],
  properties: { name: NAME, key: STRING, value: { type: 'string', maxLength: 5000 } },
} as const;
export type SetModelTagBody = FromSchema<typeof setModelTagBody>;

export const deleteModelTagBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'key'],
  properties: { name: NAME, key: STRING },
} as const;
export type DeleteModelTagBody = FromSchema<typeof deleteModelTagBody>;

export const setAliasBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'alias', 'version'],
  properties: { name: NAME, alias: STRING, version: VERSION },
} as const;
export type SetAliasBody = FromSchema<typeof setAliasBody>;

export const aliasRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'alias'],
  properties: { name: NAME, alias: STRING },
} as const;
export type AliasRequest = FromSchema<typeof aliasRequest>;

export const versionQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'version'],
  properties: { name: NAME, version: VERSION },
} as const;
export type VersionQuery = FromSchema<typeof versionQuery>;

export const versionTagBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'version', 'key'],
  properties: { name: NAME, version: VERSION, key: STRING, value: { type: 'string', maxLength: 5000 } },
} as const;
export type VersionTagBody = FromSchema<typeof versionTagBody>;

export const createModelBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: NAME, tags: TAGS, description: { type: 'string', maxLength: 4000 }, deployment_job_id: STRING },
} as const;
export type CreateModelBody = FromSchema<typeof createModelBody>;

export const createVersionBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: NAME,
    source: STRING,
    run_id: STRING,
    tags: TAGS,
    run_link: STRING,
    description: { type: 'string', maxLength: 4000 },
    model_id: STRING,
  },
} as const;
export type CreateVersionBody = FromSchema<typeof createVersionBody>;
