/** A dataset: a named, versioned record schema with its entity key, event time, role and sensitive fields. */
import { compatibilityViolations, declaredTypes, deepEqual } from '@mlops/contracts';
import { type DomainError, type Result, err, ok } from '@mlops/core';
import { type JsonObject, isJsonObject } from './json';

export type DatasetRole = 'features' | 'labels';
/** `hash`: replaced by HMAC-SHA256 under the service's secret key; `drop`: removed. */
export type SensitiveTreatment = 'hash' | 'drop';

export interface DatasetDefinition {
  readonly name: string;
  readonly role: DatasetRole;
  readonly recordSchema: JsonObject;
  readonly entityKeyField: string;
  readonly eventTimeField: string;
  readonly labelField?: string;
  readonly sensitiveFields: Readonly<Record<string, SensitiveTreatment>>;
  readonly description?: string;
  readonly owner?: string;
}

export interface DatasetVersion extends DatasetDefinition {
  readonly version: number;
  readonly registeredAt: Date;
}

export const DATASET_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
export const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const SCALAR_TYPES = new Set(['null', 'boolean', 'number', 'integer', 'string']);

/** Why a registration cannot become the next version: the `reasons` of a 409. */
export interface CompatViolation {
  /** JSON Pointer into the new definition (or the old one for removed parts), e.g. "#/properties/plan". */
  path: string;
  /** Stable rule id, e.g. "required-added", "enum-narrowed". */
  rule: string;
  message: string;
}

/** A definition that cannot be registered, with every problem found. */
export interface InvalidDataset extends DomainError<'invalid_dataset'> {
  readonly details: { readonly problems: string[] };
}

export function invalidDataset(name: string, problems: string[]): InvalidDataset {
  return { kind: 'invalid_dataset', message: `dataset "${name}" cannot be registered: ${problems.join('; ')}`, details: { problems } };
}

/**
 * Reads a registration request body into a definition, or lists every problem with it.
 * Rules: a flat object schema of scalar fields with valid names; the entity key and event time required
 * and not nullable; a label field for role "labels"; sensitive fields declared and never the key/time/label.
 */
export function parseDefinition(name: string, body: unknown): Result<DatasetDefinition, InvalidDataset> {
  const problems: string[] = [];
  if (!DATASET_NAME.test(name)) problems.push(`dataset name "${name}" must match ${DATASET_NAME.source}`);
  if (!isJsonObject(body)) return err(invalidDataset(name, [...problems, 'the body must be a JSON object']));
  const { role, recordSchema, entityKeyField, eventTimeField, labelField, sensitiveFields = {}, description, owner } = body;
  const known = new Set(['role', 'recordSchema', 'entityKeyField', 'eventTimeField', 'labelField', 'sensitiveFields', 'description', 'owner']);
  for (const key of Object.keys(body)) if (!known.has(key)) problems.push(`unknown property "${key}" (allowed: ${[...known].join(', ')})`);
  if (role !== 'features' && role !== 'labels') problems.push('role must be "features" or "labels"');
  if (description !== undefined && (typeof description !== 'string' || description.length < 1 || description.length > 2000)) problems.push('description must be a string of 1..2000 characters');
  if (owner !== undefined && (typeof owner !== 'string' || owner.length < 1 || owner.length > 200)) problems.push('owner must be a string of 1..200 characters');

  const properties = isJsonObject(recordSchema) && isJsonObject(recordSchema.properties) ? recordSchema.properties : undefined;
  const required = isJsonObject(recordSchema) && Array.isArray(recordSchema.required) ? recordSchema.required : [];
  if (!isJsonObject(recordSchema)) problems.push('recordSchema must be a JSON Schema object');
  else {
    if (recordSchema.$schema !== undefined && recordSchema.$schema !== 'https://json-schema.org/draft/2020-12/schema') {
      problems.push('recordSchema.$schema, when given, must be https://json-schema.org/draft/2020-12/schema');
    }
    if (recordSchema.type !== 'object') problems.push('recordSchema.type must be "object"');
    if (!properties || Object.keys(properties).length === 0) problems.push('recordSchema.properties must declare at least one field');
    for (const [field, schema] of Object.entries(properties ?? {})) {
      if (!FIELD_NAME.test(field)) problems.push(`field name "${field}" must match ${FIELD_NAME.source}`);
      const types = isJsonObject(schema) ? declaredTypes(schema) : undefined;
      if (!types || types.size === 0 || [...types].some((t) => !SCALAR_TYPES.has(t))) {
        problems.push(`field "${field}" must declare scalar type(s) (string, number, integer, boolean, null) with type, enum or const`);
      }
    }
  }
  const fieldRule = (label: string, field: unknown, mustBeRequired: boolean, allowed: string[]): field is string => {
    if (typeof field !== 'string' || !FIELD_NAME.test(field)) {
      problems.push(`${label} must be a field name`);
      return false;
    }
    const schema = properties?.[field];
    if (!isJsonObject(schema)) {
      problems.push(`${label} "${field}" is not a property of recordSchema`);
      return false;
    }
    if (mustBeRequired && !required.includes(field)) problems.push(`${label} "${field}" must be listed in recordSchema.required`);
    const types = declaredTypes(schema);
    if (types && [...types].some((t) => !allowed.includes(t))) problems.push(`${label} "${field}" may only be of type ${allowed.join(' or ')}`);
    return true;
  };
  if (properties) {
    fieldRule('entityKeyField', entityKeyField, true, ['string', 'integer']);
    fieldRule('eventTimeField', eventTimeField, true, ['string']);
    if (role === 'labels' || labelField !== undefined) fieldRule('labelField', labelField, false, [...SCALAR_TYPES]);
  }
  const sensitive: Record<string, SensitiveTreatment> = {};
  if (!isJsonObject(sensitiveFields)) problems.push('sensitiveFields must be an object of field name to "hash" or "drop"');
  else {
    for (const [field, treatment] of Object.entries(sensitiveFields)) {
      if (treatment !== 'hash' && treatment !== 'drop') problems.push(`sensitiveFields.${field} must be "hash" or "drop"`);
      else if (!properties || !(field in properties)) problems.push(`sensitive field "${field}" is not a property of recordSchema`);
      else if ([entityKeyField, eventTimeField, labelField].includes(field)) problems.push(`sensitive field "${field}" cannot be the entity key, event time or label field`);
      else sensitive[field] = treatment;
    }
  }
  if (problems.length > 0) return err(invalidDataset(name, problems));
  return ok({
    name,
    role: role as DatasetRole,
    recordSchema: recordSchema as JsonObject,
    entityKeyField: entityKeyField as string,
    eventTimeField: eventTimeField as string,
    ...(typeof labelField === 'string' ? { labelField } : {}),
    sensitiveFields: sensitive,
    ...(typeof description === 'string' ? { description } : {}),
    ...(typeof owner === 'string' ? { owner } : {}),
  });
}

