// The inbox and outbox tables against the REAL Postgres (no broker): what is claimed once, what is published and deleted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { Message } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { EventTypes, exampleEventData } from '@mlops/contracts';
import {
  type CloudEvent,
  type EventProducer,
  MessagingMetrics,
  OutboxRelay,
  claimInInbox,
  claimManyInInbox,
  enqueueManyInOutbox,
  inboxKey,
  encodeEvent,
  messagingTables,
  newEvent,
  outboxChannel,
} from '../src';
import { dropSchema, effectsStore, eventually, uid } from './support';

const REQUESTED = EventTypes.TrainingRequestedV1;
const schema = uid('msg_tables').replace(/-/g, '_');
let dataSource: DataSource;

before(async () => {
  dataSource = await effectsStore(schema);
});

after(async () => {
  await dropSchema(dataSource, schema);
});

const event = (key = 'k'): CloudEvent =>
  newEvent(REQUESTED, exampleEventData(REQUESTED), { source: 'urn:mlops:test', key });

/** A producer that only records what it is asked to send. */
function recordingProducer(): { producer: EventProducer; sent: Array<{ topic: string; key: string }> } {
  const sent: Array<{ topic: string; key: string }> = [];
  const producer = {
    send: async (topic: string, message: Message) => void sent.push({ topic, key: String(message.key) }),
  } as unknown as EventProducer;
  return { producer, sent };
}

test('an event is claimed once per consumer', async () => {
  const e = event();
  const claims = [];
  for (const consumer of ['a', 'a', 'b'])
    claims.push(await dataSource.transaction((m) => claimInInbox(m, schema, consumer, e)));
  assert.deepEqual(claims, [true, false, true]);
});

test('a claim rolled back with its transaction can be made again', async () => {
  const e = event();
  await assert.rejects(
    dataSource.transaction(async (m) => {
      await claimInInbox(m, schema, 'a', e);
      throw new Error('the effect failed');
    }),
  );
  assert.equal(await dataSource.transaction((m) => claimInInbox(m, schema, 'a', e)), true);
});

test('claiming many answers only the events not claimed before', async () => {
  const [seen, fresh1, fresh2] = [event(), event(), event()];
  await dataSource.transaction((m) => claimInInbox(m, schema, 'many', seen));
  const claimed = await dataSource.transaction((m) => claimManyInInbox(m, schema, 'many', [seen, fresh1, fresh2]));
  assert.deepEqual(
    [...claimed].sort(),
    [inboxKey(fresh1.source, fresh1.id), inboxKey(fresh2.source, fresh2.id)].sort(),
  );
});

test('the relay publishes outbox rows in the order they were written, then deletes them', async () => {
  const relaySchema = uid('msg_relay').replace(/-/g, '_');
  const own = await effectsStore(relaySchema);
  try {
    await own.transaction((m) =>
      enqueueManyInOutbox(m, relaySchema, [event('first'), event('second'), event('third')]),
    );
    const { producer, sent } = recordingProducer();
    const relay = new OutboxRelay({
      dataSource: own,
      schema: relaySchema,
      producer,
      metrics: MessagingMetrics.for(new Registry()),
    });
    assert.equal(await relay.publishPending(), 3);
    assert.deepEqual(
      sent.map((s) => s.key),
      ['first', 'second', 'third'],
    );
    assert.equal(await relay.publishPending(), 0, 'nothing left to publish');
  } finally {
    await dropSchema(own, relaySchema);
  }
});

test('an outbox row of a rolled-back transaction is never published', async () => {
  const relaySchema = uid('msg_relay').replace(/-/g, '_');
  const own = await effectsStore(relaySchema);
  try {
    await assert.rejects(
      own.transaction(async (m) => {
        await enqueueManyInOutbox(m, relaySchema, [event('rolled-back')]);
        throw new Error('the state change failed');
      }),
    );
    const { producer, sent } = recordingProducer();
    await new OutboxRelay({
      dataSource: own,
      schema: relaySchema,
      producer,
      metrics: MessagingMetrics.for(new Registry()),
    }).publishPending();
    assert.deepEqual(sent, []);
  } finally {
    await dropSchema(own, relaySchema);
  }
});

