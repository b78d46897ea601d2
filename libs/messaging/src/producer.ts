import type { Kafka, Message, Producer } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import { type EventType, assertEventData } from '@mlops/contracts';
import { type CloudEvent, type EncodedMessage, encodeEvent, encodeStructured } from './cloud-event';
import { EventTooLargeError } from './errors';
import type { MessagingMetrics } from './metrics';

export interface EventProducerOptions {
  kafka: Kafka;
  metrics: MessagingMetrics;
  /** Largest encoded value accepted; the broker's default message.max.bytes is 1 MiB. */
  maxEventBytes?: number;
  /** Most messages in one produce request. */
  maxBatchSize?: number;
  /**
   * CloudEvents content mode of `publish`: binary (attributes in ce_* headers, the default) or structured (one JSON
   * envelope, one header: cheaper to encode for kafkajs, for high-volume streams). Consumers decode both.
   */
  contentMode?: 'binary' | 'structured';
}

interface Pending {
  topic: string;
  message: Message;
  resolve: () => void;
  reject: (error: Error) => void;
}

export const DEFAULT_MAX_EVENT_BYTES = 1_000_000;

/**
 * Idempotent, acks=all producer. Calls made while a request is in flight are queued and sent together
 * in the next request, so batching follows load without a linger delay; requests go out one at a time,
 * which keeps per-key order.
 */
export class EventProducer {
  private readonly producer: Producer;
  private readonly maxEventBytes: number;
  private readonly maxBatchSize: number;
  private readonly encode: (event: CloudEvent) => EncodedMessage;
  private queue: Pending[] = [];
  private sending: Promise<void> = Promise.resolve();
  private scheduled = false;
  private connected = false;

  constructor(private readonly options: EventProducerOptions) {
    this.producer = options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
    this.maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    this.maxBatchSize = options.maxBatchSize ?? 500;
    this.encode = options.contentMode === 'structured' ? encodeStructured : encodeEvent;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    await this.flush();
    if (this.connected) await this.producer.disconnect();
    this.connected = false;
  }

  /** Validates the data against its schema (an invalid event is a bug: it throws here) and sends it. */
  publish<T extends EventType>(event: CloudEvent<T>): Promise<void> {
    assertEventData(event.type, event.data);
    const encoded = this.encode(event);
    if (encoded.value.length > this.maxEventBytes) {
      return Promise.reject(new EventTooLargeError(encoded.value.length, this.maxEventBytes, event.type));
    }
    return this.send(event.type, encoded);
  }

  publishMany(events: readonly CloudEvent[]): Promise<void> {
    return Promise.all(events.map((e) => this.publish(e))).then(() => undefined);
  }

  /** Sends an already encoded message (dead letters, outbox rows); no validation. */
  send(topic: string, message: Message): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topic, message, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves when everything queued so far is acknowledged (or failed). */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.scheduled) {
      this.drain();
      await this.sending.catch(() => undefined);
    }
    await this.sending.catch(() => undefined);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Calls made in the same tick join one request.
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    this.sending = this.sending.then(async () => {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatchSize);
        await this.sendBatch(batch);
      }
    });
  }

  private async sendBatch(batch: Pending[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) {
      const list = byTopic.get(p.topic) ?? [];
      list.push(p.message);
      byTopic.set(p.topic, list);
    }
    try {
      await this.producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
      for (const [topic, messages] of byTopic) this.options.metrics.produced.inc({ topic }, messages.length);
      for (const p of batch) p.resolve();
    } catch (error) {
      for (const p of batch) p.reject(error as Error);
    }
  }
}
