import Ajv2020 from 'ajv/dist/2020';
import type { AnySchemaObject, ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { JsonSchema } from './schema';

/** One reason a request does not match its schema: a JSON Pointer into the request part, and what is wrong there. */
export interface RequestIssue {
  path: string;
  message: string;
}

export type RequestCheck<T> = { ok: true; value: T } | { ok: false; issues: RequestIssue[] };

/** A compiled request schema: checks a value and names every issue. */
export type RequestValidator<T> = (value: unknown) => RequestCheck<T>;

// Requests are checked as sent: no coercion of "1" to 1, no defaults filled in, every error reported;
// discriminator: a oneOf tagged by a property reports the errors of the tagged branch only.
const ajv = new Ajv2020({
  allErrors: true,
  strict: true,
  allowUnionTypes: true,
  coerceTypes: false,
  useDefaults: false,
  discriminator: true,
});
addFormats(ajv);
// Documentation-only keywords an OpenAPI schema may carry.
ajv.addVocabulary(['example', 'x-description']);

const compiled = new WeakMap<object, ValidateFunction>();

/** Thrown at compile time (so at startup) by a request schema ajv refuses or that leaves an object open. */
export class RequestSchemaError extends Error {
  override readonly name = 'RequestSchemaError';
}

/**
 * Compiles a request schema once (cached by identity). Every object it describes must be closed
 * (`additionalProperties: false`, or `unevaluatedProperties: false` on it or on the schema combining it), so an
 * unknown key is an error rather than silently ignored.
 */
export function requestValidator<T>(schema: JsonSchema, name = 'request schema'): RequestValidator<T> {
  if (typeof schema !== 'object') throw new RequestSchemaError(`${name}: a request schema must be an object schema`);
  let validate = compiled.get(schema);
  if (validate === undefined) {
    const open = openObjects(schema, '#', false);
    if (open.length > 0) {
      throw new RequestSchemaError(
        `${name}: every object must refuse unknown keys (additionalProperties: false or unevaluatedProperties: false); open at ${open.join(', ')}`,
      );
    }
    try {
      validate = ajv.compile(schema as AnySchemaObject);
    } catch (error) {
      throw new RequestSchemaError(`${name}: ${(error as Error).message}`);
    }
    compiled.set(schema, validate);
  }
  const check = validate;
  return (value) =>
    check(value) ? { ok: true, value: value as T } : { ok: false, issues: (check.errors ?? []).map(toIssue) };
}

function toIssue(error: ErrorObject): RequestIssue {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required' && typeof params.missingProperty === 'string') {
    return { path: `${error.instancePath}/${escapePointer(params.missingProperty)}`, message: 'is required' };
  }
  if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    return { path: `${error.instancePath}/${escapePointer(params.additionalProperty)}`, message: 'is not a known key' };
  }
  if (error.keyword === 'unevaluatedProperties' && typeof params.unevaluatedProperty === 'string') {
    return {
      path: `${error.instancePath}/${escapePointer(params.unevaluatedProperty)}`,
      message: 'is not a known key',
    };
  }
  if (error.keyword === 'enum' && Array.isArray(params.allowedValues)) {
    return {
      path: error.instancePath,
      message: `must be one of ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`,
    };
  }
  return { path: error.instancePath, message: error.message ?? `must pass "${error.keyword}"` };
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

const SUBSCHEMA = ['additionalProperties', 'items', 'contains', 'not', 'if', 'then', 'else', 'unevaluatedItems'];
const SUBSCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'dependentSchemas'];
const COMBINERS = ['allOf', 'anyOf', 'oneOf'];

function isClosed(schema: unknown): boolean {
  if (typeof schema !== 'object' || schema === null) return false;
  const node = schema as Record<string, unknown>;
  return node.additionalProperties === false || node.unevaluatedProperties === false;
}

/** JSON Pointers (into the schema) of the object schemas that accept keys they do not declare. */
function openObjects(schema: unknown, at: string, closedAround: boolean): string[] {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return [];
  const node = schema as Record<string, unknown>;
  // Every branch of a oneOf/anyOf refusing unknown keys closes the object too (a tagged union of closed objects).
  const closedHere =
    isClosed(node) ||
    ['oneOf', 'anyOf'].some((key) => Array.isArray(node[key]) && (node[key] as unknown[]).every(isClosed));
  const describesObject =
    node.type === 'object' || (Array.isArray(node.type) && node.type.includes('object')) || 'properties' in node;
  const open: string[] = describesObject && !closedHere && !closedAround ? [at] : [];
  // unevaluatedProperties: false sees through allOf/anyOf/oneOf, so it closes the objects those combine.
  const closesCombined = closedAround || node.unevaluatedProperties === false;
  for (const key of COMBINERS) {
    const branches = node[key];
    if (Array.isArray(branches))
      branches.forEach((branch, i) => open.push(...openObjects(branch, `${at}/${key}/${i}`, closesCombined)));
  }
  for (const key of SUBSCHEMA) if (key in node) open.push(...openObjects(node[key], `${at}/${key}`, false));
  if (Array.isArray(node.prefixItems))
    node.prefixItems.forEach((item, i) => open.push(...openObjects(item, `${at}/prefixItems/${i}`, false)));
  for (const key of SUBSCHEMA_MAPS) {
    const map = node[key];
    if (typeof map === 'object' && map !== null) {
      for (const [name, sub] of Object.entries(map))
        open.push(...openObjects(sub, `${at}/${key}/${escapePointer(name)}`, false));
    }
  }
  return open;
}
