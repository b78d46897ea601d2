import { type ArgumentsHost, Catch, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { type Observable, throwError } from 'rxjs';
import { isTransientError, safeErrorSummary } from '@mlops/messaging';

/** Seconds a client is asked to wait before retrying a request refused because a dependency is unavailable. */
export const RETRY_AFTER_SECONDS = 5;

interface HttpResponseLike {
  headersSent: boolean;
  getHeader(name: string): unknown;
  setHeader(name: string, value: string): unknown;
  status(code: number): HttpResponseLike;
  json(body: unknown): unknown;
}

interface HttpRequestLike {
  method?: string;
  route?: { path?: string };
}

/**
 * The one exception filter of every service. Event handlers: the error is rethrown untouched, so the consumer
 * runner can choose between waiting and dead-lettering. HTTP: an error caused by an unavailable dependency
 * (Postgres, ClickHouse, Kafka) answers `503 dependency_unavailable` with Retry-After, never 500; every 503 carries
 * Retry-After; an unknown error answers 500 and is logged with the route pattern and the error, never request values.
 */
@Catch()
export class PlatformExceptionFilter extends BaseExceptionFilter {
  private readonly logger = new Logger('http');

  override catch(exception: unknown, host: ArgumentsHost): Observable<never> | void {
    if (host.getType() === 'rpc') return throwError(() => exception);
    if (host.getType() !== 'http') return super.catch(exception, host);
    const response = host.switchToHttp().getResponse<HttpResponseLike>();
    const request = host.switchToHttp().getRequest<HttpRequestLike>();
    if (exception instanceof HttpException) {
      if (exception.getStatus() === HttpStatus.SERVICE_UNAVAILABLE && response.getHeader('retry-after') === undefined)
        response.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      return super.catch(exception, host);
    }
    if (response.headersSent) return super.catch(exception, host);
    const where = `${request.method ?? '?'} ${request.route?.path ?? '(no route)'}`;
    if (isTransientError(exception)) {
      this.logger.warn(`${where}: a dependency is unavailable (${safeErrorSummary(exception)}); answered 503`);
      response.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      response.status(HttpStatus.SERVICE_UNAVAILABLE).json({
        error: 'dependency_unavailable',
        message: `a dependency of this service is unavailable; retry after ${RETRY_AFTER_SECONDS} s`,
      });
      return;
    }
    const clientError = clientErrorOf(exception);
    if (clientError) {
      // Errors of the HTTP layer itself (body parser: too large, malformed, unsupported charset) are the client's.
      response.status(clientError.status).json({ error: clientError.error, message: clientError.message });
      return;
    }
    // The route pattern, not the URL, and the error's name, code and stack frames without its message: messages
    // may quote request values (a driver's "invalid input syntax ... \"<value>\""), which stay out of logs.
    this.logger.error(`${where} failed: ${safeErrorSummary(exception)}`, framesOf(exception));
    response.status(HttpStatus.INTERNAL_SERVER_ERROR).json({ error: 'internal', message: 'internal error' });
  }
}

/** The stack's frames, without the first line (which repeats the message). */
function framesOf(error: unknown): string | undefined {
  if (!(error instanceof Error) || error.stack === undefined) return undefined;
  return error.stack
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .join('\n');
}

/**
 * A 4xx an HTTP middleware raised as an http-errors object (`status`/`statusCode` with `expose: true`), such as
 * body-parser's `entity.too.large` (413) or `entity.parse.failed` (400); its message is the middleware's own.
 */
function clientErrorOf(error: unknown): { status: number; error: string; message: string } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = error as {
    status?: unknown;
    statusCode?: unknown;
    expose?: unknown;
    type?: unknown;
    message?: unknown;
  };
  const status = typeof candidate.status === 'number' ? candidate.status : candidate.statusCode;
  if (typeof status !== 'number' || status < 400 || status > 499 || candidate.expose !== true) return undefined;
  const kinds: Record<number, string> = {
    400: 'malformed_body',
    413: 'payload_too_large',
    415: 'unsupported_media_type',
  };
  return {
    status,
    error: kinds[status] ?? (typeof candidate.type === 'string' ? candidate.type.replace(/\W+/g, '_') : 'bad_request'),
    message: typeof candidate.message === 'string' ? candidate.message : 'the request cannot be read',
  };
}
