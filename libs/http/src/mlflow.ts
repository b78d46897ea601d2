import 'reflect-metadata';
import { Body, HttpException, Injectable, type PipeTransform, Query } from '@nestjs/common';
import type { DomainError, Result } from '@mlops/core';
import { REQUEST_SCHEMAS } from './decorators';
import type { ObjectSchema } from './schema';
import { type RequestValidator, requestValidator } from './validation';

/**
 * The HTTP side of MLflow-compatible routes (the trainer's tracking API, the registry's model registry API), so
 * MLflow clients read our answers: errors as MLflow's body and codes, requests checked against closed schemas.
 */

/** MLflow's error body: the client reads `error_code` (e.g. RESOURCE_DOES_NOT_EXIST) and shows `message`. */
export interface MlflowErrorBody {
  error_code: string;
  message: string;
}

/** An MLflow error code and the HTTP status MLflow answers it with. */
export interface MlflowErrorCode {
  readonly code: string;
  readonly status: number;
}

export function mlflowError(code: string, message: string, status: number): HttpException {
  return new HttpException({ error_code: code, message } satisfies MlflowErrorBody, status);
}

/** `respond` for MLflow routes: the value of a result, or MLflow's error answer for its error's kind. */
export function mlflowResponder<K extends string>(
  errors: Readonly<Record<K, MlflowErrorCode>>,
): <T>(result: Result<T, DomainError<K>>) => T {
  return (result) => {
    if (result.ok) return result.value;
    const { code, status } = errors[result.error.kind];
    throw mlflowError(code, result.error.message, status);
  };
}

/** Checks a request part against its closed schema; an invalid request is MLflow's INVALID_PARAMETER_VALUE. */
@Injectable()
class MlflowSchemaPipe<T> implements PipeTransform<unknown, T> {
  private readonly validate: RequestValidator<T>;

  constructor(schema: ObjectSchema, part: string) {
    this.validate = requestValidator<T>(schema, `mlflow ${part} schema`);
  }

  transform(value: unknown): T {
    const check = this.validate(value ?? {});
    if (check.ok) return check.value;
    const issues = check.issues.map((issue) => `${issue.path === '' ? '(root)' : issue.path} ${issue.message}`);
    throw mlflowError('INVALID_PARAMETER_VALUE', `Invalid request: ${issues.join('; ')}`, 400);
  }
}

function mlflowPart(part: 'body' | 'query', schema: ObjectSchema): ParameterDecorator {
  const pipe = new MlflowSchemaPipe(schema, part);
  const bind = part === 'body' ? Body(pipe) : Query(pipe);
  return (target, propertyKey, index) => {
    bind(target, propertyKey, index);
    if (propertyKey === undefined) return;
    const handler = (target as Record<string | symbol, object>)[propertyKey]!;
    Reflect.defineMetadata(
      REQUEST_SCHEMAS,
      { ...(Reflect.getMetadata(REQUEST_SCHEMAS, handler) ?? {}), [part]: schema },
      handler,
    );
  };
}

/** `@ValidBody` for MLflow routes: the same closed-schema check, answered with MLflow's error body. */
export const MlflowBody = (schema: ObjectSchema): ParameterDecorator => mlflowPart('body', schema);
/** `@ValidQuery` for MLflow routes (GET requests carry their fields as query parameters). */
export const MlflowQuery = (schema: ObjectSchema): ParameterDecorator => mlflowPart('query', schema);

/** The errors every MLflow operation may answer, for the OpenAPI document. */
export const mlflowErrorResponse = (description: string) => ({
  description,
  schema: {
    type: 'object',
    required: ['error_code', 'message'],
    properties: { error_code: { type: 'string' }, message: { type: 'string' } },
  },
});
