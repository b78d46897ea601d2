/**
 * Events/s through our producer -> broker -> consumer runner (schema validation on both sides, inbox
 * transaction per event) against raw kafkajs produce/consume of the same bytes, in the same run.
 * Bounded: BENCH_EVENTS events per path (default 5000), each path at most BENCH_TIMEOUT_S seconds.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, type Message, logLevel } from 'kafkajs';
import { kafkaKeys, kafkaSecurity, loadConfig } from '@mlops/config';
import { Registry } from 'prom-client';
import { EventTypes, type EventData, exampleEventData } from '@mlops/contracts';
import {
  EventConsumerRunner,
  EventProducer,
  MessagingMetrics,
  encodeEvent,
  messagingMigrations,
  newEvent,
  startGroupAtEnd,
} from '@mlops/messaging';
import { createPostgresDataSource } from '@mlops/storage';

const TYPE = EventTypes.PredictionLoggedV1;
const N = Number(process.env.BENCH_EVENTS ?? 5000);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_S ?? 120) * 1000;

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run with bash bench/run.sh messaging`);
  return v;
}

need('KAFKA_BROKERS');
const connection = loadConfig('bench', kafkaKeys);
const kafka = new Kafka({
  clientId: 'bench',
  brokers: connection.KAFKA_BROKERS,
  ...kafkaSecurity(connection, 'bench'),
  logLevel: logLevel.ERROR,
});

/** A fresh consumer group positioned at the end of the topic, so only this run's messages count. */
async function groupAtEnd(topic: string): Promise<string> {
  const groupId = `bench-${randomUUID().slice(0, 8)}`;
  await startGroupAtEnd(kafka, groupId, [topic]);
  return groupId;
}

function events(): ReturnType<typeof newEvent<typeof TYPE>>[] {
  const data = exampleEventData(TYPE) as EventData<typeof TYPE>;
  return Array.from({ length: N }, (_, i) =>
    newEvent(TYPE, data, { source: 'urn:mlops:bench', key: `entity-${i % 1000}` }),
  );
}

async function waitFor(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`bench timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function rawPath(): Promise<number> {
  const messages: Message[] = events().map((e) => {
    const m = encodeEvent(e);
    return { key: m.key, value: m.value, headers: m.headers };
  });
  const groupId = await groupAtEnd(TYPE);
  const consumer = kafka.consumer({ groupId });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  let received = 0;
  await Promise.all([consumer.connect(), producer.connect()]);
  await consumer.subscribe({ topic: TYPE });
  await consumer.run({ eachMessage: async () => void received++ });
  const started = performance.now();
  for (let i = 0; i < messages.length; i += 500)
    await producer.send({ topic: TYPE, acks: -1, messages: messages.slice(i, i + 500) });
  await waitFor(() => received >= N, 'raw consumer');
  const seconds = (performance.now() - started) / 1000;
  await Promise.all([consumer.disconnect(), producer.disconnect()]);
  return N / seconds;
}

async function platformPath(): Promise<number> {
  const schema = `bench_${randomUUID().slice(0, 8)}`;
  const dataSource = await createPostgresDataSource({
    url: need('DATABASE_URL'),
    schema,
    migrations: [...messagingMigrations],
    poolSize: 4,
  });
  const metrics = MessagingMetrics.for(new Registry());
  const producer = new EventProducer({ kafka, metrics });
  const consumerName = await groupAtEnd(TYPE);
  const runner = new EventConsumerRunner({
    kafka,
    consumerName,
    producer,
    metrics,
    inbox: { dataSource, schema },
    fromBeginning: false,
  });
  let handled = 0;
  runner.on(TYPE, async () => void handled++);
  await producer.connect();
  await runner.start();
  const batch = events();
  const started = performance.now();
  await producer.publishMany(batch);
  await waitFor(() => handled >= N, 'consumer runner');
  const seconds = (performance.now() - started) / 1000;
  await runner.stop();
  await producer.disconnect();
  await dataSource.query(`DROP SCHEMA "${schema}" CASCADE`);
  await dataSource.destroy();
  return N / seconds;
}

async function main(): Promise<void> {
  console.log(
    `bench/messaging: ${N} events of ${TYPE} (${encodeEvent(events()[0]!).value.length} bytes of data) per path`,
  );
  const raw = await rawPath();
  const platform = await platformPath();
  console.log(`raw kafkajs produce->consume          ${raw.toFixed(0).padStart(8)} events/s`);
  console.log(`platform producer->runner (+inbox)    ${platform.toFixed(0).padStart(8)} events/s`);
  console.log(`ratio platform/raw                    ${(platform / raw).toFixed(3).padStart(8)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
