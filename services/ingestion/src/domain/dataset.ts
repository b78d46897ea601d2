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
/** The JSON types a record field may have: records are flat. */
export const SCALAR_TYPES = ['null', 'boolean', 'number', 'integer', 'string'] as const;

/** Why a registration cannot become the next version: one reason of an incompatible schema. */
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
  return {
    kind: 'invalid_dataset',
    message: `dataset "${name}" cannot be registered: ${problems.join('; ')}`,
    details: { problems },
  };
}

/** A registration as requested, its shape already checked (the request schema): what the rules below judge. */
export interface DefinitionDraft {
  readonly role: DatasetRole;
  /** A flat object schema whose properties are scalar fields with valid names (the request schema says so). */
  readonly recordSchema: { readonly [keyword: string]: unknown };
  readonly entityKeyField: string;
  readonly eventTimeField: string;
  readonly labelField?: string;
  readonly sensitiveFields?: Readonly<Record<string, SensitiveTreatment>>;
  readonly description?: string;
  readonly owner?: string;
}

/**
 * The definition a draft registers, or every rule it breaks: the entity key (string or integer) and the event
 * time (string) are declared and required fields; role "labels" names its label field; sensitive fields are
 * declared and are never the entity key, event time or label.
 */
export function checkDefinition(name: string, draft: DefinitionDraft): Result<DatasetDefinition, InvalidDataset> {
  const problems: string[] = [];
  if (!DATASET_NAME.test(name)) problems.push(`dataset name "${name}" must match ${DATASET_NAME.source}`);
  const { role, entityKeyField, eventTimeField, labelField, sensitiveFields = {} } = draft;
  // A JSON document: it was parsed from a request or read back from the store.
  const recordSchema = draft.recordSchema as JsonObject;
  const properties = isJsonObject(recordSchema.properties) ? recordSchema.properties : {};
  const required = Array.isArray(recordSchema.required) ? recordSchema.required : [];
  const fieldRule = (label: string, field: string, mustBeRequired: boolean, allowed: readonly string[]): void => {
    const schema = properties[field];
    if (!isJsonObject(schema)) {
      problems.push(`${label} "${field}" is not a property of recordSchema`);
      return;
    }
    if (mustBeRequired && !required.includes(field))
      problems.push(`${label} "${field}" must be listed in recordSchema.required`);
    const types = declaredTypes(schema);
    if (types && [...types].some((t) => !allowed.includes(t)))
      problems.push(`${label} "${field}" may only be of type ${allowed.join(' or ')}`);
  };
  fieldRule('entityKeyField', entityKeyField, true, ['string', 'integer']);
  fieldRule('eventTimeField', eventTimeField, true, ['string']);
  if (labelField !== undefined) fieldRule('labelField', labelField, false, SCALAR_TYPES);
  else if (role === 'labels') problems.push('labelField is required for role "labels"');
  for (const field of Object.keys(sensitiveFields)) {
    if (!(field in properties)) problems.push(`sensitive field "${field}" is not a property of recordSchema`);
    else if ([entityKeyField, eventTimeField, labelField].includes(field))
      problems.push(`sensitive field "${field}" cannot be the entity key, event time or label field`);
  }
  if (problems.length > 0) return err(invalidDataset(name, problems));
  return ok({
    name,
    role,
    recordSchema,
    entityKeyField,
    eventTimeField,
    ...(labelField !== undefined ? { labelField } : {}),
    sensitiveFields: { ...sensitiveFields },
    ...(draft.description !== undefined ? { description: draft.description } : {}),
    ...(draft.owner !== undefined ? { owner: draft.owner } : {}),
  });
}

/** Whether a registration changes nothing in the latest version (re-registering is then a no-op). */
export function sameDefinition(a: DatasetDefinition, b: DatasetDefinition): boolean {
  const keys: (keyof DatasetDefinition)[] = [
    'role',
    'recordSchema',
    'entityKeyField',
    'eventTimeField',
    'labelField',
    'sensitiveFields',
    'description',
    'owner',
  ];
  return keys.every((key) => deepEqual(a[key], b[key]));
}

/**
 * Why `next` cannot become the next version of `previous`: its record schema must accept every record the
 * previous one accepted, and the identity of records (role, entity key, event time) cannot change.
 */
export function incompatibilities(previous: DatasetDefinition, next: DatasetDefinition): CompatViolation[] {
  // Only {path, rule, message}: dataPath and direction say nothing more for records.
  const violations: CompatViolation[] = compatibilityViolations(previous.recordSchema, next.recordSchema, {
    mode: 'backward',
  }).map(({ path, rule, message }) => ({ path, rule, message }));
  for (const key of ['role', 'entityKeyField', 'eventTimeField'] as const) {
    if (previous[key] !== next[key]) {
      violations.push({
        path: `#/${key}`,
        rule: `${key}-changed`,
        message: `${key} changed from "${previous[key]}" to "${next[key]}": consumers key and order records by it; register a new dataset instead`,
      });
    }
  }
  return violations;
}

/** A new version whose record schema would refuse records the previous one accepted. */
export interface IncompatibleSchema extends DomainError<'incompatible_schema'> {
  readonly details: { readonly previousVersion: number; readonly reasons: CompatViolation[] };
}

export function incompatibleSchema(
  name: string,
  previousVersion: number,
  reasons: CompatViolation[],
): IncompatibleSchema {
  return {
    kind: 'incompatible_schema',
    message: `the new record schema of "${name}" is not backward compatible with version ${previousVersion}; register a new dataset for an incompatible change`,
    details: { previousVersion, reasons },
  };
}

/** A dataset (or a version of it) that is not registered. */
export type UnknownDataset = DomainError<'unknown_dataset'>;

export function unknownDataset(name: string, version: number | undefined): UnknownDataset {
  const what =
    version === undefined ? `dataset "${name}" is not registered` : `dataset "${name}" has no version ${version}`;
  return { kind: 'unknown_dataset', message: what };
}
