import Ajv2020 from 'ajv/dist/2020';
import type { AnySchemaObject, ErrorObject, KeywordDefinition, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { type EventData, type EventType, isKnownEventType, schemaOf } from './catalog';

/** One reason data does not match its schema. */
export interface ValidationIssue {
  /** JSON Pointer into the data ("" is the whole payload); for a missing or unknown property, the pointer to that property. */
  path: string;
  message: string;
  /** The JSON Schema keyword that failed, e.g. "required", "pattern", "enum". */
  keyword: string;
  params: Record<string, unknown>;
}

export type ValidationResult = { ok: true } | { ok: false; errors: ValidationIssue[] };

export interface ValidationOptions {
  /**
   * "reject" (default): properties the schema does not declare are errors where the schema is closed
   * (`additionalProperties: false`). Producers use this: nothing undeclared leaves a service.
   * "ignore": such properties are accepted and left in place (tolerant reader). Consumers use this, so that
   * an optional property added within the same major version does not dead-letter events at consumers that
   * still run the previous schema. Every other rule (types, required, enums, formats...) still applies.
   */
  unknownProperties?: 'reject' | 'ignore';
}

type Mode = NonNullable<ValidationOptions['unknownProperties']>;

/** Schema keywords of ours that ajv's strict mode must know about; they do not validate data. */
const HOUSE_KEYWORDS: readonly KeywordDefinition[] = [
  {
    keyword: 'x-invalid-examples',
    schemaType: 'array',
    metaSchema: {
      type: 'array',
      items: {
        type: 'object',
        required: ['description', 'value'],
        properties: {
          description: { type: 'string', minLength: 1 },
          value: true,
          expect: {
            type: 'object',
            required: ['path', 'keyword'],
            properties: { path: { type: 'string' }, keyword: { type: 'string', minLength: 1 } },
          },
        },
      },
    },
  },
  {
    keyword: 'x-partition-key',
    schemaType: 'array',
    metaSchema: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
  },
];

const validatorsByMode: Record<Mode, Map<EventType, ValidateFunction>> = { reject: new Map(), ignore: new Map() };
const ajvByMode: Partial<Record<Mode, Ajv2020>> = {};

function ajvFor(mode: Mode): Ajv2020 {
  let ajv = ajvByMode[mode];
  if (ajv === undefined) {
    // allowUnionTypes: nullable fields are written `type: ["integer", "null"]`; strictTypes stays on.
    ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    addFormats(ajv);
    for (const keyword of HOUSE_KEYWORDS) ajv.addKeyword(keyword);
    ajvByMode[mode] = ajv;
  }
  return ajv;
}

/** Compiled once per event type and mode, on first use. */
function validatorOf(type: EventType, mode: Mode): ValidateFunction {
  const cache = validatorsByMode[mode];
  let validate = cache.get(type);
  if (validate === undefined) {
    const schema = (mode === 'reject' ? schemaOf(type) : openContentModel(schemaOf(type))) as AnySchemaObject;
    validate = ajvFor(mode).compile(schema);
    cache.set(type, validate);
  }
  return validate;
}

/**
 * Validates the `data` of an event against its schema and reports every issue, not just the first.
 * An unknown type (possible at run time, e.g. from a Kafka header) is reported as an issue, not thrown.
 */
export function validateEventData(type: EventType, data: unknown, options: ValidationOptions = {}): ValidationResult {
  if (!isKnownEventType(type)) {
    return {
      ok: false,
      errors: [{ path: '', message: `unknown event type "${String(type)}"`, keyword: 'eventType', params: { type } }],
    };
  }
  const validate = validatorOf(type, options.unknownProperties ?? 'reject');
  if (validate(data)) return { ok: true };
  return { ok: false, errors: (validate.errors ?? []).map(toIssue) };
}

/** Thrown by assertEventData; the message lists every issue. */
export class EventValidationError extends Error {
  override readonly name = 'EventValidationError';

  constructor(
    readonly type: string,
    readonly issues: readonly ValidationIssue[],
  ) {
    super(describeIssues(type, issues));
  }
}

/** Throws EventValidationError unless `data` is valid `data` for the event type. */
export function assertEventData<T extends EventType>(
  type: T,
  data: unknown,
  options?: ValidationOptions,
): asserts data is EventData<T> {
  const result = validateEventData(type, data, options);
  if (!result.ok) throw new EventValidationError(type, result.errors);
}

function describeIssues(type: string, issues: readonly ValidationIssue[]): string {
  const list = issues.map(
    (issue) => `${issue.path === '' ? '(root)' : issue.path} ${issue.message} [${issue.keyword}]`,
  );
  return `invalid data for ${type} (${issues.length} issue${issues.length === 1 ? '' : 's'}): ${list.join('; ')}`;
}

function toIssue(error: ErrorObject): ValidationIssue {
  const params: Record<string, unknown> = { ...error.params };
  let path = error.instancePath;
  let message = error.message ?? `must pass "${error.keyword}"`;
  if (error.keyword === 'required' && typeof params.missingProperty === 'string') {
    path = `${path}/${escapePointer(params.missingProperty)}`;
    message = 'is required';
  } else if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    path = `${path}/${escapePointer(params.additionalProperty)}`;
    message = 'is not a property the schema allows';
  } else if (error.propertyName !== undefined) {
    params.propertyName = error.propertyName;
    message = `has a property name "${error.propertyName}" that ${message}`;
  }
  return { path, message, keyword: error.keyword, params };
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

// Keywords whose value is a subschema, an array of subschemas, or a map of name -> subschema.
const SUBSCHEMA = [
  'additionalProperties',
  'items',
  'contains',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
  'unevaluatedItems',
  'unevaluatedProperties',
];
const SUBSCHEMA_ARRAYS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const SUBSCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'dependentSchemas'];

/** A copy of the schema in which no object rejects undeclared properties (tolerant reader). */
function openContentModel(schema: unknown): unknown {
  if (typeof schema !== 'object' || schema === null) return schema;
  const copy: Record<string, unknown> = { ...(schema as Record<string, unknown>) };
  for (const key of ['additionalProperties', 'unevaluatedProperties']) {
    if (copy[key] === false) delete copy[key];
  }
  for (const key of SUBSCHEMA) if (key in copy) copy[key] = openContentModel(copy[key]);
  for (const key of SUBSCHEMA_ARRAYS) {
    const value = copy[key];
    if (Array.isArray(value)) copy[key] = value.map(openContentModel);
  }
  for (const key of SUBSCHEMA_MAPS) {
    const value = copy[key];
    if (typeof value === 'object' && value !== null) {
      copy[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, openContentModel(sub)]));
    }
  }
  return copy;
}
