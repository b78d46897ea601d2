// Helpers of the messaging tests; the ones every integration test shares come from @mlops/testing.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { createPostgresDataSource } from '@mlops/storage';
import { databaseUrl } from '@mlops/testing';
import { EventProducer, MessagingMetrics, messagingMigrations } from '../src';

export {
  databaseUrl,
  endLeftoverSockets,
  eventually,
  header,
  kafkaBrokers,
  readTopic,
  testKafka,
  uid,
} from '@mlops/testing';

/** A fresh Postgres schema with the messaging tables and an `effects` table that shows duplicates. */
export async function effectsStore(schema: string): Promise<DataSource> {
  const dataSource = await createPostgresDataSource({
    url: databaseUrl(),
    schema,
    migrations: [...messagingMigrations],
    poolSize: 4,
  });
  await dataSource.query(
    `CREATE TABLE IF NOT EXISTS "${schema}".effects (event_id text NOT NULL, consumer text NOT NULL, detail jsonb, at timestamptz DEFAULT now())`,
  );
  return dataSource;
}

export async function dropSchema(dataSource: DataSource, schema: string): Promise<void> {
  await dataSource.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await dataSource.destroy();
}

export function newProducer(
  kafka: Kafka,
  registry = new Registry(),
): { producer: EventProducer; metrics: MessagingMetrics; registry: Registry } {
  const metrics = MessagingMetrics.for(registry);
  return { producer: new EventProducer({ kafka, metrics }), metrics, registry };
}

const repoRoot = path.resolve(__dirname, '../../../..');

export async function restartKafka(): Promise<void> {
  await promisify(execFile)('bash', [path.join(repoRoot, 'infra/stack.sh'), 'restart-kafka'], { timeout: 120_000 });
}
