import type { FromSchema } from '@mlops/http';

const parameters = {
  type: 'object',
  additionalProperties: false,
  patternProperties: { '^.{1,128}$': {} },
  description: 'free-form parameters (ignored)',
} as const;

export const modelParams = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,62}$' },
    version: { type: 'string', pattern: '^[1-9][0-9]{0,8}$' },
  },
} as const;

/** POST /v2/models/{name}[/versions/{version}]/infer: the Open Inference Protocol v2 request (KServe). */
export const inferBody = {
  type: 'object',
  required: ['inputs'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', maxLength: 128 },
    parameters,
    inputs: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['name', 'shape', 'datatype', 'data'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 128 },
          shape: { type: 'array', items: { type: 'integer' }, minItems: 1, maxItems: 8 },
          datatype: { type: 'string', minLength: 1, maxLength: 16 },
          parameters,
          data: { type: 'array' },
        },
      },
    },
    outputs: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name'],
        additionalProperties: false,
        properties: { name: { type: 'string', minLength: 1, maxLength: 128 }, parameters },
      },
    },
  },
} as const;

export type ModelParams = FromSchema<typeof modelParams>;
export type InferBody = FromSchema<typeof inferBody>;

const tensor = {
  type: 'object',
  required: ['name', 'shape', 'datatype'],
  properties: {
    name: { type: 'string' },
    datatype: { type: 'string' },
    shape: { type: 'array', items: { type: 'integer' } },
    data: { type: 'array' },
  },
} as const;

export const inferResponse = {
  type: 'object',
  required: ['model_name', 'model_version', 'outputs'],
  properties: {
    model_name: { type: 'string' },
    model_version: { type: 'string' },
    id: { type: 'string' },
    outputs: { type: 'array', items: tensor },
  },
} as const;

export const modelMetadataResponse = {
  type: 'object',
  required: ['name', 'versions', 'platform', 'inputs', 'outputs'],
  properties: {
    name: { type: 'string' },
    versions: { type: 'array', items: { type: 'string' } },
    platform: { type: 'string' },
    inputs: { type: 'array', items: tensor },
    outputs: { type: 'array', items: tensor },
  },
} as const;
