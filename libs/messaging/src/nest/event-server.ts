import { type ArgumentsHost, Catch, HttpException } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { BaseRpcContext, type CustomTransportStrategy, Server } from '@nestjs/microservices';
import { isObservable, lastValueFrom, type Observable, throwError } from 'rxjs';
import type { EventType } from '@mlops/contracts';
import type { CloudEvent } from '../cloud-event';
import { isTransientError } from '../transient';
import {
  type ConsumerRunnerOptions,
  type DeadLetterRedactor,
  EventConsumerRunner,
  type InboxHandlerContext,
  type InboxOptions,
} from '../consumer';

/** What `@Ctx()` gives a handler: the inbox transaction of its effect and where the event came from. */
export class CloudEventContext extends BaseRpcContext<[CloudEvent, InboxHandlerContext]> {
  get event(): CloudEvent {
    return this.args[0];
  }
  get handler(): InboxHandlerContext {
    return this.args[1];
  }
  /** The inbox transaction: the effect and its outbox rows are written through it. */
  get manager(): InboxHandlerContext['manager'] {
    return this.args[1].manager;
  }
}

/** The transport always runs handlers in an inbox transaction, so no handler checks for one; `redactDeadLetter` per topic. */
export type EventServerOptions = ConsumerRunnerOptions & { inbox: InboxOptions };

/**
 * A Nest microservice transport over our consumer runner: `@EventPattern('mlops.x.y.v1')` handlers
 * receive the decoded, validated CloudEvent; inbox, retries and dead letters happen around them.
 */
export class CloudEventsKafkaServer extends Server implements CustomTransportStrategy {
  readonly runner: EventConsumerRunner<InboxHandlerContext>;

  constructor(options: EventServerOptions) {
    super();
    this.runner = new EventConsumerRunner<InboxHandlerContext>(options);
  }

  /** Redacts the dead letters of a topic before they are written (a service registers this before it starts). */
  redactDeadLettersOf(topic: EventType, redactor: DeadLetterRedactor): this {
    this.runner.redactDeadLettersOf(topic, redactor);
    return this;
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      for (const [pattern, handler] of this.messageHandlers) {
        if (!handler.isEventHandler) continue;
        this.runner.on(pattern as EventType, async (event, context) => {
          const result = await handler(event, new CloudEventContext([event, context]));
          const stream = this.transformToObservable(result) as Observable<unknown>;
          if (isObservable(stream)) await lastValueFrom(stream, { defaultValue: undefined });
        });
      }
      if (this.runner.topics.length > 0) await this.runner.start();
      callback();
    } catch (error) {
      callback(error);
    }
  }

  async close(): Promise<void> {
    await this.runner.stop();
  }

  on(): never {
    throw new Error('CloudEventsKafkaServer does not emit transport events');
  }

  unwrap<T>(): T {
    return this.runner as T;
  }
}

/** Seconds an HTTP client is told to wait when a dependency (Postgres, Kafka, ...) does not answer. */
export const DEPENDENCY_RETRY_AFTER_S = 5;

/**
 * Nest turns unknown errors of event handlers into `{status:'error'}`; the runner needs the real error
 * to choose between retry and dead letter. HTTP errors keep Nest's usual handling, except that an unavailable
 * dependency (a transient error, as the consumer runner judges it) answers 503 with Retry-After, not 500.
 */
@Catch()
export class RethrowRpcExceptionFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): Observable<never> | void {
    if (host.getType() === 'rpc') return throwError(() => exception);
    if (!(exception instanceof HttpException) && isTransientError(exception) && host.getType() === 'http') {
      const response = host.switchToHttp().getResponse<{ headersSent?: boolean }>();
      const adapter = this.httpAdapterHost?.httpAdapter ?? this.applicationRef;
      if (adapter && !response.headersSent) {
        adapter.setHeader(response, 'Retry-After', String(DEPENDENCY_RETRY_AFTER_S));
        adapter.reply(
          response,
          { statusCode: 503, error: 'dependency_unavailable', message: 'a dependency does not answer; retry later' },
          503,
        );
        return;
      }
    }
    return super.catch(exception, host);
  }
}
