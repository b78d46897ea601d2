import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { DataSource, EntityManager } from 'typeorm';
import { type EventType, dlqTopicOf } from '@mlops/contracts';
import { type CloudEvent, decodeMessage } from './cloud-event';
import { PermanentHandlerError, PoisonMessageError, type PoisonReason } from './errors';
import { claimInInbox } from './inbox';
import type { MessagingMetrics } from './metrics';
import { DEFAULT_MAX_EVENT_BYTES, type EventProducer } from './producer';

export interface HandlerContext {
  /** The transaction the inbox claim lives in: write the effect (and outbox rows) through it. */
  readonly manager?: EntityManager;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly attempt: number;
}

export type EventHandler<T extends EventType = EventType> = (event: CloudEvent<T>, context: HandlerContext) => Promise<void>;

export interface RetryPolicy {
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export interface InboxOptions {
  dataSource: DataSource;
  schema: string;
}

export interface ConsumerRunnerOptions {
  kafka: Kafka;
  /** Consumer group, and the name written in the inbox and on dead letters. */
  consumerName: string;
  producer: EventProducer;
  metrics: MessagingMetrics;
  /** With an inbox each effect runs in a Postgres transaction that also records the event id. */
  inbox?: InboxOptions;
  retry?: Partial<RetryPolicy>;
  maxEventBytes?: number;
  fromBeginning?: boolean;
  logger?: { log(message: string): void; warn(message: string): void; error(message: string): void };
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 5, initialDelayMs: 100, maxDelayMs: 5_000 };

type Outcome = 'processed' | 'duplicate' | 'dead_lettered';

/**
 * Runs handlers for event types: decode and validate, at most one effect per event (inbox),
 * bounded retries for transient errors, dead letters for what can never succeed, and offsets
 * committed only after the effect (or the dead letter) is durable.
 */
export class EventConsumerRunner {
  private readonly handlers = new Map<string, EventHandler>();
  private readonly retry: RetryPolicy;
  private readonly maxEventBytes: number;
  private consumer?: Consumer;

  constructor(private readonly options: ConsumerRunnerOptions) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  }

  on<T extends EventType>(type: T, handler: EventHandler<T>): this {
    if (this.handlers.has(type)) throw new Error(`${this.options.consumerName} already handles ${type}`);
    this.handlers.set(type, handler as unknown as EventHandler);
    return this;
  }

  get topics(): string[] {
    return [...this.handlers.keys()];
  }

