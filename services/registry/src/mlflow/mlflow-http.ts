import 'reflect-metadata';
import { type ArgumentsHost, Body, Catch, HttpException, Injectable, type PipeTransform, Query } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Observable } from 'rxjs';
import type { DomainError, Result } from '@mlops/core';
import { type ObjectSchema, REQUEST_SCHEMAS, type RequestValidator, requestValidator } from '@mlops/http';
import { PlatformExceptionFilter } from '@mlops/platform';

/** MLflow's error body: the client reads `error_code` (e.g. RESOURCE_DOES_NOT_EXIST) and shows `message`. */
export interface MlflowErrorBody {
  error_code: string;
  message: string;
}

/** Our domain errors as MLflow's error codes and statuses. */
export type MlflowErrorKind =
  | 'model_not_found'
  | 'version_not_found'
  | 'alias_not_found'
  | 'invalid_parameter'
  | 'version_marked_bad'
  | 'feature_disabled';

const MLFLOW_ERRORS: Record<MlflowErrorKind, { code: string; status: number }> = {
  model_not_found: { code: 'RESOURCE_DOES_NOT_EXIST', status: 404 },
  version_not_found: { code: 'RESOURCE_DOES_NOT_EXIST', status: 404 },
  alias_not_found: { code: 'RESOURCE_DOES_NOT_EXIST', status: 404 },
  invalid_parameter: { code: 'INVALID_PARAMETER_VALUE', status: 400 },
  // A promotion our checks refuse (the version is marked bad).
  version_marked_bad: { code: 'INVALID_STATE', status: 400 },
  // 400, not 501: MLflow clients retry some 5xx answers.
  feature_disabled: { code: 'FEATURE_DISABLED', status: 400 },
};

export function mlflowError(code: string, message: string, status: number): HttpException {
  return new HttpException({ error_code: code, message } satisfies MlflowErrorBody, status);
}

/** The value of a result, or MLflow's error answer for its error. */
export function mlflowRespond<T>(result: Result<T, DomainError<MlflowErrorKind>>): T {
  if (result.ok) return result.value;
  const { code, status } = MLFLOW_ERRORS[result.error.kind];
  throw mlflowError(code, result.error.message, status);
}

/** Checks a request part against its closed schema; an invalid request is MLflow's INVALID_PARAMETER_VALUE. */
@Injectable()
class MlflowSchemaPipe<T> implements PipeTransform<unknown, T> {
  private readonly validate: RequestValidator<T>;

  constructor(schema: ObjectSchema, part: string) {
    this.validate = requestValidator<T>(schema, `mlflow registry ${part} schema`);
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

/**
 * The platform's filter, with our auth refusals (401/403 from the auth guard: `{error, message}`) answered in
 * MLflow's shape, so its clients raise UNAUTHENTICATED / PERMISSION_DENIED instead of an unreadable error.
 */
@Catch()
export class MlflowExceptionFilter extends PlatformExceptionFilter {
  constructor(adapterHost: HttpAdapterHost) {
    super(adapterHost.httpAdapter);
  }

  override catch(exception: unknown, host: ArgumentsHost): Observable<never> | void {
    if (exception instanceof HttpException && host.getType() === 'http') {
      const status = exception.getStatus();
      const body = exception.getResponse();
      if ((status === 401 || status === 403) && typeof body === 'object' && !('error_code' in body)) {
        const message = 'message' in body && typeof body.message === 'string' ? body.message : exception.message;
        return super.catch(
          mlflowError(status === 401 ? 'UNAUTHENTICATED' : 'PERMISSION_DENIED', message, status),
          host,
        );
      }
    }
    return super.catch(exception, host);
  }
}