/** Whether a registration changes nothing in the latest version (re-registering is then a no-op). */
export function sameDefinition(a: DatasetDefinition, b: DatasetDefinition): boolean {
  const keys: (keyof DatasetDefinition)[] = ['role', 'recordSchema', 'entityKeyField', 'eventTimeField', 'labelField', 'sensitiveFields', 'description', 'owner'];
  return keys.every((key) => deepEqual(a[key], b[key]));
}

/**
 * Why `next` cannot become the next version of `previous`: its record schema must accept every record the
 * previous one accepted, and the identity of records (role, entity key, event time) cannot change.
 */
export function incompatibilities(previous: DatasetDefinition, next: DatasetDefinition): CompatViolation[] {
  // Only what the 409 documents ({path, rule, message}); dataPath and direction say nothing more for records.
  const violations: CompatViolation[] = compatibilityViolations(previous.recordSchema, next.recordSchema, { mode: 'backward' })
    .map(({ path, rule, message }) => ({ path, rule, message }));
  for (const key of ['role', 'entityKeyField', 'eventTimeField'] as const) {
    if (previous[key] !== next[key]) {
      violations.push({ path: `#/${key}`, rule: `${key}-changed`, message: `${key} changed from "${previous[key]}" to "${next[key]}": consumers key and order records by it; register a new dataset instead` });
    }
  }
  return violations;
}

/** A new version whose record schema would refuse records the previous one accepted. */
export interface IncompatibleSchema extends DomainError<'incompatible_schema'> {
  readonly details: { readonly previousVersion: number; readonly reasons: CompatViolation[] };
}

export function incompatibleSchema(name: string, previousVersion: number, reasons: CompatViolation[]): IncompatibleSchema {
  return {
    kind: 'incompatible_schema',
    message: `the new record schema of "${name}" is not backward compatible with version ${previousVersion}; register a new dataset for an incompatible change`,
    details: { previousVersion, reasons },
  };
}

/** A dataset (or a version of it) that is not registered. */
export type UnknownDataset = DomainError<'unknown_dataset'>;

export function unknownDataset(name: string, version: number | undefined): UnknownDataset {
  const what = version === undefined ? `dataset "${name}" is not registered` : `dataset "${name}" has no version ${version}`;
  return { kind: 'unknown_dataset', message: what };
}