  async start(): Promise<void> {
    if (this.handlers.size === 0) throw new Error(`${this.options.consumerName} has no handlers`);
    const consumer = this.options.kafka.consumer({
      groupId: this.options.consumerName,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      allowAutoTopicCreation: false,
      maxBytesPerPartition: Math.max(1_048_576, this.maxEventBytes * 2),
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: this.topics, fromBeginning: this.options.fromBeginning ?? true });
    await consumer.run({
      autoCommit: true,
      autoCommitInterval: 1_000,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 2,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }

  /** Resolves once the group has assigned partitions to this consumer (tests and warm-up). */
  whenJoined(timeoutMs = 30_000): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) return Promise.reject(new Error('runner not started'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.options.consumerName} did not join its group in ${timeoutMs} ms`)), timeoutMs);
      const remove = consumer.on(consumer.events.GROUP_JOIN, () => {
        clearTimeout(timer);
        remove();
        resolve();
      });
    });
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary }: EachBatchPayload): Promise<void> {
    const { consumerName, metrics } = this.options;
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) return;
      const stopTimer = metrics.handlerSeconds.startTimer({ topic: batch.topic, consumer: consumerName });
      const outcome = await this.process(batch.topic, batch.partition, message, heartbeat, () => isRunning() && !isStale());
      if (outcome === undefined) return; // stopping mid-retry: leave the offset for the next owner
      stopTimer();
      metrics.consumed.inc({ topic: batch.topic, consumer: consumerName, outcome });
      resolveOffset(message.offset);
      metrics.consumerLag.set(
        { topic: batch.topic, partition: String(batch.partition), consumer: consumerName },
        Math.max(0, Number(batch.highWatermark) - Number(message.offset) - 1),
      );
      await heartbeat();
    }
    await commitOffsetsIfNecessary();
  }

  private async process(
    topic: string,
    partition: number,
    message: KafkaMessage,
    heartbeat: () => Promise<void>,
    stillOwned: () => boolean,
  ): Promise<Outcome | undefined> {
    let event: CloudEvent;
    try {
      event = decodeMessage(topic, message, { maxEventBytes: this.maxEventBytes });
    } catch (error) {
      if (!(error instanceof PoisonMessageError)) throw error;
      await this.deadLetter(topic, partition, message, error.reason, error.message, 0);
      return 'dead_lettered';
    }
    const handler = this.handlers.get(event.type);
    if (!handler) {
      await this.deadLetter(topic, partition, message, 'no-handler', `${this.options.consumerName} has no handler for ${event.type}`, 0);
      return 'dead_lettered';
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const processed = await this.runHandler(handler, event, { topic, partition, offset: message.offset, attempt });
        return processed ? 'processed' : 'duplicate';
      } catch (error) {
        const reason: PoisonReason | 'retries-exhausted' =
          error instanceof PermanentHandlerError ? 'rejected-by-handler' : error instanceof PoisonMessageError ? error.reason : 'retries-exhausted';
        if (reason !== 'retries-exhausted' || attempt >= this.retry.attempts) {
          await this.deadLetter(topic, partition, message, reason, (error as Error).message, attempt);
          return 'dead_lettered';
        }
        const delay = Math.min(this.retry.maxDelayMs, this.retry.initialDelayMs * 2 ** (attempt - 1));
        this.options.logger?.warn(`${this.options.consumerName}: ${event.type} ${event.id} failed (attempt ${attempt}), retrying in ${delay} ms: ${(error as Error).message}`);
        await sleep(delay);
        if (!stillOwned()) return undefined;
        await heartbeat().catch(() => undefined);
      }
    }
  }

  /** Returns false when the inbox says the event was already processed. */
  private async runHandler(handler: EventHandler, event: CloudEvent, position: Omit<HandlerContext, 'manager'>): Promise<boolean> {
    const inbox = this.options.inbox;
    if (!inbox) {
      await handler(event, position);
      return true;
    }
    return inbox.dataSource.transaction(async (manager) => {
      if (!(await claimInInbox(manager, inbox.schema, this.options.consumerName, event))) return false;
      await handler(event, { ...position, manager });
      return true;
    });
  }

  private async deadLetter(
    topic: string,
    partition: number,
    message: KafkaMessage,
    reason: string,
    error: string,
    attempts: number,
  ): Promise<void> {
    const { consumerName, producer, metrics } = this.options;
    const headers: Record<string, string | Buffer> = {};
    for (const [name, value] of Object.entries(message.headers ?? {})) {
      const first = Array.isArray(value) ? value[0] : value;
      if (first !== undefined) headers[name] = first;
    }
    Object.assign(headers, {
      dlq_reason: reason,
      dlq_error: error.slice(0, 8_000),
      dlq_consumer: consumerName,
      dlq_original_topic: topic,
      dlq_original_partition: String(partition),
      dlq_original_offset: message.offset,
      dlq_original_timestamp: message.timestamp,
      dlq_attempts: String(attempts),
      dlq_failed_at: new Date().toISOString(),
    });
    // The dead letter must be durable before the offset moves on: a failure here is retried, never skipped.
    for (let attempt = 1; ; attempt++) {
      try {
        await producer.send(dlqTopicOf(topic), { key: message.key, value: message.value, headers });
        break;
      } catch (sendError) {
        this.options.logger?.error(`${consumerName}: dead letter to ${dlqTopicOf(topic)} failed (attempt ${attempt}): ${(sendError as Error).message}`);
        await sleep(Math.min(this.retry.maxDelayMs, this.retry.initialDelayMs * 2 ** Math.min(attempt, 10)));
      }
    }
    metrics.deadLettered.inc({ topic, consumer: consumerName, reason });
    this.options.logger?.warn(`${consumerName}: ${topic}[${partition}]@${message.offset} dead-lettered (${reason}): ${error}`);
  }
}
