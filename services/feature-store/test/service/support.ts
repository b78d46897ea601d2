// Helpers of the feature-store service tests; the ones every integration test shares come from @mlops/testing.
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { KafkaMessage } from 'kafkajs';
import { loadConfig } from '@mlops/config';
import { EventTypes } from '@mlops/contracts';
import { startGroupAtEnd } from '@mlops/messaging';
import { TEST_ADMIN_TOKEN, header, kafkaTestEnv, readTopicAs, requireEnv, testKafka, uid } from '@mlops/testing';
import { type FeatureStoreConfig, FeatureStoreConfigSpec } from '../../src/config';

export { eventually, requireEnv } from '@mlops/testing';

/** A config against the real stack, with this process's own chdb data directory and artifact directory. */
export async function testConfig(
  overrides: Record<string, string> = {},
): Promise<{ config: FeatureStoreConfig; clickhouseDir: string; artifactDir: string }> {
  const clickhouseDir = await mkdtemp(join(tmpdir(), 'fs-service-chdb-'));
  const artifactDir = await mkdtemp(join(tmpdir(), 'fs-service-artifacts-'));
  // Its own consumer group, starting at the end of the topics: another feature-store process (npm start,
  // a bench) must not take our events, and the history of earlier runs is not replayed.
  const group = uid('feature-store-test');
  await startGroupAtEnd(testKafka('feature-store-test'), group, [
    EventTypes.DatasetRegisteredV1,
    EventTypes.DataValidatedV1,
    EventTypes.DatasetSnapshotRequestedV1,
    EventTypes.FeaturesExportRequestedV1,
  ]);
  const config = loadConfig('feature-store', FeatureStoreConfigSpec, {
    ...kafkaTestEnv(),
    DATABASE_URL: requireEnv('DATABASE_URL'),
    LOG_LEVEL: 'error',
    AUTH_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
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

export interface Seen {
  key: string;
  id: string;
  subject: string | undefined;
  headers: Record<string, string>;
  data: Record<string, any>;
}

/** Reads a topic from the beginning until `until` says the matching events are enough. */
export function readTopic(
  topic: string,
  filter: (seen: Seen) => boolean,
  until: (matched: Seen[]) => boolean,
  timeoutMs = 60_000,
): Promise<Seen[]> {
  return readTopicAs(testKafka('feature-store-test-reader'), topic, seenOf, filter, until, timeoutMs);
}

function seenOf(message: KafkaMessage): Seen {
  return {
    key: message.key?.toString() ?? '',
    id: header(message, 'ce_id') ?? '',
    subject: header(message, 'ce_subject'),
    headers: Object.fromEntries(Object.keys(message.headers ?? {}).map((name) => [name, header(message, name) ?? ''])),
    data: JSON.parse(message.value?.toString() ?? 'null') as Record<string, any>,
  };
}
