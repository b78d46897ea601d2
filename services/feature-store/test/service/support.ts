import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import { loadConfig } from '@mlops/config';
import { EventTypes } from '@mlops/contracts';
import { startGroupAtEnd } from '@mlops/messaging';
import { type FeatureStoreConfig, FeatureStoreConfigSpec } from '../../src/config';

/** Integration tests run against the stack `npm test` (or `infra/stack.sh up`) starts; they refuse to run without it. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with \`npm test\`, or source .data/stack.env after infra/stack.sh up`);
  return value;
}

/** A config against the real stack, with this process's own chdb data directory and artifact directory. */
export async function testConfig(overrides: Record<string, string> = {}): Promise<{ config: FeatureStoreConfig; clickhouseDir: string; artifactDir: string }> {
  const clickhouseDir = await mkdtemp(join(tmpdir(), 'fs-service-chdb-'));
  const artifactDir = await mkdtemp(join(tmpdir(), 'fs-service-artifacts-'));
  // Its own consumer group, starting at the end of the topics: another feature-store process (npm start,
  // a bench) must not take our events, and the history of earlier runs is not replayed.
  const group = `feature-store-test-${randomUUID().slice(0, 8)}`;
  const admin = new Kafka({ clientId: 'feature-store-test', brokers: requireEnv('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING });
  await startGroupAtEnd(admin, group, [EventTypes.DatasetRegisteredV1, EventTypes.DataValidatedV1, EventTypes.DatasetSnapshotRequestedV1]);
  const config = loadConfig('feature-store', FeatureStoreConfigSpec, {
    KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'),
    DATABASE_URL: requireEnv('DATABASE_URL'),
    LOG_LEVEL: 'error',
    CONSUMER_GROUP: group,
    CLICKHOUSE_DATA_DIR: clickhouseDir,
    ARTIFACT_STORE_URL: pathToFileURL(artifactDir).href,
    ...overrides,
  });
  return { config, clickhouseDir, artifactDir };
}

/** Lowercase, so that it fits dataset and view names. */
export function runId(prefix: string): string {
  return `${prefix}${randomUUID().replace(/-/g, '').slice(0, 10)}`;
}

export async function eventually<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(150);
  }
}

export function header(message: KafkaMessage, name: string): string | undefined {
  const value = message.headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

export interface Seen {
  key: string;
  id: string;
  subject: string | undefined;
  headers: Record<string, string>;
  data: Record<string, any>;
}

/** Reads a topic from the beginning until `until` says the matching events are enough. */
export async function readTopic(topic: string, filter: (seen: Seen) => boolean, until: (matched: Seen[]) => boolean, timeoutMs = 60_000): Promise<Seen[]> {
  const kafka = new Kafka({ clientId: 'feature-store-test-reader', brokers: requireEnv('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: runId('fs-reader-') });
  const matched: Seen[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const seen: Seen = {
          key: message.key?.toString() ?? '',
          id: header(message, 'ce_id') ?? '',
          subject: header(message, 'ce_subject'),
          headers: Object.fromEntries(Object.keys(message.headers ?? {}).map((name) => [name, header(message, name) ?? ''])),
          data: JSON.parse(message.value?.toString() ?? 'null') as Record<string, any>,
        };
        if (filter(seen)) matched.push(seen);
      },
    });
    await eventually(() => until(matched), `events on ${topic}`, timeoutMs);
    return matched;
  } finally {
    await consumer.disconnect();
  }
}
