import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Consumer, Kafka } from 'kafkajs';
import { setGroupOffsets } from '@mlops/config';
import { KAFKA, PermanentHandlerError, describeFailure, isTransientError } from '@mlops/messaging';
import { SubscriptionStore } from '../infrastructure/subscription-store';
import type { IngestionConfig } from '../config';
import { INGESTION_CONFIG } from '../tokens';
import { IngestTopicMessageService, type TopicPosition } from './consume-topic/ingest-topic-message.service';
import { TopicDeadLetters } from './consume-topic/topic-dead-letters';
import { type StartPosition, type Subscription, type TopicMessage, consumerGroupOf } from './subscription';

/** Where a subscription's consumer group stands on one partition of its topic. */
export interface PartitionPosition {
  partition: number;
  /** The next offset the group will read, or null before its first commit. */
  committedOffset: string | null;
  highWatermark: string;
  /** Messages published and not yet consumed. */
  lag: string;
}

interface Running {
  readonly updatedAt: number;
  readonly consumer: Consumer;
}

const key = (s: Pick<Subscription, 'dataset' | 'topic'>): string => `${s.dataset}\u0000${s.topic}`;
/** Most consecutive messages of a partition whose effects share one transaction. */
const GROUP = 200;
/** Tries of a message failing for another reason than an unavailable dependency (a bug) before it is dead-lettered. */
const FAILING_ATTEMPTS = 5;

type Item = { position: TopicPosition; message: TopicMessage & { timestamp: string } };

/**
 * Runs one Kafka consumer per subscription, in the subscription's own consumer group, on every replica. Replicas
 * learn of subscriptions by polling the table (INGESTION_SUBSCRIPTION_POLL_MS); the replica that served the
 * change applies it at once. A consumer whose topic is gone is retried at the next poll.
 */
