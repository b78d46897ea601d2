import type { FromSchema } from '@mlops/http';

// The shape of a feature view definition; what must hold beyond it (names, fields of the dataset, durations,
// expressions) is the domain's validateFeatureView.

const featureName = { type: 'string', description: 'letters, digits or _, not starting with a digit' } as const;
const sourceField = { type: 'string', description: 'dot path of a field of the dataset records' } as const;
export const durationSchema = {
  type: ['string', 'number'],
  description: 'ISO-8601 (PT24H, P7D), shorthand (90s, 15m, 24h, 7d, 1w) or a number of seconds',
} as const;

const fieldFeature = {
  type: 'object',
  description: 'a source field as is, or cast',
  required: ['kind', 'name', 'field'],
  additionalProperties: false,
  properties: {
    kind: { const: 'field' },
    name: featureName,
    field: sourceField,
    cast: { enum: ['number', 'string', 'boolean'] },
  },
} as const;

const logFeature = {
  type: 'object',
  description: 'ln(x + offset), offset 1 by default',
  required: ['kind', 'name', 'field'],
  additionalProperties: false,
  properties: { kind: { const: 'log' }, name: featureName, field: sourceField, offset: { type: 'number' } },
} as const;

const bucketizeFeature = {
  type: 'object',
  description: 'the index of the bucket between strictly increasing boundaries',
  required: ['kind', 'name', 'field', 'boundaries'],
  additionalProperties: false,
  properties: {
    kind: { const: 'bucketize' },
    name: featureName,
    field: sourceField,
    boundaries: { type: 'array', items: { type: 'number' } },
  },
} as const;

const categoricalFeature = {
  type: 'object',
  description:
    'a fixed vocabulary as an index (outOfVocabularyIndex defaults to its length) or one 0/1 feature per category',
  required: ['kind', 'encoding', 'name', 'field', 'vocabulary'],
  additionalProperties: false,
  properties: {
    kind: { const: 'categorical' },
    encoding: { enum: ['index', 'one-hot'] },
    name: featureName,
    field: sourceField,
    vocabulary: { type: 'array', items: { type: 'string' } },
    outOfVocabularyIndex: { type: 'integer' },
  },
} as const;

const expressionFeature = {
  type: 'object',
  description: 'a value derived from features and source fields in the expression language',
  required: ['kind', 'name', 'expression'],
  additionalProperties: false,
  properties: { kind: { const: 'expression' }, name: featureName, expression: { type: 'string' } },
} as const;

const aggregateFeature = {
  type: 'object',
  description: 'count/sum/mean/min/max of a numeric field over a sliding window of event time, per entity',
  required: ['kind', 'name', 'field', 'function', 'window'],
  additionalProperties: false,
  properties: {
    kind: { const: 'aggregate' },
    name: featureName,
    field: sourceField,
    function: { enum: ['count', 'sum', 'mean', 'min', 'max'] },
    window: durationSchema,
  },
} as const;

export const featureSchema = {
  type: 'object',
  // The tag picks the branch, so a bad feature is reported against its own kind only.
  discriminator: { propertyName: 'kind' },
  oneOf: [fieldFeature, logFeature, bucketizeFeature, categoricalFeature, expressionFeature, aggregateFeature],
} as const;

/** Names are checked by the domain; NUL and control characters (which Postgres cannot hold) never reach it. */
const printableName = { type: 'string', maxLength: 256, pattern: '^[^\\x00-\\x1f\\x7f-\\x9f]*$' } as const;

export const featureViewSourceSchema = {
  type: 'object',
  required: ['dataset'],
  additionalProperties: false,
  properties: {
    dataset: { ...printableName, description: 'a registered dataset of role features' },
    entityKeyField: {
      type: 'string',
      description: "the dataset's; stated to catch a view written for another registration",
    },
    eventTimeField: { type: 'string', description: "the dataset's" },
  },
} as const;

/** POST /feature-views: a feature view definition; the feature store assigns its version. */
export const createFeatureViewRequest = {
  type: 'object',
  required: ['name', 'source', 'ttl', 'features'],
  additionalProperties: false,
  properties: {
    name: { ...printableName, description: "lowercase letters, digits, '_' or '-', starting with a letter" },
    source: featureViewSourceSchema,
    ttl: {
      ...durationSchema,
      description: `how long a value stays valid after its event time: ${durationSchema.description}`,
    },
    features: { type: 'array', items: featureSchema },
  },
} as const;

export type CreateFeatureViewRequest = FromSchema<typeof createFeatureViewRequest>;
