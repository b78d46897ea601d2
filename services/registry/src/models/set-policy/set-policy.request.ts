import type { FromSchema } from '@mlops/http';

const ALIAS = { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' } as const;
const METRIC = { type: 'string', pattern: '^[a-z][a-z0-9_]{0,62}$' } as const;

const POLICY = {
  type: 'object',
  additionalProperties: false,
  required: ['metric', 'higherIsBetter'],
  properties: {
    alias: { ...ALIAS, description: 'alias the gate moves; default production' },
    metric: METRIC,
    higherIsBetter: { type: 'boolean' },
    floor: { type: ['number', 'null'], description: 'the candidate must be at least this good; null: none' },
    minAbsoluteImprovement: { type: 'number', minimum: 0, description: 'default 0' },
    minRelativeImprovement: { type: 'number', minimum: 0, description: 'share of |baseline|; default 0' },
    maxSliceGap: { type: ['number', 'null'], minimum: 0, description: 'null: not checked (default)' },
    mode: { enum: ['automatic', 'approval'], description: 'default automatic' },
    autoRollback: { type: 'boolean', description: 'roll back on model.degraded; default true' },
  },
} as const;

/** PUT /models/:name/policy: the whole promotion policy. */
export const setPolicyRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['policy', 'reason'],
  properties: {
    reason: { type: 'string', minLength: 1, maxLength: 2000, description: 'why the policy changes (audit log)' },
    policy: POLICY,
  },
} as const;

export type SetPolicyRequest = FromSchema<typeof setPolicyRequest>;

/** PATCH /models/:name: what people say about a model. */
export const updateModelRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['reason'],
  minProperties: 2,
  properties: {
    reason: { type: 'string', minLength: 1, maxLength: 2000 },
    description: { type: 'string', maxLength: 4000 },
    owner: { type: 'string', minLength: 1, maxLength: 200 },
    tags: {
      type: 'object',
      patternProperties: { '^[A-Za-z0-9_.:/-]{1,128}$': { type: 'string', maxLength: 1024 } },
      additionalProperties: false,
    },
  },
} as const;

export type UpdateModelRequest = FromSchema<typeof updateModelRequest>;

/**
 * PUT /models/:name: register a model before its first version (MLflow's create_registered_model), with its task
 * and, when given, its promotion policy, so the gate of version 1 already applies it.
 */
export const createModelRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['reason', 'task'],
  properties: {
    reason: { type: 'string', minLength: 1, maxLength: 2000 },
    task: { enum: ['binary_classification', 'regression'] },
    description: { type: 'string', maxLength: 4000 },
    owner: { type: 'string', minLength: 1, maxLength: 200 },
    tags: updateModelRequest.properties.tags,
    policy: POLICY,
  },
} as const;

export type CreateModelRequest = FromSchema<typeof createModelRequest>;
