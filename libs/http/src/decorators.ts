import 'reflect-metadata';
import { Body, Injectable, Param, type PipeTransform, Query } from '@nestjs/common';
import { invalidRequest } from './errors';
import type { JsonSchema, ObjectSchema } from './schema';
import { type RequestValidator, requestValidator } from './validation';

/** Which part of a request a schema describes. */
export type RequestPart = 'body' | 'params' | 'query';

export const REQUEST_SCHEMAS = 'mlops:http:request-schemas';
export const OPERATION = 'mlops:http:operation';
export const EXCLUDED = 'mlops:http:excluded';

/** One answer of an operation: what it means and, unless it has no body, the schema of its body. */
export interface ResponseSpec {
  description: string;
  schema?: JsonSchema;
}

export interface OperationSpec {
  summary: string;
  description?: string;
  /** Every answer by status, errors included (a 400 for invalid requests is added where a request schema is declared). */
  responses: Readonly<Record<number, ResponseSpec>>;
  /** A body the handler reads itself (no @ValidBody): its media types, each with the schema of what it carries. */
  rawBody?: RawBodySpec;
}

export interface RawBodySpec {
  description: string;
  content: Readonly<Record<string, { schema?: JsonSchema }>>;
}

/** Checks one part of a request against its schema before the controller runs; 400 with every issue otherwise. */
@Injectable()
export class SchemaPipe<T = unknown> implements PipeTransform<unknown, T> {
  private readonly validate: RequestValidator<T>;

  constructor(
    schema: JsonSchema,
    private readonly part: RequestPart,
  ) {
    // Compiled here, when the controller class is declared: a bad or open schema stops the service at start.
    this.validate = requestValidator<T>(schema, `${part} schema`);
  }

  transform(value: unknown): T {
    const check = this.validate(value);
    if (!check.ok) throw invalidRequest(this.part, check.issues);
    return check.value;
  }
}

function validPart(part: RequestPart, schema: ObjectSchema): ParameterDecorator {
  const pipe = new SchemaPipe(schema, part);
  const bind = part === 'body' ? Body(pipe) : part === 'params' ? Param(pipe) : Query(pipe);
  return (target, propertyKey, index) => {
    bind(target, propertyKey, index);
    if (propertyKey === undefined) return;
    const handler = (target as Record<string | symbol, object>)[propertyKey]!;
    const schemas: Partial<Record<RequestPart, ObjectSchema>> = {
      ...(Reflect.getMetadata(REQUEST_SCHEMAS, handler) ?? {}),
    };
    schemas[part] = schema;
    Reflect.defineMetadata(REQUEST_SCHEMAS, schemas, handler);
  };
}

/** The request body, checked against its schema (closed objects, no coercion, no defaults) and typed by it. */
export const ValidBody = (schema: ObjectSchema): ParameterDecorator => validPart('body', schema);
/** Every path parameter as one object, checked against its schema (values are strings). */
export const ValidParams = (schema: ObjectSchema): ParameterDecorator => validPart('params', schema);
/** The query string as one object, checked against its schema (values are strings, not coerced). */
export const ValidQuery = (schema: ObjectSchema): ParameterDecorator => validPart('query', schema);

/** Documents an operation in the OpenAPI document: what it does and each answer by status. */
export function Operation(spec: OperationSpec): MethodDecorator {
  return (_target, _key, descriptor) => {
    Reflect.defineMetadata(OPERATION, spec, descriptor.value as object);
  };
}

/** Leaves a controller or handler out of the OpenAPI document (the document's own routes). */
export function ExcludeFromDocs(): ClassDecorator & MethodDecorator {
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    Reflect.defineMetadata(EXCLUDED, true, (descriptor?.value as object | undefined) ?? target);
  };
}
