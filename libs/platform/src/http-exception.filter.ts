import { type ArgumentsHost, Catch, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { type AbstractHttpAdapter, BaseExceptionFilter } from '@nestjs/core';
import { type Observable, throwError } from 'rxjs';
import { noteAuditFailure } from '@mlops/auth';
import { isTransientError, safeErrorSummary } from '@mlops/messaging';

/** Seconds a client is asked to wait before retrying a request refused because a dependency is unavailable. */
export const RETRY_AFTER_SECONDS = 5;

/** An Express response, or a Fastify reply (whose Node response is `raw`). */
interface HttpResponseLike {
  headersSent?: boolean;
  sent?: boolean;
  raw?: { headersSent: boolean };
}

/** An Express request (`route.path`) or a Fastify request (`routeOptions.url`). */
interface HttpRequestLike {
  method?: string;
  route?: { path?: string };
  routeOptions?: { url?: string };
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

  /** Answers through the adapter (Express or Fastify), which knows how its responses set headers and reply. */
  constructor(private readonly http: AbstractHttpAdapter) {
    super(http);
  }

  override catch(exception: unknown, host: ArgumentsHost): Observable<never> | void {
    if (host.getType() === 'rpc') return throwError(() => exception);
    if (host.getType() !== 'http') return super.catch(exception, host);
    const response = host.switchToHttp().getResponse<HttpResponseLike>();
    const request = host.switchToHttp().getRequest<HttpRequestLike>();
    // The audit row of an allowed request that failed says why (written by the auth guard once the answer is sent).
    noteAuditFailure(request, exception);
    if (exception instanceof HttpException) {
      if (
        exception.getStatus() === HttpStatus.SERVICE_UNAVAILABLE &&
        this.http.getHeader(response, 'retry-after') === undefined
      )
        this.http.setHeader(response, 'Retry-After', String(RETRY_AFTER_SECONDS));
      const parserError = this.http.getType() === 'fastify' ? fastifyParserError(exception) : undefined;
      if (parserError) {
        this.http.reply(response, parserError.body, parserError.status);
        return;
      }
      return super.catch(exception, host);
    }
    if (response.headersSent === true || response.sent === true || response.raw?.headersSent === true)
      return super.catch(exception, host);
    const route = request.route?.path ?? request.routeOptions?.url;
    const where = `${request.method ?? '?'} ${route ?? '(no route)'}`;
    if (isTransientError(exception)) {
      this.logger.warn(`${where}: a dependency is unavailable (${safeErrorSummary(exception)}); answered 503`);
      this.http.setHeader(response, 'Retry-After', String(RETRY_AFTER_SECONDS));
      this.http.reply(
        response,
        {
          error: 'dependency_unavailable',
          message: `a dependency of this service is unavailable; retry after ${RETRY_AFTER_SECONDS} s`,
        },
        HttpStatus.SERVICE_UNAVAILABLE,
      );
      return;
    }
    const clientError = clientErrorOf(exception);
    if (clientError) {
      // Errors of the HTTP layer itself (body parser: too large, malformed, unsupported charset) are the client's.
      this.http.reply(response, { error: clientError.error, message: clientError.message }, clientError.status);
      return;
    }
    // The route pattern, not the URL, and the error's name, code and stack frames without its message: messages
    // may quote request values (a driver's "invalid input syntax ... \"<value>\""), which stay out of logs.
    this.logger.error(`${where} failed: ${safeErrorSummary(exception)}`, framesOf(exception));
    this.http.reply(response, { error: 'internal', message: 'internal error' }, HttpStatus.INTERNAL_SERVER_ERROR);
  }
}

/**
 * Fastify's body parser errors reach the filter as an HttpException with a bare message (Nest maps them): answered
 * as Express answers its body parser's, so the adapter changes no answer (400 as Nest's Bad Request, 413 and 415 as
 * clientErrorOf names them).
 */
function fastifyParserError(exception: HttpException): { status: number; body: Record<string, unknown> } | undefined {
  const message = exception.getResponse();
  if (typeof message !== 'string') return undefined;
  const status = exception.getStatus();
  if (status === 400) return { status, body: { message, error: 'Bad Request', statusCode: status } };
  if (status === 413) return { status, body: { error: 'payload_too_large', message } };
  if (status === 415) return { status, body: { error: 'unsupported_media_type', message } };
  return undefined;
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
 * body-parser's `entity.too.large` (413) or `entity.parse.failed` (400), or Fastify's body parser raised (a
 * `FST_ERR_CTP_*` code, or its JSON parser's SyntaxError with a statusCode); its message is the parser's own.
 */
function clientErrorOf(error: unknown): { status: number; error: string; message: string } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = error as {
    status?: unknown;
    statusCode?: unknown;
    expose?: unknown;
    type?: unknown;
    code?: unknown;
    message?: unknown;
  };
  const status = typeof candidate.status === 'number' ? candidate.status : candidate.statusCode;
  const fromFastify =
    (typeof candidate.code === 'string' && candidate.code.startsWith('FST_ERR_CTP_')) || error instanceof SyntaxError;
  if (typeof status !== 'number' || status < 400 || status > 499 || (candidate.expose !== true && !fromFastify))
    return undefined;
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
