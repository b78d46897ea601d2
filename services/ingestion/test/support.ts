// Helpers of the ingestion tests; the ones every integration test shares come from @mlops/testing.
import type { Consumer } from 'kafkajs';
import { loadConfig } from '@mlops/config';
import {
  TEST_ADMIN_TOKEN,
  eventually,
  header,
  kafkaTestEnv,
  positionGroupAt,
  requireEnv,
  testKafka,
  uid,
} from '@mlops/testing';
import { type IngestionConfig, IngestionConfigSpec } from '../src/config';

export { eventually } from '@mlops/testing';

export const HASH_KEY = 'test-hash-key-0123456789abcdef0123456789';

export function testConfig(overrides: Record<string, string> = {}): IngestionConfig {
  return loadConfig('ingestion', IngestionConfigSpec, {
    ...kafkaTestEnv(),
    DATABASE_URL: requireEnv('DATABASE_URL'),
    LOG_LEVEL: 'error',
    AUTH_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    // Its own consumer group: another ingestion process (npm start, a bench) must not take our events.
    CONSUMER_GROUP: uid('ingestion-test'),
    INGESTION_HASH_KEY: HASH_KEY,
    ...overrides,
  });
}

export interface Seen {
  topic: string;
  key: string;
  id: string;
  subject: string | undefined;
  data: Record<string, unknown>;
}

/** Reads topics from the test process's start and keeps the events whose subject (the dataset) starts with a prefix. */
export class TopicTap {
  readonly seen: Seen[] = [];
  private consumer?: Consumer;
  private readonly kafka = testKafka('ingestion-test-tap');
  /** Per `topic/partition`: the next offset to read (where the tap started, until it read a message there). */
  private readonly next = new Map<string, bigint>();

  constructor(
    private readonly topics: string[],
    private readonly subjectPrefix: string,
  ) {}

  async start(): Promise<void> {
    const groupId = uid('ingestion-tap');
    for (const { topic, partitions } of await positionGroupAt(this.kafka, groupId, this.topics))
      for (const { partition, offset } of partitions) this.next.set(`${topic}/${partition}`, BigInt(offset));
    this.consumer = this.kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topics, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        this.next.set(`${topic}/${partition}`, BigInt(message.offset) + 1n);
        const subject = header(message, 'ce_subject');
        if (!subject?.startsWith(this.subjectPrefix)) return;
        this.seen.push({
          topic,
          key: message.key?.toString() ?? '',
          id: header(message, 'ce_id') ?? '',
          subject,
          data: JSON.parse(message.value!.toString()) as Record<string, unknown>,
        });
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }

  /**
   * Waits until the tap has read every message the topic holds now: events keyed apart sit on other partitions, so
   * seeing one does not mean an earlier one of another partition has been read.
   */
  async readUpToNow(topic: string): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
    await eventually(
      () => ends.every(({ partition, high }) => (this.next.get(`${topic}/${partition}`) ?? 0n) >= BigInt(high)),
      `the tap to read ${topic} up to its end`,
    );
  }

  of(topic: string, dataset: string): Seen[] {
    return this.seen.filter((s) => s.topic === topic && s.subject === dataset);
  }
}
