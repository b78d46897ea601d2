// Restarts the shared broker, so `npm test` runs this file alone, after every other test file.
// After the restart kafkajs can keep one connection of the consumer open past its disconnect (the group
// coordinator it joined through, dropped from its broker pool; see endLeftoverSockets): `after` ends it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DataSource } from 'typeorm';
import { EventTypes, exampleEventData } from '@mlops/contracts';
import {
  EventConsumerRunner,
  type EventProducer,
  type InboxHandlerContext,
  type MessagingMetrics,
  newEvent,
} from '../src';
import {
  dropSchema,
  effectsStore,
  endLeftoverSockets,
  eventually,
  newProducer,
  restartKafka,
  testKafka,
  uid,
} from './support';

const TYPE = EventTypes.TrainingRequestedV1;
const kafka = testKafka('broker-restart-it');
const schema = uid('restart_it').replace(/-/g, '_');
let dataSource: DataSource;
let producer: EventProducer;
let metrics: MessagingMetrics;

async function effects(consumer: string): Promise<{ total: number; distinct: number }> {
  const [row] = await dataSource.query(
    `SELECT count(*)::int AS total, count(DISTINCT event_id)::int AS distinct FROM "${schema}".effects WHERE consumer = $1`,
    [consumer],
  );
  return row;
}

before(async () => {
  dataSource = await effectsStore(schema);
  ({ producer, metrics } = newProducer(kafka));
  await producer.connect();
});

after(async () => {
  await producer.disconnect();
  await dropSchema(dataSource, schema);
  await endLeftoverSockets(kafka);
});

test('a broker restart mid-stream loses nothing and doubles no effect', { timeout: 240_000 }, async () => {
  const subject = uid('restart');
  const name = uid('restart-consumer');
  const runner = new EventConsumerRunner<InboxHandlerContext>({
    kafka,
    consumerName: name,
    producer,
    metrics,
    inbox: { dataSource, schema },
    retry: { attempts: 20, initialDelayMs: 200, maxDelayMs: 2_000 },
  });
  runner.on(TYPE, async (event, ctx) => {
    if (event.subject !== subject) return;
    await ctx.manager.query(`INSERT INTO "${schema}".effects (event_id, consumer) VALUES ($1, $2)`, [event.id, name]);
  });
  await runner.start();
  try {
    const total = 600;
    const keys = Array.from({ length: 17 }, (_, k) => `entity-${k}`);
    const events = Array.from({ length: total }, (_, i) =>
      newEvent(TYPE, exampleEventData(TYPE), { source: 'urn:mlops:test', key: keys[i % 17]!, subject }),
    );
    // One marker per key (so per partition), sent after the stream: once each has its effect, any second
    // effect of an earlier event of its partition would be there too.
    const markers = keys.map((key) =>
      newEvent(TYPE, exampleEventData(TYPE), { source: 'urn:mlops:test', key, subject }),
    );
    let restarting = false;
    let sentWhileRestarting = 0;
    // Publishing keeps a steady pace while the broker goes away; a send that fails is sent again (same id).
    const publishAll = (async () => {
      for (let i = 0; i < total; i += 10) {
        const chunk = events.slice(i, i + 10);
        const during = restarting;
        for (let attempt = 1; ; attempt++) {
          try {
            await producer.publishMany(chunk);
            break;
          } catch (error) {
            if (attempt > 60) throw error;
            await new Promise((resolve) => setTimeout(resolve, 500));
          }
        }
        if (during) sentWhileRestarting += chunk.length;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    await eventually(async () => (await effects(name)).total >= 50, 'the stream to start');
    restarting = true;
    await restartKafka();
    restarting = false;
    await publishAll;
    await producer.publishMany(markers);
    assert.ok(
      sentWhileRestarting > 0 && sentWhileRestarting < total,
      `the restart happened mid-stream (${sentWhileRestarting} sent during it)`,
    );
    const markerIds = markers.map((m) => m.id);
    await eventually(
      async () =>
        ((
          await dataSource.query(`SELECT count(*)::int AS n FROM "${schema}".effects WHERE event_id = ANY($1)`, [
            markerIds,
          ])
        )[0].n as number) >= markers.length,
      'the effect of every marker',
      180_000,
    );
    assert.deepEqual(await effects(name), { total: total + markers.length, distinct: total + markers.length });
  } finally {
    await runner.stop();
  }
});
