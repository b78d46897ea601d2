/**
 * How long a new consumer group takes to be positioned, and a consumer to stop: what every replica start, test
 * reader and new subscription pays. In the same run, on the same topics:
 *   positioning a group on BENCH_TOPICS topics: kafkajs' admin.setOffsets (one topic at a time; the baseline) against
 *   setGroupOffsets (libs/config: every topic at once, one short-lived member);
 *   stopping an idle consumer: kafkajs' default fetch wait (5 s) against the runner's (500 ms).
 * Bounded: BENCH_ROUNDS rounds (default 3) of each; 127.0.0.1 only (the stack of bench/run.sh).
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaKeys, kafkaSecurity, loadConfig, setGroupOffsets } from '@mlops/config';
import { EventTypes } from '@mlops/contracts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TOPICS = [EventTypes.PredictionRequestedV1, EventTypes.AuthTokenChangedV1, EventTypes.ModelPromotedV1].slice(
  0,
  Number(process.env.BENCH_TOPICS ?? 2),
);

if (!process.env.KAFKA_BROKERS) throw new Error('KAFKA_BROKERS is not set: run with bash bench/run.sh groups');
const connection = loadConfig('bench', kafkaKeys);
const kafka = new Kafka({
  clientId: 'bench-groups',
  brokers: connection.KAFKA_BROKERS,
  ...kafkaSecurity(connection, 'bench'),
  logLevel: logLevel.ERROR,
});

async function timed(run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

/** Each topic's end, per partition, as setOffsets and setGroupOffsets take it. */
async function ends(): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await Promise.all(
      TOPICS.map(async (topic) => ({
        topic,
        partitions: (await admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, offset: o.high })),
      })),
    );
  } finally {
    await admin.disconnect();
  }
}

/**
 * A consumer of a fresh group that has joined and fetched once, stopped 100 ms into its next (empty) fetch: the ms
 * its disconnect takes (it waits for that fetch to return).
 */
async function stopTime(maxWaitTimeInMs: number | undefined): Promise<number> {
  const consumer = kafka.consumer({
    groupId: `bench-stop-${randomUUID().slice(0, 8)}`,
    ...(maxWaitTimeInMs === undefined ? {} : { maxWaitTimeInMs }),
  });
  await consumer.connect();
  await consumer.subscribe({ topics: TOPICS, fromBeginning: false });
  const fetched = new Promise<void>((resolve) => consumer.on(consumer.events.FETCH, () => resolve()));
  await consumer.run({ eachMessage: async () => undefined });
  await fetched;
  await new Promise((resolve) => setTimeout(resolve, 100));
  return timed(() => consumer.disconnect());
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const starts = await ends();
  const baseline: number[] = [];
  const ours: number[] = [];
  const stopDefault: number[] = [];
  const stopOurs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const group = `bench-setoffsets-${randomUUID().slice(0, 8)}`;
      baseline.push(
        await timed(async () => {
          for (const start of starts) await admin.setOffsets({ groupId: group, ...start });
        }),
      );
    } finally {
      await admin.disconnect();
    }
    ours.push(await timed(() => setGroupOffsets(kafka, `bench-groupoffsets-${randomUUID().slice(0, 8)}`, starts)));
    stopDefault.push(await stopTime(undefined));
    stopOurs.push(await stopTime(500));
  }
  const line = (what: string, values: number[], base: number[]) =>
    console.log(
      `  ${what.padEnd(58)} median ${median(values).toFixed(0).padStart(6)} ms  (${values.map((v) => v.toFixed(0)).join(', ')})  ${(median(base) / median(values)).toFixed(1)}x faster than the baseline`,
    );
  console.log(`bench/groups: ${ROUNDS} rounds, ${TOPICS.length} topics (${TOPICS.join(', ')})`);
  line(`position a new group: admin.setOffsets per topic (baseline)`, baseline, baseline);
  line(`position a new group: setGroupOffsets, every topic at once`, ours, baseline);
  line(`stop an idle consumer: kafkajs' 5 s fetch wait (baseline)`, stopDefault, stopDefault);
  line(`stop an idle consumer: the runner's 500 ms fetch wait`, stopOurs, stopDefault);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
