import Ajv2020 from 'ajv/dist/2020';
import type { AnySchemaObject, ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { DatasetVersion } from '../domain/dataset';
import { escapePointer } from '../domain/json';
import type { SchemaIssue } from '../domain/record-check';

/** Compiles each dataset version's record schema once (versions are immutable) and reports every issue. */
export class RecordValidators {
  private readonly ajv: Ajv2020;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(private readonly maxCached = 1_000) {
    // strictSchema: an unknown keyword (a typo such as "minimun") is refused at registration, not ignored.
    this.ajv = new Ajv2020({ allErrors: true, strict: false, strictSchema: true, allowUnionTypes: true, validateFormats: true });
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
    return { path: `${error.instancePath}/${escapePointer(params.missingProperty)}`, keyword: 'required', message: 'is required' };
  }
  if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    return { path: `${error.instancePath}/${escapePointer(params.additionalProperty)}`, keyword: 'additionalProperties', message: 'is not a field of the dataset schema' };
  }
  return { path: error.instancePath, keyword: error.keyword, message: error.message ?? `must pass "${error.keyword}"` };
}
