import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { createPostgresDataSource } from '@mlops/storage';
import { EventProducer, MessagingMetrics, messagingMigrations } from '../src';

/** Integration tests run against the stack `npm test` starts; they refuse to run without it. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with \`npm test\`, which starts Kafka and Postgres`);
  return value;
}

export const brokers = (): string[] => requireEnv('KAFKA_BROKERS').split(',');
export const databaseUrl = (): string => requireEnv('DATABASE_URL');

export function uid(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export function testKafka(clientId: string): Kafka {
  return new Kafka({ clientId, brokers: brokers(), logLevel: logLevel.NOTHING, retry: { initialRetryTime: 200, retries: 12, maxRetryTime: 5_000 } });
}

export async function eventually<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** A fresh Postgres schema with the messaging tables and an `effects` table that shows duplicates. */
export async function effectsStore(schema: string): Promise<DataSource> {
  const dataSource = await createPostgresDataSource({ url: databaseUrl(), schema, migrations: [...messagingMigrations], poolSize: 4 });
  await dataSource.query(`CREATE TABLE IF NOT EXISTS "${schema}".effects (event_id text NOT NULL, consumer text NOT NULL, detail jsonb, at timestamptz DEFAULT now())`);
  return dataSource;
}

export async function dropSchema(dataSource: DataSource, schema: string): Promise<void> {
  await dataSource.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await dataSource.destroy();
}

export function newProducer(kafka: Kafka, registry = new Registry()): { producer: EventProducer; metrics: MessagingMetrics; registry: Registry } {
  const metrics = MessagingMetrics.for(registry);
  return { producer: new EventProducer({ kafka, metrics }), metrics, registry };
}

/** Reads a topic from the beginning until `until` says the collected messages are enough. */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  filter: (message: KafkaMessage) => boolean,
  until: (matched: KafkaMessage[]) => boolean,
  timeoutMs = 60_000,
): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId: uid('reader') });
  const matched: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (filter(message)) matched.push(message);
      },
    });
    await eventually(async () => until(matched), `messages on ${topic}`, timeoutMs);
    return matched;
  } finally {
    await consumer.disconnect();
  }
}

export function header(message: KafkaMessage, name: string): string | undefined {
  const value = message.headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

const repoRoot = path.resolve(__dirname, '../../../..');

export async function restartKafka(): Promise<void> {
  await promisify(execFile)('bash', [path.join(repoRoot, 'infra/stack.sh'), 'restart-kafka'], { timeout: 120_000 });
}