@Injectable()
export class TopicConsumers implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('ingestion:subscriptions');
  private readonly running = new Map<string, Running>();
  private timer?: NodeJS.Timeout;
  private syncing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    private readonly store: SubscriptionStore,
    private readonly messages: IngestTopicMessageService,
    private readonly deadLetters: TopicDeadLetters,
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
  ) {}

  onApplicationBootstrap(): void {
    void this.sync();
    this.timer = setInterval(() => void this.sync(), this.config.INGESTION_SUBSCRIPTION_POLL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.syncing;
    await Promise.all([...this.running.keys()].map((k) => this.stop(k)));
  }

  /** Brings the running consumers in line with the table; calls queue up, one sync at a time. */
  sync(): Promise<void> {
    this.syncing = this.syncing.then(() =>
      this.syncOnce().catch((error: unknown) =>
        this.logger.warn(`subscriptions not synced: ${(error as Error).message}`),
      ),
    );
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    if (this.stopped) return;
    const wanted = new Map((await this.store.all()).map((s) => [key(s), s]));
    for (const [k, run] of this.running) {
      const want = wanted.get(k);
      if (!want || want.updatedAt.getTime() !== run.updatedAt) await this.stop(k);
    }
    for (const [k, subscription] of wanted) {
      if (this.running.has(k) || this.stopped) continue;
      try {
        await this.start(subscription);
      } catch (error) {
        this.logger.warn(
          `${consumerGroupOf(subscription.dataset, subscription.topic)} not started (next try at the next poll): ${(error as Error).message}`,
        );
      }
    }
  }

  private async start(subscription: Subscription): Promise<void> {
    const groupId = consumerGroupOf(subscription.dataset, subscription.topic);
    const consumer = this.kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      // An idle fetch's wait at the broker, also what stopping waits for: the Java client's fetch.max.wait.ms.
      maxWaitTimeInMs: 500,
      // kafkajs restarts a crashed consumer on a timer; once stopped, it must not come back.
      retry: { restartOnFailure: async () => this.running.get(key(subscription))?.consumer === consumer },
    });
    this.running.set(key(subscription), { updatedAt: subscription.updatedAt.getTime(), consumer });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: subscription.topic, fromBeginning: subscription.start === 'earliest' });
      const current = () => this.running.get(key(subscription))?.consumer === consumer;
      await consumer.run({
        autoCommit: true,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 3,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary }) => {
          const items: Item[] = batch.messages.map((message) => ({
            position: { topic: batch.topic, partition: batch.partition, offset: message.offset },
            message: {
              key: message.key?.toString('utf8') ?? null,
              value: message.value?.toString('utf8') ?? null,
              timestamp: message.timestamp,
            },
          }));
          for (let i = 0; i < items.length; i += GROUP) {
            if (!isRunning() || isStale()) return;
            const group = items.slice(i, i + GROUP);
            try {
              // Fast path: the group's effects in one transaction; any failure rolls it back and it goes one by one.
              await this.messages.ingestMany(subscription, group);
            } catch {
              for (const item of group) {
                await this.ingestOne(groupId, subscription, item, heartbeat, current);
                resolveOffset(item.position.offset);
              }
            }
            resolveOffset(group[group.length - 1]!.position.offset);
            await heartbeat();
          }
          // Offsets commit only after the transactions: what failed waits and is tried again, never skipped.
          await commitOffsetsIfNecessary();
        },
      });
    } catch (error) {
      this.running.delete(key(subscription));
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  /**
   * One message, in a transaction of its own. While a dependency is unavailable (Postgres away) it waits and is tried
   * again with backoff, without bound, until it answers or the consumer stops; any other failure is tried
   * FAILING_ATTEMPTS times (a PermanentHandlerError once), then the message is dead-lettered and the partition moves on.
   */
  private async ingestOne(
    groupId: string,
    subscription: Subscription,
    item: Item,
    heartbeat: () => Promise<void>,
    current: () => boolean,
  ): Promise<void> {
    const { topic, partition, offset } = item.position;
    let failing = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.messages.ingest(subscription, item.position, item.message);
        return;
      } catch (error) {
        if (!current()) throw error;
        const unavailable = isTransientError(error);
        if (!unavailable) {
          failing++;
          if (error instanceof PermanentHandlerError || failing >= FAILING_ATTEMPTS) {
            const reason = error instanceof PermanentHandlerError ? 'rejected-by-handler' : 'retries-exhausted';
            await this.deadLetters.send(subscription, item.position, item.message, reason, error, failing);
            return;
          }
        }
        if (attempt === 1 || attempt % 10 === 0)
          this.logger.warn(
            `${groupId}: ${topic}[${partition}]@${offset} ${unavailable ? 'waits for a dependency' : 'failed'} (try ${attempt}): ${describeFailure(error)}`,
          );
        await sleep(
          unavailable ? Math.min(10_000, 100 * 2 ** Math.min(attempt, 10)) : 100 * 2 ** Math.min(failing - 1, 10),
        );
        await heartbeat().catch(() => undefined);
      }
    }
  }

  private async stop(k: string): Promise<void> {
    const run = this.running.get(k);
    this.running.delete(k);
    await run?.consumer.disconnect().catch((error: unknown) => this.logger.warn(`stop: ${(error as Error).message}`));
  }

  /** Whether the topic exists (no topic is created by asking). */
  async topicExists(topic: string): Promise<boolean> {
    return this.withAdmin(async (admin) => (await admin.listTopics()).includes(topic));
  }

  /** Commits the new group's starting offsets: the end of each partition (`latest`) or its start. */
  async positionNewGroup(dataset: string, topic: string, start: StartPosition): Promise<void> {
    const offsets = await this.withAdmin((admin) => admin.fetchTopicOffsets(topic));
    await setGroupOffsets(this.kafka, consumerGroupOf(dataset, topic), [
      {
        topic,
        partitions: offsets.map((o) => ({ partition: o.partition, offset: start === 'latest' ? o.high : o.low })),
      },
    ]);
  }

  /** The committed offset, high watermark and lag of a subscription's group on each partition. */
  async positions(dataset: string, topic: string): Promise<PartitionPosition[]> {
    return this.withAdmin(async (admin) => {
      const ends = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({ groupId: consumerGroupOf(dataset, topic), topics: [topic] });
      return ends
        .map((end) => {
          const offset = committed?.partitions.find((p) => p.partition === end.partition)?.offset;
          const at = offset === undefined || Number(offset) < 0 ? null : offset;
          const lag = BigInt(end.high) - BigInt(at ?? end.low);
          return {
            partition: end.partition,
            committedOffset: at,
            highWatermark: end.high,
            lag: String(lag < 0n ? 0n : lag),
          };
        })
        .sort((a, b) => a.partition - b.partition);
    });
  }

  private async withAdmin<T>(work: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      return await work(admin);
    } finally {
      await admin.disconnect();
    }
  }
}
