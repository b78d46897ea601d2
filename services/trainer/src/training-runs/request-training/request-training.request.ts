import type { FromSchema } from '@mlops/http';

const NAME = { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,62}$' } as const;
const NUMERIC_PARAMS = [
  'l2',
  'iterations',
  'learning_rate',
  'max_depth',
  'max_leaves',
  'min_samples_leaf',
  'max_bins',
  'validation_fraction',
  'patience',
  'trees',
  'feature_fraction',
] as const;
const FIELD = { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$' } as const;

const DIMENSION = {
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['values'],
      properties: {
        values: { type: 'array', minItems: 1, maxItems: 100, items: { type: ['number', 'string', 'boolean'] } },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['min', 'max'],
      properties: {
        min: { type: 'number' },
        max: { type: 'number' },
        scale: { enum: ['linear', 'log'] },
        integer: { type: 'boolean' },
      },
    },
  ],
} as const;

/** `POST /training-runs`: what `mlops.training.requested.v1` carries, less who asked and when (the token and the clock say). */
export const requestTrainingRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['model', 'task', 'featureView', 'labels', 'trainingWindow'],
  properties: {
    trainingRunId: {
      type: 'string',
      format: 'uuid',
      description: 'chosen by the caller to make a retry safe; generated when absent',
    },
    model: NAME,
    task: { enum: ['binary_classification', 'regression'] },
    algorithm: { enum: ['logistic_regression', 'linear_regression', 'gradient_boosting', 'random_forest'] },
    featureView: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'version'],
      properties: { name: NAME, version: { type: 'integer', minimum: 1 } },
    },
    labels: {
      type: 'object',
      additionalProperties: false,
      required: ['dataset', 'field'],
      properties: { dataset: NAME, field: FIELD },
    },
    trainingWindow: {
      type: 'object',
      additionalProperties: false,
      required: ['start', 'end'],
      properties: { start: { type: 'string', format: 'date-time' }, end: { type: 'string', format: 'date-time' } },
    },
    holdoutFraction: { type: 'number', exclusiveMinimum: 0, maximum: 0.5 },
    params: {
      type: 'object',
      description: 'hyperparameters; what the algorithm does not use is ignored',
      additionalProperties: false,
      properties: {
        seed: { type: 'integer' },
        split: {
          enum: ['time', 'stratified', 'random'],
          description: 'how the holdout is chosen; time: the latest rows',
        },
        ...Object.fromEntries(NUMERIC_PARAMS.map((name) => [name, { type: 'number', minimum: 0 }])),
        early_stopping: { type: 'boolean' },
        bootstrap: { type: 'boolean' },
      },
    },
    search: {
      type: 'object',
      description: 'a hyperparameter search; its best configuration becomes the model (each trial is a child run)',
      additionalProperties: false,
      required: ['space'],
      properties: {
        strategy: { enum: ['grid', 'random', 'successive_halving'] },
        space: {
          type: 'object',
          minProperties: 1,
          description: 'per parameter of params: a list of values, or a numeric range',
          additionalProperties: false,
          properties: Object.fromEntries(
            [...NUMERIC_PARAMS, 'early_stopping', 'bootstrap', 'split'].map((name) => [name, DIMENSION]),
          ),
        },
        metric: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,62}$' },
        direction: { enum: ['maximize', 'minimize'] },
        maxTrials: { type: 'integer', minimum: 1, maximum: 200 },
        timeBudgetSeconds: { type: 'number', exclusiveMinimum: 0 },
        seed: { type: 'integer' },
        halvingFactor: { type: 'number', minimum: 2, maximum: 10 },
      },
    },
    sliceBy: { type: 'array', maxItems: 10, uniqueItems: true, items: FIELD },
    reason: {
      type: 'object',
      additionalProperties: false,
      required: ['trigger'],
      properties: {
        trigger: { enum: ['manual', 'schedule', 'drift', 'degradation', 'new_data'] },
        detail: { type: 'string', minLength: 1, maxLength: 2000 },
        causeEventId: { type: 'string', minLength: 1, maxLength: 256 },
      },
    },
  },
} as const;

export type RequestTrainingRequest = FromSchema<typeof requestTrainingRequest>;
