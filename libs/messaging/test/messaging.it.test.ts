import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { KafkaMessage } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { type EventData, EventTypes, EventValidationError, dlqTopicOf, exampleEventData } from '@mlops/contracts';
import {
  type CloudEvent,
  DEFAULT_MAX_GROUP,
  EventConsumerRunner,
  EventProducer,
  type InboxHandlerContext,
  MessagingMetrics,
  OutboxRelay,
  PermanentHandlerError,
  encodeEvent,
  enqueueInOutbox,
  newEvent,
} from '../src';

import { dropSchema, effectsStore, eventually, header, newProducer, readTopic, testKafka, uid } from './support';

const REQUESTED = EventTypes.TrainingRequestedV1;
const FAILED = EventTypes.TrainingFailedV1;
type Requested = CloudEvent<typeof REQUESTED>;

/** Each test's events carry a unique subject so the topic's other traffic is ignored. */
function requested(
  subject: string,
  key: string,
  overrides: Partial<EventData<typeof REQUESTED>> = {},
  id?: string,
): Requested {
  return newEvent(
    REQUESTED,
    { ...exampleEventData(REQUESTED), ...overrides },
    { source: 'urn:mlops:test', key, subject, ...(id ? { id } : {}) },
  );
}

async function effectCount(
  dataSource: DataSource,
  schema: string,
  consumer?: string,
): Promise<{ total: number; distinct: number }> {
  const [row] = await dataSource.query(
    `SELECT count(*)::int AS total, count(DISTINCT event_id)::int AS distinct FROM "${schema}".effects ${consumer ? 'WHERE consumer = $1' : ''}`,
    consumer ? [consumer] : [],
  );
  return row;
}