/** Waits until `done` holds (at most 5 s). */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}

test('of two relays of one schema, only the one holding the lock publishes', async () => {
  const relaySchema = uid('msg_relay').replace(/-/g, '_');
  const own = await effectsStore(relaySchema);
  const metrics = MessagingMetrics.for(new Registry());
  const holder = recordingProducer();
  const other = recordingProducer();
  // The holder polls slowly, the other fast: without the lock the other would take the next row first.
  const first = new OutboxRelay({
    dataSource: own,
    schema: relaySchema,
    producer: holder.producer,
    metrics,
    pollIntervalMs: 300,
  });
  const second = new OutboxRelay({
    dataSource: own,
    schema: relaySchema,
    producer: other.producer,
    metrics,
    pollIntervalMs: 10,
  });
  try {
    first.start();
    await own.transaction((m) => enqueueManyInOutbox(m, relaySchema, [event('one')]));
    await until(() => holder.sent.length === 1);
    second.start();
    await own.transaction((m) => enqueueManyInOutbox(m, relaySchema, [event('two')]));
    await until(() => holder.sent.length + other.sent.length === 2);
    assert.deepEqual(
      { holder: holder.sent.map((s) => s.key), other: other.sent.map((s) => s.key) },
      { holder: ['one', 'two'], other: [] },
    );
  } finally {
    await first.stop();
    await second.stop();
    await dropSchema(own, relaySchema);
  }
});

test('a shutdown drain leaves the rows to the relay holding the lock, and sends them once it holds it', async () => {
  const relaySchema = uid('msg_drain').replace(/-/g, '_');
  const own = await effectsStore(relaySchema);
  const holderRegistry = new Registry();
  const holder = recordingProducer();
  const leaving = recordingProducer();
  // The holder takes the lock at once, then polls too slowly (and wakes on no commit) to send the row before the drain runs.
  const running = new OutboxRelay({
    dataSource: own,
    schema: relaySchema,
    producer: holder.producer,
    metrics: MessagingMetrics.for(holderRegistry),
    pollIntervalMs: 3_000,
    wakeOnCommit: false,
  });
  const stopping = new OutboxRelay({
    dataSource: own,
    schema: relaySchema,
    producer: leaving.producer,
    metrics: MessagingMetrics.for(new Registry()),
  });
  try {
    running.start();
    // Its first pass, under the lock, reports the pending count: from then on it holds the lock.
    await eventually(
      async () => (await holderRegistry.getSingleMetricAsString('mlops_outbox_pending')).includes(relaySchema),
      'the running relay to hold the lock',
    );
    await own.transaction((m) => enqueueManyInOutbox(m, relaySchema, [event('late')]));
    assert.equal(await stopping.drain(), 0, 'another relay holds the lock: nothing is sent twice');
    assert.equal(leaving.sent.length, 0);
    await running.stop();
    assert.equal(await stopping.drain(), 1);
    assert.deepEqual(
      leaving.sent.map((s) => s.key),
      ['late'],
    );
    assert.equal(holder.sent.length, 0);
  } finally {
    await running.stop();
    await dropSchema(own, relaySchema);
  }
});

test('a relay that cannot send logs a summary of the error, never its message (which may quote record values)', async () => {
  const relaySchema = uid('msg_relay_log').replace(/-/g, '_');
  const own = await effectsStore(relaySchema);
  const logged: string[] = [];
  const relay = new OutboxRelay({
    dataSource: own,
    schema: relaySchema,
    producer: {
      send: async () => {
        throw Object.assign(new Error('value too long for type character varying(8): "alice@example.com"'), {
          code: '22001',
        });
      },
    } as unknown as EventProducer,
    metrics: MessagingMetrics.for(new Registry()),
    pollIntervalMs: 20,
    logger: { error: (message) => void logged.push(message) },
  });
  try {
    await own.transaction((m) => enqueueManyInOutbox(m, relaySchema, [event('secret')]));
    relay.start();
    await eventually(() => logged.length > 0, 'the relay to log its failure');
    assert.deepEqual(logged[0], `outbox relay for ${relaySchema}: Error (code 22001)`);
  } finally {
    await relay.stop();
    await dropSchema(own, relaySchema);
  }
});

