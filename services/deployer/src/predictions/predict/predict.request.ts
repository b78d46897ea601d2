import type { FromSchema } from '@mlops/http';

const FEATURE_NAME = '^[A-Za-z_][A-Za-z0-9_]{0,127}$';

/** Feature name to value: number or boolean (numeric features), string (categorical), null (unknown: imputed). */
export const featureMapSchema = {
  type: 'object',
  additionalProperties: false,
  patternProperties: { [FEATURE_NAME]: { type: ['number', 'string', 'boolean', 'null'] } },
  description: 'feature values; they override the online features of the entity',
} as const;

const entityIdSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 256,
  description: 'the entity whose online features are joined',
} as const;

export const predictParams = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name: { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,62}$', description: 'the model' } },
} as const;

/**
 * POST /models/:name/predict: one row (entityId and/or features) or a batch (instances), never both; the
 * controller checks that part (ajv's strict mode refuses `required` under `not`).
 */
export const predictBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    alias: {
      type: 'string',
      pattern: '^[a-z][a-z0-9-]{0,62}$',
      description: 'the alias to ask (default production, or the only alias served)',
    },
    version: { type: 'integer', minimum: 1, description: 'a version served behind any alias, instead of the alias' },
    explain: {
      type: 'boolean',
      description:
        "per-feature contributions to the margin (log-odds, the value, or a forest classifier's probability) that add up to it (additive: true) for linear models and tree ensembles",
    },
    explainMethod: {
      type: 'string',
      enum: ['tree_shap', 'saabas'],
      description:
        'for tree ensembles: exact path-dependent TreeSHAP (default) or Saabas; the answer names the method used',
    },
    entityId: entityIdSchema,
    features: featureMapSchema,
    instances: {
      type: 'array',
      minItems: 1,
      description: 'a batch: one answer per instance, in order',
      items: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        properties: { entityId: entityIdSchema, features: featureMapSchema },
      },
    },
  },
} as const;

export type PredictParams = FromSchema<typeof predictParams>;
type FeatureMap = Record<string, number | string | boolean | null>;
/** The body as the schema checked it (FromSchema cannot type patternProperties maps). */
export interface PredictBody {
  readonly alias?: string;
  readonly version?: number;
  readonly explain?: boolean;
  readonly explainMethod?: 'tree_shap' | 'saabas';
  readonly entityId?: string;
  readonly features?: FeatureMap;
  readonly instances?: readonly { readonly entityId?: string; readonly features?: FeatureMap }[];
}

const rowAnswer = {
  type: 'object',
  required: ['prediction', 'label', 'probabilities', 'missingFeatures'],
  properties: {
    entityId: { type: 'string' },
    prediction: { type: 'number', description: 'probability of the positive class, or the regression value' },
    label: { type: ['integer', 'null'], description: 'decided class of a binary model (score >= 0.5)' },
    probabilities: { type: ['array', 'null'], items: { type: 'number' }, description: 'per class' },
    missingFeatures: { type: 'array', items: { type: 'string' }, description: 'features without a value, imputed' },
    explanation: {
      type: 'object',
      description:
        'with explain: true. method (tree_shap, saabas, missing_baseline), output (log_odds, probability, value), baseline, margin, contributions per feature, additive',
    },
  },
} as const;

export const predictResponse = {
  type: 'object',
  required: ['model', 'alias', 'version', 'requestId'],
  properties: {
    model: { type: 'string' },
    alias: { type: 'string' },
    version: { type: 'integer' },
    requestId: { type: 'string' },
    ...rowAnswer.properties,
    predictions: { type: 'array', items: rowAnswer, description: 'a batch: one per instance' },
  },
} as const;
