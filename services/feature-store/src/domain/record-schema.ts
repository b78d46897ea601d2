import { type JsonObject, type JsonValue, type Scalar, isJsonObject } from './json';
import type { ValueType } from './expression';

/** The record JSON Schema of a dataset, as registered (mlops.dataset.registered.v1 `recordSchema`). */
export type RecordSchema = JsonObject;

/** The field schema at a dot path ("a.b" is property b of object property a), or undefined when the schema has no such field. */
export function fieldSchemaAt(schema: RecordSchema, path: string): JsonObject | undefined {
  let current: JsonValue = schema;
  for (const segment of path.split('.')) {
    if (!isJsonObject(current)) return undefined;
    const properties: JsonValue | undefined = current.properties;
    if (!isJsonObject(properties) || !Object.prototype.hasOwnProperty.call(properties, segment)) return undefined;
    current = properties[segment] as JsonValue;
  }
  return isJsonObject(current) ? current : current === true ? {} : undefined;
}

/** The scalar type a field schema admits: one of number/string/boolean, or "any" when it admits several or says nothing. */
export function fieldValueType(fieldSchema: JsonObject): ValueType {
  const types = new Set<string>();
  const declared = fieldSchema.type;
  if (typeof declared === 'string') types.add(declared);
  else if (Array.isArray(declared)) declared.forEach((t) => typeof t === 'string' && types.add(t));
  const enumerated = Array.isArray(fieldSchema.enum)
    ? fieldSchema.enum
    : 'const' in fieldSchema
      ? [fieldSchema.const as JsonValue]
      : undefined;
  if (types.size === 0 && enumerated) enumerated.forEach((v) => types.add(v === null ? 'null' : typeof v));
  const scalar = new Set([...types].filter((t) => t !== 'null').map((t) => (t === 'integer' ? 'number' : t)));
  if (scalar.size !== 1) return 'any';
  const only = [...scalar][0];
  return only === 'number' || only === 'string' || only === 'boolean' ? only : 'any';
}

/** The enum of a field, when it has one. */
export function fieldEnum(fieldSchema: JsonObject): readonly JsonValue[] | undefined {
  return Array.isArray(fieldSchema.enum) ? fieldSchema.enum : undefined;
}

/** The scalar at a dot path of a record; null when missing or not a scalar. */
export function valueAt(record: JsonObject, path: string): Scalar {
  let current: JsonValue | undefined = record;
  for (const segment of path.split('.')) {
    if (!isJsonObject(current)) return null;
    current = Object.prototype.hasOwnProperty.call(current, segment) ? current[segment] : undefined;
  }
  if (current === undefined || current === null) return null;
  return typeof current === 'object' ? null : current;
}
