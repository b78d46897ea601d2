import type { FromSchema } from '@mlops/http';
import { FIELD_NAME, SCALAR_TYPES } from '../../domain/dataset';
import { datasetNameParam } from '../dataset-name.request';

/** `PUT /datasets/:name`. */
export const datasetNameParams = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name: datasetNameParam },
} as const;
export type DatasetNameParams = FromSchema<typeof datasetNameParams>;

/** `PUT /datasets/:name?acknowledgeProtectionChange=true`. */
export const registerDatasetQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    acknowledgeProtectionChange: {
      enum: ['true', 'false'],
      description:
        'true confirms a version that weakens the protection of sensitive fields (removes one, or turns drop into hash); admin only, audited',
    },
  },
} as const;
export type RegisterDatasetQuery = FromSchema<typeof registerDatasetQuery>;

const SCALAR_VALUE = { type: ['string', 'number', 'boolean', 'null'] } as const;

/** One field of a record: scalar type(s) declared with type, enum or const, and the keywords that narrow a scalar. */
const fieldSchema = {
  type: 'object',
  // unevaluatedProperties (not additionalProperties) so that the branches may name the key each requires.
  unevaluatedProperties: false,
  anyOf: [
    { required: ['type'], properties: { type: true } },
    { required: ['enum'], properties: { enum: true } },
    { required: ['const'], properties: { const: true } },
  ],
  properties: {
    type: {
      anyOf: [{ enum: SCALAR_TYPES }, { type: 'array', minItems: 1, uniqueItems: true, items: { enum: SCALAR_TYPES } }],
    },
    enum: { type: 'array', minItems: 1, items: SCALAR_VALUE },
    const: SCALAR_VALUE,
    format: { type: 'string' },
    pattern: { type: 'string' },
    minLength: { type: 'integer', minimum: 0 },
    maxLength: { type: 'integer', minimum: 0 },
    minimum: { type: 'number' },
    maximum: { type: 'number' },
    exclusiveMinimum: { type: 'number' },
    exclusiveMaximum: { type: 'number' },
    multipleOf: { type: 'number', exclusiveMinimum: 0 },
    title: { type: 'string' },
    description: { type: 'string' },
    $comment: { type: 'string' },
    deprecated: { type: 'boolean' },
    default: SCALAR_VALUE,
    examples: { type: 'array', items: SCALAR_VALUE },
  },
} as const;

/** The record schema: JSON Schema 2020-12 of a flat object whose fields are scalars with valid names. */
const recordSchema = {
  type: 'object',
  required: ['type', 'properties'],
  additionalProperties: false,
  properties: {
    $schema: { const: 'https://json-schema.org/draft/2020-12/schema' },
    $id: { type: 'string' },
    $comment: { type: 'string' },
    title: { type: 'string' },
    description: { type: 'string' },
    type: { const: 'object' },
    properties: {
      type: 'object',
      minProperties: 1,
      additionalProperties: false,
      patternProperties: { [FIELD_NAME.source]: fieldSchema },
    },
    required: { type: 'array', uniqueItems: true, items: { type: 'string' } },
    additionalProperties: { type: 'boolean', description: 'false refuses fields the schema does not declare' },
  },
} as const;

const fieldName = { type: 'string', pattern: FIELD_NAME.source } as const;

/** `PUT /datasets/:name`: the definition of a dataset (or of its next version). */
export const registerDatasetRequest = {
  type: 'object',
  required: ['role', 'recordSchema', 'entityKeyField', 'eventTimeField'],
  additionalProperties: false,
  properties: {
    role: { enum: ['features', 'labels'], description: 'features feed feature views; labels carry ground truth' },
    recordSchema,
    entityKeyField: { ...fieldName, description: 'the field holding the entity id (string or integer, required)' },
    eventTimeField: { ...fieldName, description: 'the field holding the event time (RFC 3339 string, required)' },
    labelField: { ...fieldName, description: 'the field holding the label; required for role "labels"' },
    sensitiveFields: {
      type: 'object',
      additionalProperties: false,
      patternProperties: { [FIELD_NAME.source]: { enum: ['hash', 'drop'] } },
      description: 'field name to "hash" (HMAC-SHA256) or "drop", applied before anything leaves the service',
    },
    description: { type: 'string', minLength: 1, maxLength: 2000 },
    owner: { type: 'string', minLength: 1, maxLength: 200 },
  },
} as const;
export type RegisterDatasetRequest = FromSchema<typeof registerDatasetRequest>;