/** A relay started with a poll too slow for any test, once its first pass (under the lock) is done. */
async function slowPollingRelay(relaySchema: string, own: DataSource, producer: EventProducer): Promise<OutboxRelay> {
  const registry = new Registry();
  const relay = new OutboxRelay({
    dataSource: own,
    schema: relaySchema,
    producer,
    metrics: MessagingMetrics.for(registry),
    pollIntervalMs: 600_000,
  });
  relay.start();
  await eventually(
    async () => (await registry.getSingleMetricAsString('mlops_outbox_pending')).includes(relaySchema),
    'the relay to finish its first pass',
  );
  return relay;
}

/** An outbox row written with plain SQL, as another process would (no wake-up in this one); `notify`: with its NOTIFY. */
async function writeRowElsewhere(own: DataSource, relaySchema: string, key: string, notify: boolean): Promise<void> {
  const encoded = encodeEvent(event(key));
  await own.transaction(async (m) => {
    await m.query(
      `INSERT INTO ${messagingTables(relaySchema).outbox} (topic, key, headers, value) VALUES ($1, $2, $3::jsonb, $4)`,
      [REQUESTED, key, JSON.stringify(encoded.headers), encoded.value],
    );
    if (notify) await m.query(`SELECT pg_notify($1, '')`, [outboxChannel(relaySchema)]);
  });
}

test('the relay publishes a row as soon as the transaction that wrote it commits, without waiting for its poll', async () => {
  const relaySchema = uid('msg_wake').replace(/-/g, '_');
  const own = await effectsStore(relaySchema);
  const { producer, sent } = recordingProducer();
  const relay = await slowPollingRelay(relaySchema, own, producer);
  try {
    await own.transaction((m) => enqueueManyInOutbox(m, relaySchema, [event('woken')]));
    await until(() => sent.length === 1);
    assert.deepEqual(
      sent.map((s) => s.key),
      ['woken'],
    );
  } finally {
    await relay.stop();
    await dropSchema(own, relaySchema);
  }
});

test('the relay wakes on the notification of a row committed by another process', async () => {
  const relaySchema = uid('msg_notify').replace(/-/g, '_');
  const own = await effectsStore(relaySchema);
  const { producer, sent } = recordingProducer();
  const relay = await slowPollingRelay(relaySchema, own, producer);
  try {
    await writeRowElsewhere(own, relaySchema, 'notified', true);
    await until(() => sent.length === 1);
    assert.deepEqual(
      sent.map((s) => s.key),
      ['notified'],
    );
  } finally {
    await relay.stop();
    await dropSchema(own, relaySchema);
  }
});

test('a row nothing announces is published by the fallback poll', async () => {
  const relaySchema = uid('msg_poll').replace(/-/g, '_');
  const own = await effectsStore(relaySchema);
  const { producer, sent } = recordingProducer();
  const registry = new Registry();
  const relay = new OutboxRelay({
    dataSource: own,
    schema: relaySchema,
    producer,
    metrics: MessagingMetrics.for(registry),
    pollIntervalMs: 200,
  });
  relay.start();
  try {
    await eventually(
      async () => (await registry.getSingleMetricAsString('mlops_outbox_pending')).includes(relaySchema),
      'the relay to finish its first pass',
    );
    await writeRowElsewhere(own, relaySchema, 'unannounced', false);
    await until(() => sent.length === 1);
    assert.deepEqual(
      sent.map((s) => s.key),
      ['unannounced'],
    );
  } finally {
    await relay.stop();
    await dropSchema(own, relaySchema);
  }
});
