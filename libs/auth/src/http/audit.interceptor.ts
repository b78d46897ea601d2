import {
  type CallHandler,
  type ExecutionContext,
  HttpException,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { type Observable, catchError, throwError } from 'rxjs';
import type { AuthRequest } from './request-types';

/**
 * Notes why an allowed request failed, for its audit row (the guard writes the row when the answer is sent).
 * Only the error's name goes in: messages can quote the body's values.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<AuthRequest>();
    return next.handle().pipe(
      catchError((error: unknown) => {
        request.auditFailure = failureOf(error);
        return throwError(() => error);
      }),
    );
  }
}

function failureOf(error: unknown): string {
  if (!(error instanceof HttpException)) return 'internal error';
  const body = error.getResponse();
  const name =
    typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string'
      ? (body as { error: string }).error
      : error.name;
  return `${error.getStatus()} ${name}`;
}
