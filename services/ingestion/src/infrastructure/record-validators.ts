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
      validate = this.ajv.compile(dataset.recordSchema as AnySchemaObject);
      if (this.cache.size >= this.maxCached) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, validate);
    }
    return validate(record) ? [] : (validate.errors ?? []).map(toIssue);
  }
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
