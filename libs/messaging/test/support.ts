// Helpers of the messaging tests; the ones every integration test shares come from @mlops/testing.
import { execFile } from 'node:child_process';
import { after, before } from 'node:test';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import type { DataSource, EntityManager } from 'typeorm';
import { createPostgresDataSource } from '@mlops/storage';
import { databaseUrl, testKafka, uid } from '@mlops/testing';
import {
  type ConsumerRunnerOptions,
  EventConsumerRunner,
  EventProducer,
  MessagingMetrics,
  messagingMigrations,
} from '../src';

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

/**
 * What the runner tests share, set up by hooks in the calling `describe`: a Kafka client, a fresh schema with the
 * messaging and effects tables, a connected producer, runners with an inbox there (stopped after the suite), and
 * the effects a handler records.
 */
export interface RunnerFixture {
  readonly kafka: Kafka;
  readonly schema: string;
  readonly dataSource: DataSource;
  readonly producer: EventProducer;
  readonly metrics: MessagingMetrics;
  /** A runner consuming as `consumerName` with an inbox in the fixture's schema. */
  runner(
    consumerName: string,
    options?: Pick<ConsumerRunnerOptions, 'retry' | 'redactDeadLetter'>,
  ): EventConsumerRunner;
  /** Records that `consumer` took effect for `eventId`, in the handler's inbox transaction. */
  recordEffect(manager: EntityManager, eventId: string, consumer: string): Promise<void>;
  /** The event ids `consumer` took effect for, in order of id. */
  effectsOf(consumer: string): Promise<string[]>;
}

export function runnerFixture(name: string): RunnerFixture {
  const kafka = testKafka(`${name}-it`);
  const schema = uid(name.replace(/-/g, '_')).replace(/-/g, '_');
  const runners: EventConsumerRunner[] = [];
  let state: { dataSource: DataSource; producer: EventProducer; metrics: MessagingMetrics } | undefined;
  const ready = () => {
    if (!state) throw new Error('the runner fixture is used before its hooks ran');
    return state;
  };
  before(async () => {
    const dataSource = await effectsStore(schema);
    const { producer, metrics } = newProducer(kafka);
    await producer.connect();
    state = { dataSource, producer, metrics };
  });
  after(async () => {
    for (const runner of runners) await runner.stop();
    await state?.producer.disconnect();
    if (state) await dropSchema(state.dataSource, schema);
  });
  return {
    kafka,
    schema,
    get dataSource() {
      return ready().dataSource;
    },
    get producer() {
      return ready().producer;
    },
    get metrics() {
      return ready().metrics;
    },
    runner(consumerName, options = {}) {
      const { dataSource, producer, metrics } = ready();
      const runner = new EventConsumerRunner({
        kafka,
        consumerName,
        producer,
        metrics,
        inbox: { dataSource, schema },
        ...options,
      });
      runners.push(runner);
      return runner;
    },
    async recordEffect(manager, eventId, consumer) {
      await manager.query(`INSERT INTO "${schema}".effects (event_id, consumer) VALUES ($1, $2)`, [eventId, consumer]);
    },
    async effectsOf(consumer) {
      const rows: Array<{ event_id: string }> = await ready().dataSource.query(
        `SELECT event_id FROM "${schema}".effects WHERE consumer = $1 ORDER BY event_id`,
        [consumer],
      );
      return rows.map((row) => row.event_id);
    },
  };
}
