import type { FromSchema } from '@mlops/http';

const FEATURE = { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$' } as const;
const METRIC_VALUES = {
  type: 'object',
  patternProperties: { '^[a-z][a-z0-9_]{0,62}$': { type: 'number' } },
  additionalProperties: false,
} as const;
const NAME = { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,62}$' } as const;

/**
 * The `X-Model-Metadata` header of `POST /models/:name/versions`: JSON describing the uploaded ONNX file. The
 * declared inputs follow the trainer's convention and stand for the feature view's features the model reads.
 */
export const uploadMetadata = {
  type: 'object',
  additionalProperties: false,
  required: ['task', 'featureView', 'signature'],
  properties: {
    task: { enum: ['binary_classification', 'regression'] },
    algorithm: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,62}$', description: 'default "external"' },
    description: { type: 'string', maxLength: 4000 },
    featureView: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'version'],
      properties: { name: NAME, version: { type: 'integer', minimum: 1 } },
    },
    signature: {
      type: 'object',
      additionalProperties: false,
      required: ['inputs', 'outputName'],
      properties: {
        inputs: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'dtype', 'features'],
            properties: {
              name: { type: 'string', minLength: 1, maxLength: 128 },
              dtype: { enum: ['float32', 'string'] },
              features: { type: 'array', minItems: 1, items: FEATURE },
            },
          },
        },
        outputName: { type: 'string', minLength: 1, maxLength: 128 },
      },
    },
    metrics: { ...METRIC_VALUES, description: 'holdout metrics measured where it was trained' },
    slices: {
      type: 'object',
      patternProperties: { '^[A-Za-z0-9_.:=-]{1,128}$': METRIC_VALUES },
      additionalProperties: false,
      description: 'metrics per slice',
    },
    params: {
      type: 'object',
      patternProperties: { '^[A-Za-z_][A-Za-z0-9_.]{0,127}$': { type: ['number', 'string', 'boolean'] } },
      additionalProperties: false,
    },
    tags: {
      type: 'object',
      patternProperties: { '^[A-Za-z0-9_.:/-]{1,128}$': { type: 'string', maxLength: 1024 } },
      additionalProperties: false,
    },
    trainingData: {
      type: 'object',
      additionalProperties: false,
      description: 'what it was trained on, as declared (lineage and model card)',
      properties: {
        datasets: { type: 'array', items: NAME },
        labels: {
          type: 'object',
          additionalProperties: false,
          required: ['dataset', 'field'],
          properties: { dataset: NAME, field: FEATURE },
        },
        window: {
          type: 'object',
          additionalProperties: false,
          required: ['start', 'end'],
          properties: { start: { type: 'string', format: 'date-time' }, end: { type: 'string', format: 'date-time' } },
        },
        rows: {
          type: 'object',
          additionalProperties: false,
          required: ['training', 'holdout'],
          properties: { training: { type: 'integer', minimum: 0 }, holdout: { type: 'integer', minimum: 0 } },
        },
        codeVersion: { type: 'string', maxLength: 100 },
      },
    },
  },
} as const;

export type UploadMetadata = FromSchema<typeof uploadMetadata>;
