import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Consumer, Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import { loadConfig } from '@mlops/config';
import { type IngestionConfig, IngestionConfigSpec } from '../src/config';

/** Integration tests run against the stack `npm test` (or `infra/stack.sh up`) starts; they refuse to run without it. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with \`npm test\`, or source .data/stack.env after infra/stack.sh up`);
  return value;
}

export const HASH_KEY = 'test-hash-key-0123456789abcdef0123456789';

export function testConfig(overrides: Record<string, string> = {}): IngestionConfig {
  return loadConfig('ingestion', IngestionConfigSpec, {
    KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'),
    DATABASE_URL: requireEnv('DATABASE_URL'),
    LOG_LEVEL: 'error',
    // Its own consumer group: another ingestion process (npm start, a bench) must not take our events.
    CONSUMER_GROUP: `ingestion-test-${randomUUID().slice(0, 8)}`,
    INGESTION_HASH_KEY: HASH_KEY,
    ...overrides,
  });
}

export function uid(prefix: string): string {
  return `${prefix}_${randomUUID().slice(0, 8)}`;
}

export async function eventually<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

export function header(message: KafkaMessage, name: string): string | undefined {
  const value = message.headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

export interface Seen {
  topic: string;
  key: string;
  id: string;
  subject: string | undefined;
  data: Record<string, unknown>;
}

/** Reads topics from the beginning and keeps the events whose subject (the dataset) starts with a prefix. */
export class TopicTap {
  readonly seen: Seen[] = [];
  private consumer?: Consumer;

  constructor(
    private readonly topics: string[],
    private readonly subjectPrefix: string,
  ) {}

  async start(): Promise<void> {
    const kafka = new Kafka({ clientId: 'ingestion-test-tap', brokers: requireEnv('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING });
    this.consumer = kafka.consumer({ groupId: uid('ingestion-tap') });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topics, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ topic, message }) => {
        const subject = header(message, 'ce_subject');
        if (!subject?.startsWith(this.subjectPrefix)) return;
        this.seen.push({ topic, key: message.key?.toString() ?? '', id: header(message, 'ce_id') ?? '', subject, data: JSON.parse(message.value!.toString()) as Record<string, unknown> });
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }

  of(topic: string, dataset: string): Seen[] {
    return this.seen.filter((s) => s.topic === topic && s.subject === dataset);
  }
}
