import { type ArgumentsHost, Catch, HttpException } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Observable } from 'rxjs';
import { type MlflowErrorCode, mlflowError, mlflowResponder } from '@mlops/http';
import { PlatformExceptionFilter } from '@mlops/platform';

export { MlflowBody, MlflowQuery, mlflowError, mlflowErrorResponse } from '@mlops/http';

/** Our domain errors as MLflow's error codes and statuses. */
export type MlflowErrorKind =
  | 'model_not_found'
  | 'version_not_found'
  | 'alias_not_found'
  | 'invalid_parameter'
  | 'version_marked_bad'
  | 'feature_disabled';

const MLFLOW_ERRORS: Record<MlflowErrorKind, MlflowErrorCode> = {
  model_not_found: { code: 'RESOURCE_DOES_NOT_EXIST', status: 404 },
  version_not_found: { code: 'RESOURCE_DOES_NOT_EXIST', status: 404 },
  alias_not_found: { code: 'RESOURCE_DOES_NOT_EXIST', status: 404 },
  invalid_parameter: { code: 'INVALID_PARAMETER_VALUE', status: 400 },
  // A promotion our checks refuse (the version is marked bad).
  version_marked_bad: { code: 'INVALID_STATE', status: 400 },
  // 400, not 501: MLflow clients retry some 5xx answers.
  feature_disabled: { code: 'FEATURE_DISABLED', status: 400 },
};

/** The value of a result, or MLflow's error answer for its error. */
export const mlflowRespond = mlflowResponder(MLFLOW_ERRORS);

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
