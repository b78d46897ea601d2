import Ajv2020 from 'ajv/dist/2020';
import type { AnySchemaObject, ErrorObject, ValidateFunction } from 'ajv';
import type { RegExpEngine, RegExpLike } from 'ajv/dist/types';
import addFormats from 'ajv-formats';
import { RE2JS } from 're2js';
import type { DatasetVersion } from '../domain/dataset';
import { escapePointer } from '../domain/json';
import type { SchemaIssue } from '../domain/record-check';

/** Compiles each dataset version's record schema once (versions are immutable) and reports every issue. */
export class RecordValidators {
  private readonly ajv: Ajv2020;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(private readonly maxCached = 1_000) {
    // strictSchema: an unknown keyword (a typo such as "minimun") is refused at registration, not ignored.
    // Patterns come from users: they run on RE2 (linear time), so no record can stall the event loop.
    this.ajv = new Ajv2020({
      allErrors: true,
      strict: false,
      strictSchema: true,
      allowUnionTypes: true,
      // Fields named constructor or toString: only own properties count, never Object.prototype's.
      ownProperties: true,
      validateFormats: true,
      code: { regExp: linearTimeRegExp },
    });
    addFormats(this.ajv);
  }

  /** Why a record schema cannot be compiled, or undefined when it can. */
  compileProblem(schema: object): string | undefined {
    try {
      this.ajv.compile(schema as AnySchemaObject);
      return undefined;
    } catch (error) {
      return `recordSchema does not compile: ${(error as Error).message}`;
    }
  }

  validate(dataset: DatasetVersion, record: unknown): SchemaIssue[] {
    const key = `${dataset.name}@${dataset.version}`;
    let validate = this.cache.get(key);
    if (!validate) {
      validate = this.ajv.compile(schemaWithProtoAlias(dataset.recordSchema) as AnySchemaObject);
      if (this.cache.size >= this.maxCached) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, validate);
    }
    return validate(recordWithProtoAlias(record)) ? [] : (validate.errors ?? []).map(toIssue).map(withoutProtoAlias);
  }
}

// ajv skips a property named __proto__ (it would be unsafe in its generated code): such a field is validated
// under an alias no field name can have (field names are [A-Za-z0-9_]).
const PROTO = '__proto__';
const PROTO_ALIAS = '__proto__$alias';

function renamed(object: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(object))
    Object.defineProperty(copy, key === PROTO ? PROTO_ALIAS : key, {
      value: object[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return copy;
}

/** A record schema whose properties and required list name a __proto__ field by its alias. */
function schemaWithProtoAlias(schema: Record<string, unknown>): Record<string, unknown> {
  const properties = schema.properties;
  if (typeof properties !== 'object' || properties === null || !Object.hasOwn(properties, PROTO)) return schema;
  const required = Array.isArray(schema.required) ? schema.required : undefined;
  return {
    ...schema,
    properties: renamed(properties as Record<string, unknown>),
    ...(required ? { required: required.map((r: unknown) => (r === PROTO ? PROTO_ALIAS : r)) } : {}),
  };
}

/** A record whose own __proto__ field is under its alias. */
function recordWithProtoAlias(record: unknown): unknown {
  if (typeof record !== 'object' || record === null || Array.isArray(record) || !Object.hasOwn(record, PROTO))
    return record;
  return renamed(record as Record<string, unknown>);
}

function withoutProtoAlias(issue: SchemaIssue): SchemaIssue {
  const alias = `/${PROTO_ALIAS}`;
  return issue.path === alias || issue.path.startsWith(`${alias}/`)
    ? { ...issue, path: `/${PROTO}${issue.path.slice(alias.length)}` }
    : issue;
}

function toIssue(error: ErrorObject): SchemaIssue {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required' && typeof params.missingProperty === 'string') {
    return {
      path: `${error.instancePath}/${escapePointer(params.missingProperty)}`,
      keyword: 'required',
      message: 'is required',
    };
  }
  if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    return {
      path: `${error.instancePath}/${escapePointer(params.additionalProperty)}`,
      keyword: 'additionalProperties',
      message: 'is not a field of the dataset schema',
    };
  }
  return { path: error.instancePath, keyword: error.keyword, message: error.message ?? `must pass "${error.keyword}"` };
}

/**
 * `pattern` and `patternProperties` on RE2 semantics: ECMAScript syntax is translated, and what RE2 cannot
 * run in linear time (backreferences, lookaround) is refused when the schema compiles, with the reason.
 */
export const linearTimeRegExp: RegExpEngine = Object.assign(
  (pattern: string, flags: string): RegExpLike => {
    let compiled: RE2JS;
    try {
      compiled = RE2JS.compile(RE2JS.translateRegExp(pattern));
    } catch (error) {
      throw new Error(
        `pattern ${JSON.stringify(pattern)} is not supported: ${(error as Error).message}; patterns run on a ` +
          'linear-time engine (RE2 syntax: no backreferences, lookahead or lookbehind)',
      );
    }
    // ajv keys compiled patterns by toString(): without it every pattern would share the first one.
    const like: RegExpLike & { toString(): string } = {
      test: (text: string) => compiled.matcher(text).find(),
      toString: () => `/${pattern}/${flags}`,
    };
    return like;
  },
  { code: 'linearTimeRegExp' },
);