describe('messaging against the real broker and database', () => {
  const kafka = testKafka('messaging-it');
  const schema = uid('msg_it').replace(/-/g, '_');
  let dataSource: DataSource;
  let producer: EventProducer;
  let metrics: MessagingMetrics;
  let registry: Registry;
  const runners: Array<EventConsumerRunner<InboxHandlerContext>> = [];

  function runner(
    name: string,
    retry = { attempts: 3, initialDelayMs: 20, maxDelayMs: 100 },
    maxEventBytes?: number,
  ): EventConsumerRunner<InboxHandlerContext> {
    const r = new EventConsumerRunner<InboxHandlerContext>({
      kafka,
      consumerName: name,
      producer,
      metrics,
      inbox: { dataSource, schema },
      retry,
      ...(maxEventBytes ? { maxEventBytes } : {}),
    });
    runners.push(r);
    return r;
  }

  async function recordEffect(
    event: CloudEvent,
    consumer: string,
    detail: unknown,
    manager = dataSource.manager,
  ): Promise<void> {
    await manager.query(`INSERT INTO "${schema}".effects (event_id, consumer, detail) VALUES ($1, $2, $3)`, [
      event.id,
      consumer,
      JSON.stringify(detail),
    ]);
  }

  before(async () => {
    dataSource = await effectsStore(schema);
    registry = new Registry();
    ({ producer, metrics } = newProducer(kafka, registry));
    await producer.connect();
  });

  after(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await producer.disconnect();
    await dropSchema(dataSource, schema);
  });

  test('a good event round-trips between two services, the reply born of a state change via the outbox', async () => {
    const subject = uid('roundtrip');
    const trainer = runner(uid('trainer'));
    const monitor = runner(uid('monitor'));
    const relay = new OutboxRelay({ dataSource, schema, producer, metrics, pollIntervalMs: 50 });
    const seen: Array<CloudEvent<typeof FAILED>> = [];
    trainer.on(REQUESTED, async (event, ctx) => {
      if (event.subject !== subject) return;
      await recordEffect(event, 'trainer', event.data, ctx.manager);
      const reply = newEvent(
        FAILED,
        { ...exampleEventData(FAILED) },
        { source: 'urn:mlops:trainer', key: event.partitionkey, subject, causedBy: event },
      );
      await enqueueInOutbox(ctx.manager, schema, reply);
    });
    monitor.on(FAILED, async (event, ctx) => {
      if (event.subject !== subject) return;
      await recordEffect(event, 'monitor', event.data, ctx.manager);
      seen.push(event);
    });
    await Promise.all([trainer.start(), monitor.start()]);
    relay.start();
    try {
      const origin = requested(subject, 'model-a');
      await producer.publish(origin);
      const reply = await eventually(async () => seen[0], 'the reply at the monitor');
      assert.equal(reply.correlationid, origin.correlationid);
      assert.equal(reply.causationid, origin.id);
      assert.equal(reply.partitionkey, 'model-a');
      assert.deepEqual(reply.data, exampleEventData(FAILED));
      assert.equal(reply.dataschema, 'https://schemas.mlops.dev/events/mlops.training.failed.v1.json');
    } finally {
      await relay.stop();
    }
  });

  test('poison messages land in the DLQ once each and the partition keeps flowing', async () => {
    const subject = uid('poison');
    const key = uid('key');
    const name = uid('poison-consumer');
    const r = runner(name, undefined, 4_096);
    const processed: string[] = [];
    r.on(REQUESTED, async (event, ctx) => {
      if (event.partitionkey !== key) return;
      await recordEffect(event, name, null, ctx.manager);
      processed.push(event.id);
    });
    await r.start();
    const good = encodeEvent(requested(subject, key));
    const withHeaders = (changes: Record<string, string | undefined>) => {
      const headers: Record<string, string> = { ...good.headers, ce_id: uid('bad') };
      for (const [k, v] of Object.entries(changes))
        if (v === undefined) delete headers[k];
        else headers[k] = v;
      return headers;
    };
    const poison = [
      { reason: 'malformed-json', value: Buffer.from('{"modelName": '), headers: withHeaders({}) },
      {
        reason: 'schema-violation',
        value: Buffer.from(JSON.stringify({ unexpected: true })),
        headers: withHeaders({}),
      },
      { reason: 'unknown-type', value: good.value, headers: withHeaders({ ce_type: 'mlops.training.requested.v9' }) },
      { reason: 'missing-attribute', value: good.value, headers: withHeaders({ ce_source: undefined }) },
      { reason: 'oversized', value: Buffer.from(JSON.stringify({ pad: 'x'.repeat(5_000) })), headers: withHeaders({}) },
    ];
    for (const p of poison) await producer.send(REQUESTED, { key, value: p.value, headers: p.headers });
    const goodEvent = requested(subject, key);
    await producer.publish(goodEvent);
    // A last poison message with the same key (same partition): once its dead letter is read, a second
    // dead letter of any earlier one would have been read too.
    const marker = withHeaders({ ce_id: uid('dlq-marker') });
    await producer.send(REQUESTED, { key, value: Buffer.from('{"marker": '), headers: marker });
    await eventually(async () => processed.includes(goodEvent.id), 'the good event after the poison ones');

    // Every consumer that meets a poison message dead-letters it under its own name: count ours.
    const ours = (m: KafkaMessage) => m.key?.toString() === key && header(m, 'dlq_consumer') === name;
    const read = await readTopic(kafka, dlqTopicOf(REQUESTED), ours, (m) =>
      m.some((x) => header(x, 'ce_id') === marker.ce_id),
    );
    assert.deepEqual(
      read.map((m) => header(m, 'ce_id')),
      [...poison.map((p) => p.headers.ce_id), marker.ce_id],
      'each poison message is dead-lettered exactly once',
    );
    const letters = read.slice(0, poison.length);
    assert.deepEqual(
      letters.map((m) => header(m, 'dlq_reason')),
      poison.map((p) => p.reason),
    );
    letters.forEach((letter, i) => {
      assert.deepEqual(letter.value, poison[i]!.value, 'the original bytes are kept');
      assert.equal(header(letter, 'dlq_consumer'), name);
      assert.equal(header(letter, 'dlq_original_topic'), REQUESTED);
      assert.ok(header(letter, 'dlq_error')!.length > 10);
      assert.equal(header(letter, 'ce_id'), poison[i]!.headers.ce_id);
    });
    assert.match(header(letters[1]!, 'dlq_error')!, /\/model is required/);
    assert.equal((await effectCount(dataSource, schema, name)).total, 1);
    const counted = new RegExp(
      `mlops_messages_dead_lettered_total\\{topic="[^"]+",consumer="${name}",reason="schema-violation"\\} (\\d+)`,
    ).exec(await registry.metrics());
    assert.ok(counted && Number(counted[1]) >= 1, 'dead letters are counted per consumer and reason');
  });

  test('the same event delivered twice has one effect', async () => {
    const subject = uid('dup');
    const name = uid('dup-consumer');
    const r = runner(name);
    let calls = 0;
    r.on(REQUESTED, async (event, ctx) => {
      if (event.subject !== subject) return;
      calls++;
      await recordEffect(event, name, null, ctx.manager);
    });
    await r.start();
    const event = requested(subject, 'model-dup');
    await producer.publish(event);
    await producer.publish(event);
    const sentinel = requested(subject, 'model-dup');
    await producer.publish(sentinel);
    await eventually(async () => (await effectCount(dataSource, schema, name)).distinct === 2, 'both events');
    assert.deepEqual(await effectCount(dataSource, schema, name), { total: 2, distinct: 2 });
    assert.equal(calls, 2, 'the handler is not even called for the redelivery');
  });

  test('transient failures are retried with a bound, then dead-lettered; permanent ones go at once', async () => {
    const subject = uid('retry');
    const name = uid('retry-consumer');
    const r = runner(name, { attempts: 3, initialDelayMs: 10, maxDelayMs: 50 });
    const attempts = new Map<string, number>();
    let flaky = '';
    let doomed = '';
    let rejected = '';
    let refusedMarker = '';
    r.on(REQUESTED, async (event, ctx) => {
      if (event.subject !== subject) return;
      const n = (attempts.get(event.id) ?? 0) + 1;
      attempts.set(event.id, n);
      if (event.id === flaky && n < 3) throw new Error('database briefly away');
      if (event.id === doomed) throw new Error('always failing');
      if (event.id === rejected || event.id === refusedMarker)
        throw new PermanentHandlerError('refers to an unknown model');
      await recordEffect(event, name, { attempt: ctx.attempt }, ctx.manager);
    });
    await r.start();
    // One key, so one partition, in order; the marker is refused last, so its dead letter ends the read.
    const [a, b, c, marker] = [
      requested(subject, 'k1'),
      requested(subject, 'k1'),
      requested(subject, 'k1'),
      requested(subject, 'k1'),
    ];
    [flaky, doomed, rejected, refusedMarker] = [a.id, b.id, c.id, marker.id];
    await producer.publishMany([a, b, c, marker]);
    const letters = await readTopic(
      kafka,
      dlqTopicOf(REQUESTED),
      (m) => header(m, 'dlq_consumer') === name && header(m, 'ce_subject') === subject,
      (m) => m.some((x) => header(x, 'ce_id') === marker.id),
    );
    assert.deepEqual(
      letters.map((m) => [header(m, 'ce_id'), header(m, 'dlq_reason'), header(m, 'dlq_attempts')]),
      [
        [doomed, 'retries-exhausted', '3'],
        [rejected, 'rejected-by-handler', '1'],
        [marker.id, 'rejected-by-handler', '1'],
      ],
    );
    await eventually(
      async () => (await effectCount(dataSource, schema, name)).total === 1,
      'the flaky event to succeed',
    );
    assert.equal(attempts.get(flaky), 3);
    assert.equal(attempts.get(doomed), 3, 'a failing event is tried exactly `attempts` times');
    assert.equal(attempts.get(rejected), 1);
  });

  test('an outbox event is published if and only if its transaction committed', async () => {
    const subject = uid('outbox');
    const relay = new OutboxRelay({ dataSource, schema, producer, metrics, pollIntervalMs: 50 });
    const committed = newEvent(FAILED, exampleEventData(FAILED), { source: 'urn:mlops:test', key: 'ob', subject });
    const rolledBack = newEvent(FAILED, exampleEventData(FAILED), { source: 'urn:mlops:test', key: 'ob', subject });
    const sentinel = newEvent(FAILED, exampleEventData(FAILED), { source: 'urn:mlops:test', key: 'ob', subject });
    await dataSource.transaction(async (m) => {
      await recordEffect(committed, 'outbox', null, m);
      await enqueueInOutbox(m, schema, committed);
    });
    await assert.rejects(
      dataSource.transaction(async (m) => {
        await recordEffect(rolledBack, 'outbox', null, m);
        await enqueueInOutbox(m, schema, rolledBack);
        throw new Error('state change failed');
      }),
      /state change failed/,
    );
    await dataSource.transaction((m) => enqueueInOutbox(m, schema, sentinel));
    relay.start();
    try {
      const seen = await readTopic(
        kafka,
        FAILED,
        (m) => header(m, 'ce_subject') === subject,
        (m) => m.some((x) => header(x, 'ce_id') === sentinel.id),
      );
      assert.deepEqual(
        seen.map((m) => header(m, 'ce_id')),
        [committed.id, sentinel.id],
      );
      await eventually(
        async () => (await dataSource.query(`SELECT count(*)::int AS n FROM "${schema}".outbox`))[0].n === 0,
        'the outbox to drain',
      );
    } finally {
      await relay.stop();
    }
  });

  test('an outbox row whose transaction commits while the relay is sending a later row is published, not deleted', async () => {
    const subject = uid('outbox-late');
    const key = uid('late');
    const early = newEvent(FAILED, exampleEventData(FAILED), { source: 'urn:mlops:test', key, subject });
    const later = newEvent(FAILED, exampleEventData(FAILED), { source: 'urn:mlops:test', key, subject });
    // The slow transaction takes the lower id first; it commits while the relay is sending the later row.
    const slow = dataSource.createQueryRunner();
    await slow.connect();
    await slow.startTransaction();
    try {
      await enqueueInOutbox(slow.manager, schema, early);
      await dataSource.transaction((m) => enqueueInOutbox(m, schema, later));
      const sending: EventProducer['send'] = async (...args) => {
        if (slow.isTransactionActive) await slow.commitTransaction();
        return producer.send(...args);
      };
      const relay = new OutboxRelay({ dataSource, schema, producer: { send: sending } as EventProducer, metrics });
      // The first batch holds the committed row only; the row committed meanwhile leaves in the next batch.
      assert.equal(await relay.publishPending(), 2);
      assert.equal(await relay.publishPending(), 0);
      // Sent after the relay's sends, with their key: the read ends there, so a second copy would be seen.
      const marker = newEvent(FAILED, exampleEventData(FAILED), { source: 'urn:mlops:test', key, subject });
      await producer.publish(marker);
      const seen = await readTopic(
        kafka,
        FAILED,
        (m) => header(m, 'ce_subject') === subject,
        (m) => m.some((x) => header(x, 'ce_id') === marker.id),
      );
      assert.deepEqual(
        seen
          .map((m) => header(m, 'ce_id'))
          .slice(0, -1)
          .sort(),
        [early.id, later.id].sort(),
      );
    } finally {
      if (slow.isTransactionActive) await slow.rollbackTransaction();
      await slow.release();
    }
  });

  test('the producer refuses an invalid event: it never reaches the topic', async () => {
    const subject = uid('invalid');
    const bad = newEvent(REQUESTED, { nonsense: 1 } as unknown as EventData<typeof REQUESTED>, {
      source: 'urn:mlops:test',
      key: 'inv',
      subject,
    });
    assert.throws(
      () => producer.publish(bad),
      (error: unknown) => error instanceof EventValidationError,
    );
    const sentinel = requested(subject, 'inv');
    await producer.publish(sentinel);
    const seen = await readTopic(
      kafka,
      REQUESTED,
      (m) => header(m, 'ce_subject') === subject,
      (m) => m.some((x) => header(x, 'ce_id') === sentinel.id),
    );
    assert.deepEqual(
      seen.map((m) => header(m, 'ce_id')),
      [sentinel.id],
    );
  });
  test('a runner given maxGroup puts more events of a partition in one inbox transaction than the default', async () => {
    const subject = uid('groups');
    const count = 1_500;
    // One key: one partition, so the events follow each other and fill whole groups.
    await producer.publishMany(Array.from({ length: count }, () => requested(subject, 'one-partition')));
    /**
     * The most events of one partition (ours and the topic's earlier ones) that shared one transaction, consuming
     * from the start (the groups of other partitions may share it too).
     */
    const largestGroup = async (maxGroup?: number): Promise<number> => {
      const r = new EventConsumerRunner<InboxHandlerContext>({
        kafka,
        consumerName: uid('grouping'),
        producer,
        metrics,
        inbox: { dataSource, schema },
        ...(maxGroup ? { maxGroup } : {}),
      });
      const transactions = new Map<unknown, number>();
      const perGroup = new Map<string, number>();
      let ours = 0;
      r.on(REQUESTED, async (event, ctx) => {
        if (!transactions.has(ctx.manager)) transactions.set(ctx.manager, transactions.size);
        const group = `${transactions.get(ctx.manager)}:${ctx.partition}`;
        perGroup.set(group, (perGroup.get(group) ?? 0) + 1);
        if (event.subject === subject) ours++;
      });
      await r.start();
      try {
        await eventually(async () => ours >= count || undefined, `all ${count} events (maxGroup ${maxGroup})`);
      } finally {
        await r.stop();
      }
      return Math.max(...perGroup.values());
    };
    const larger = await largestGroup(1_000);
    assert.ok(larger > DEFAULT_MAX_GROUP && larger <= 1_000, `largest group with maxGroup 1000: ${larger}`);
    const byDefault = await largestGroup();
    assert.ok(byDefault <= DEFAULT_MAX_GROUP, `largest group by default: ${byDefault}`);
  });
});
