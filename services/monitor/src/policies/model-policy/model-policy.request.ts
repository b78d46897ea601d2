import type { FromSchema } from '@mlops/http';

export const modelParam = {
  type: 'object',
  required: ['model'],
  additionalProperties: false,
  properties: { model: { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,62}$', description: 'registered model name' } },
} as const;
export type ModelParam = FromSchema<typeof modelParam>;

const driftMetric = { enum: ['psi', 'jensen_shannon', 'ks', 'wasserstein', 'chi_squared'] } as const;
const positive = { type: 'number', exclusiveMinimum: 0 } as const;

/** PUT /models/:model/policy: any part left out keeps its default. */
export const policyBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    window: {
      oneOf: [
        {
          type: 'object',
          required: ['by', 'seconds'],
          additionalProperties: false,
          properties: { by: { const: 'time' }, seconds: { type: 'integer', minimum: 1 } },
        },
        {
          type: 'object',
          required: ['by', 'size'],
          additionalProperties: false,
          properties: { by: { const: 'count' }, size: { type: 'integer', minimum: 1 } },
        },
      ],
      description: 'tumbling windows by prediction time (seconds) or by count of predictions',
    },
    drift: {
      type: 'object',
      additionalProperties: false,
      properties: {
        psiWarning: positive,
        psiCritical: positive,
        jensenShannon: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
        wasserstein: positive,
        pValue: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
        datasetDriftShare: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
        numericMetrics: { type: 'array', items: driftMetric, uniqueItems: true },
        categoricalMetrics: { type: 'array', items: driftMetric, uniqueItems: true },
        minSampleSize: { type: 'integer', minimum: 1 },
      },
    },
    performance: {
      type: 'object',
      additionalProperties: false,
      properties: {
        metric: { enum: ['accuracy', 'precision', 'recall', 'f1', 'auc', 'rmse', 'mae'] },
        floor: { type: ['number', 'null'] },
        minLabeled: { type: 'integer', minimum: 1 },
        labelHorizonSeconds: { type: 'integer', minimum: 1 },
        windowSeconds: { type: ['integer', 'null'], minimum: 1 },
        labelRequestIdField: { type: ['string', 'null'], pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$' },
      },
    },
    training: {
      type: 'object',
      additionalProperties: false,
      properties: {
        driftWindows: { type: 'integer', minimum: 0 },
        onDegradation: { type: 'boolean' },
        scheduleSeconds: { type: ['integer', 'null'], minimum: 1 },
        minNewLabels: { type: ['integer', 'null'], minimum: 1 },
        cooldownSeconds: { type: 'integer', minimum: 0 },
        since: { enum: ['first_training', 'drift_start'] },
      },
    },
  },
} as const;
export type PolicyBody = FromSchema<typeof policyBody>;
