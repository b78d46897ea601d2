import { HttpException } from '@nestjs/common';
import type { AuthRequest } from './request-types';

/**
 * Notes why an allowed request failed, for its audit row (the guard writes the row when the answer is sent): the
 * service's exception filter calls it with every error of an HTTP request, so no per-request interceptor is needed
 * (an interceptor costs every request Nest's observable pipeline). Only the error's name goes in: messages can quote
 * the body's values.
 */
export function noteAuditFailure(request: unknown, error: unknown): void {
  if (typeof request !== 'object' || request === null) return;
  (request as AuthRequest).auditFailure = failureOf(error);
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
