import { HttpException, Logger } from '@nestjs/common';
import type { DomainError, Result } from '@mlops/core';
import type { RequestIssue } from './validation';

/** The body of every error answer: a stable `error` kind to switch on, a message for a person, optional particulars. */
export interface ErrorBody {
  error: string;
  message: string;
  details?: unknown;
}

/** The body of a 400 for a request that does not match its schema: every issue, each with its JSON Pointer. */
export interface InvalidRequestBody {
  error: 'invalid_request';
  message: string;
  errors: RequestIssue[];
}

/** The HTTP status each kind of domain error of a use case answers; every kind must be named. */
export type StatusByKind<E extends DomainError> = { readonly [K in E['kind']]: number };

const logger = new Logger('HttpErrors');

/** Throws the HTTP answer of a domain error: its mapped status with `{ error: kind, message, details? }`. */
export function throwHttpError<E extends DomainError>(error: E, statusByKind: StatusByKind<E>): never {
  const status = (statusByKind as Record<string, number | undefined>)[error.kind];
  if (status === undefined) {
    // A kind the controller does not map is a bug of the controller, not the caller's fault.
    logger.error(`bug: domain error kind "${error.kind}" has no HTTP status (${error.message})`);
    throw new HttpException({ error: 'internal', message: 'internal error' } satisfies ErrorBody, 500);
  }
  const body: ErrorBody =
    error.details === undefined
      ? { error: error.kind, message: error.message }
      : { error: error.kind, message: error.message, details: error.details };
  throw new HttpException(body, status);
}

/** The value of a successful result, or the HTTP answer of its error (see throwHttpError). */
export function respond<T, E extends DomainError>(result: Result<T, E>, statusByKind: StatusByKind<E>): T {
  if (result.ok) return result.value;
  return throwHttpError(result.error, statusByKind);
}

/** The 400 of a request part that does not match its schema. */
export function invalidRequest(part: string, issues: RequestIssue[]): HttpException {
  const list = issues.map((issue) => `${issue.path === '' ? '(root)' : issue.path} ${issue.message}`).join('; ');
  const body: InvalidRequestBody = {
    error: 'invalid_request',
    message: `invalid request ${part}: ${list}`,
    errors: issues,
  };
  return new HttpException(body, 400);
}
