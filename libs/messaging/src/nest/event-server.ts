import { type ArgumentsHost, Catch } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { BaseRpcContext, type CustomTransportStrategy, Server } from '@nestjs/microservices';
import { isObservable, lastValueFrom, type Observable, throwError } from 'rxjs';
import type { EventType } from '@mlops/contracts';
import type { CloudEvent } from '../cloud-event';
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

/**
 * Nest turns unknown errors of event handlers into `{status:'error'}`; the runner needs the real error to choose
 * between waiting and dead-lettering, so RPC errors are rethrown untouched. HTTP errors keep Nest's usual handling:
 * the services' one HTTP error mapping (an unavailable dependency answers 503 with Retry-After) is libs/platform's
 * PlatformExceptionFilter, which does the same for RPC; this filter is for apps wired without the platform (tests).
 */
@Catch()
export class RethrowRpcExceptionFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): Observable<never> | void {
    if (host.getType() === 'rpc') return throwError(() => exception);
    return super.catch(exception, host);
  }
}
