import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { INestApplication } from '@nestjs/common';
import type { Admin, Producer } from 'kafkajs';
import { EventTypes } from '@mlops/contracts';
import { DependencyUnavailableError } from '@mlops/messaging';
import { authorized, header, readTopic, testKafka, uid } from '@mlops/testing';
import { createIngestionApp } from '../src/app';
import { IngestTopicMessageService } from '../src/subscriptions/consume-topic/ingest-topic-message.service';
import type { TopicMessage } from '../src/subscriptions/subscription';
import {
  BROKEN,
  CUSTOMERS_DATASET,
  type RecordedMessage,
  SCHEMALESS,
  WITH_SCHEMAS,
} from './fixtures/debezium-postgres-customers';
import { type Seen, TopicTap, eventually, testConfig } from './support';

const RUN = `sub${randomUUID().slice(0, 8)}`;
const dataset = (name: string): string => uid(`${RUN}_${name}`);
const VALIDATED = EventTypes.DataValidatedV1;
const REJECTED = EventTypes.DataRejectedV1;

/** A plain dataset an upstream team's JSON topic feeds. */
const ORDERS = {
  role: 'features',
  entityKeyField: 'customer_id',
  eventTimeField: 'event_time',
  recordSchema: {
    type: 'object',
    required: ['customer_id', 'event_time', 'amount'],
    additionalProperties: false,
    properties: {
      customer_id: { type: 'string' },
      event_time: { type: 'string', format: 'date-time' },
      amount: { type: 'number', minimum: 0 },
    },
  },
};

let app: INestApplication;
let base: string;
let admin: Admin;
let producer: Producer;
const kafka = testKafka('ingestion-subscriptions-test');
const tap = new TopicTap([VALIDATED, REJECTED], RUN);

before(async () => {
  await tap.start();
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  app = await createIngestionApp(testConfig({ INGESTION_SUBSCRIPTION_POLL_MS: '500' }));
  injectFaults(app.get(IngestTopicMessageService));
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
});

/** Subscriptions and topics of this run: left behind, every ingestion started later would consume them. */
const leftovers = new Map<string, string>();
const topics: string[] = [];

after(async () => {
  for (const [name, topic] of leftovers)
    await fetch(`${base}/datasets/${name}/subscriptions/${topic}`, authorized({ method: 'DELETE' }));
  await admin?.deleteTopics({ topics }).catch(() => undefined);
  await app?.close();
  await producer?.disconnect();
  await admin?.disconnect();
  await tap.stop();
});

/**
 * Faults of the message use case, by a text its message value contains: how many tries fail, and with what. A
 * group of messages holding one fails as a whole, so the consumer goes one by one, as after a real failure.
 */
const faults = new Map<string, { tries: number; error: () => Error }>();
const triesOf = new Map<string, number>();

function injectFaults(service: IngestTopicMessageService): void {
  const faultOf = (message: TopicMessage) => [...faults].find(([text]) => message.value?.includes(text));
  const ingest = service.ingest.bind(service);
  const ingestMany = service.ingestMany.bind(service);
  service.ingest = async (subscription, position, message, now) => {
    const fault = faultOf(message);
    if (fault) {
      const tries = (triesOf.get(fault[0]) ?? 0) + 1;
      triesOf.set(fault[0], tries);
      if (tries <= fault[1].tries) throw fault[1].error();
    }
    return ingest(subscription, position, message, now);
  };
  service.ingestMany = async (subscription, messages, now) => {
    if (messages.some(({ message }) => faultOf(message))) throw new Error('a group with a fault');
    return ingestMany(subscription, messages, now);
  };
}

/** An upstream team's topic of this test alone. */
async function upstreamTopic(partitions = 1): Promise<string> {
  const topic = `upstream.${uid(RUN)}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  topics.push(topic);
  return topic;
}

async function registered(name: string, definition: object): Promise<string> {
  const unique = dataset(name);
  const res = await fetch(
    `${base}/datasets/${unique}`,
    authorized({ method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(definition) }),
  );
  assert.equal(res.status, 201, await res.text());
  return unique;
}

function subscribe(name: string, topic: string, mapping: object): Promise<Response> {
  leftovers.set(name, topic);
  return fetch(
    `${base}/datasets/${name}/subscriptions/${topic}`,
    authorized({ method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(mapping) }),
  );
}

async function subscribed(name: string, topic: string, mapping: object): Promise<void> {
  const res = await subscribe(name, topic, mapping);
  assert.equal(res.status, 201, await res.text());
}

async function unsubscribe(name: string, topic: string): Promise<void> {
  const res = await fetch(`${base}/datasets/${name}/subscriptions/${topic}`, authorized({ method: 'DELETE' }));
  assert.equal(res.status, 204, await res.text());
}

async function listed(name: string): Promise<any[]> {
  const res = await fetch(`${base}/datasets/${name}/subscriptions`, authorized());
  assert.equal(res.status, 200);
  return ((await res.json()) as { subscriptions: any[] }).subscriptions;
}

async function produce(topic: string, messages: readonly RecordedMessage[]): Promise<void> {
  await producer.send({ topic, messages: messages.map((m) => ({ key: m.key, value: m.value })) });
}

const order = (customer: string, amount: number): RecordedMessage => ({
  key: customer,
  value: JSON.stringify({ customer_id: customer, event_time: '2025-11-20T07:59:12Z', amount }),
});

/** The validated events of a dataset once the one for `marker` is there: a copy sent before it would be seen. */
async function validatedUntil(name: string, marker: string): Promise<Seen[]> {
  await eventually(
    () => tap.of(VALIDATED, name).some((e) => e.data.entityId === marker),
    `the validated record of ${marker}`,
    60_000,
  );
  // The records before the marker were validated before it, onto other partitions perhaps: read those too.
  await tap.readUpToNow(VALIDATED);
  return tap.of(VALIDATED, name);
}

const byEventTime = (events: Seen[]): Seen[] =>
  [...events].sort((a, b) => String(a.data.eventTime).localeCompare(String(b.data.eventTime)));

describe('subscription lifecycle', () => {
  test('subscribed: records flow and the positions show the group caught up; unsubscribed: they stop', async () => {
    const name = await registered('life', ORDERS);
    const topic = await upstreamTopic();
    await subscribed(name, topic, { format: 'json' });
    await produce(topic, [order('c-1', 10)]);
    await validatedUntil(name, 'c-1');
    const [subscription] = await eventually(async () => {
      const list = await listed(name);
      return list[0]?.positions?.[0]?.lag === '0' && list;
    }, 'the committed offset at the high watermark');
    assert.deepEqual(
      [subscription.consumerGroup, subscription.positions],
      [`ingestion.sub.${name}.${topic}`, [{ partition: 0, committedOffset: '1', highWatermark: '1', lag: '0' }]],
    );

    await unsubscribe(name, topic);
    await produce(topic, [order('c-2', 20)]);
    await sleep(3_000);
    assert.deepEqual(
      tap.of(VALIDATED, name).map((e) => e.data.entityId),
      ['c-1'],
    );
    assert.deepEqual(await listed(name), []);
  });

  test('another replica learns of a subscription and of its end by polling the table', async () => {
    const replica = await createIngestionApp(testConfig({ INGESTION_SUBSCRIPTION_POLL_MS: '500' }));
    try {
      const name = await registered('replicas', ORDERS);
      const topic = await upstreamTopic(2);
      const group = `ingestion.sub.${name}.${topic}`;
      const members = async (): Promise<number> => (await admin.describeGroups([group])).groups[0]!.members.length;
      await subscribed(name, topic, { format: 'json' });
      await eventually(async () => (await members()) === 2, 'both replicas in the group', 60_000);
      await unsubscribe(name, topic);
      await eventually(async () => (await members()) === 0, 'both replicas out of the group', 60_000);
    } finally {
      await replica.close();
    }
  });

  test('subscribing needs a topic that exists and a mapping the dataset can take', async () => {
    const name = await registered('refused', ORDERS);
    const topic = await upstreamTopic();
    const statuses = [
      (await subscribe(name, `upstream.${uid('missing')}`, { format: 'json' })).status,
      (await subscribe(name, topic, { format: 'debezium', deletes: 'tombstone' })).status,
      (await subscribe(name, topic, { format: 'json', eventTime: { from: 'change_time' } })).status,
      (await subscribe(name, topic, { format: 'avro' })).status,
    ];
    assert.deepEqual(statuses, [404, 400, 400, 400]);
  });
});

describe('plain JSON topics', () => {
  test('the entity id comes from the Kafka key', async () => {
    const name = await registered('bykey', ORDERS);
    const topic = await upstreamTopic();
    await subscribed(name, topic, { format: 'json', entityKey: { from: 'kafka_key' } });
    await produce(topic, [{ key: 'k-9', value: JSON.stringify({ event_time: '2025-11-20T07:59:12Z', amount: 3 }) }]);
    const [event] = await validatedUntil(name, 'k-9');
    assert.deepEqual(event!.data.record, { customer_id: 'k-9', event_time: '2025-11-20T07:59:12Z', amount: 3 });
  });

  test('the entity id and event time come from fields with the upstream names', async () => {
    const name = await registered('byfield', ORDERS);
    const topic = await upstreamTopic();
    await subscribed(name, topic, {
      format: 'json',
      entityKey: { from: 'field', field: 'client' },
      eventTime: { from: 'field', field: 'at' },
    });
    await produce(topic, [
      { key: null, value: JSON.stringify({ client: 'f-1', at: '2025-11-20T07:59:12Z', amount: 4 }) },
    ]);
    const [event] = await validatedUntil(name, 'f-1');
    assert.equal(event!.data.eventTime, '2025-11-20T07:59:12.000Z');
  });

  test('a record that breaks the dataset schema is rejected with its errors, and the next one flows', async () => {
    const name = await registered('invalid', ORDERS);
    const topic = await upstreamTopic();
    await subscribed(name, topic, { format: 'json' });
    await produce(topic, [order('bad-1', -5), order('good-1', 5)]);
    await validatedUntil(name, 'good-1');
    const rejected = await eventually(() => tap.of(REJECTED, name).length > 0 && tap.of(REJECTED, name), 'rejected');
    assert.deepEqual(
      rejected.map((e) => [e.data.entityId, (e.data.errors as any[]).map((x) => [x.kind, x.path])]),
      [['bad-1', [['constraint_violation', '/amount']]]],
    );
  });

  test('the same message delivered again counts once', async () => {
    const name = await registered('redelivered', ORDERS);
    const topic = await upstreamTopic();
    await subscribed(name, topic, { format: 'json' });
    // One entity: its validated events share a partition, so a copy would arrive before the marker.
    await produce(topic, [order('r-1', 1), order('r-1', 2), order('r-1', 3)]);
    await eventually(() => tap.of(VALIDATED, name).length === 3, 'three records');
    // A new subscription of the same dataset and topic reads the whole topic again in the same consumer group.
    await unsubscribe(name, topic);
    await subscribed(name, topic, { format: 'json', start: 'earliest' });
    await produce(topic, [order('r-1', 999)]);
    await eventually(
      () => tap.of(VALIDATED, name).some((e) => (e.data.record as { amount: number }).amount === 999),
      'the marker',
    );
    assert.deepEqual(
      tap.of(VALIDATED, name).map((e) => (e.data.record as { amount: number }).amount),
      [1, 2, 3, 999],
    );
  });
});

describe('messages that fail', () => {
  /** The dead letters of a subscription's group, once `count` of them are there. */
  const deadLettersOf = (group: string, count: number) =>
    readTopic(
      kafka,
      `${EventTypes.DataRecordV1}.dlq`,
      (m) => header(m, 'dlq_subscription') === group,
      (matched) => matched.length >= count,
    );

  test('a failure that is no outage is dead-lettered as its record event, sensitive fields hashed; the next message flows', async () => {
    const name = await registered('poison', { ...CUSTOMERS_DATASET, sensitiveFields: { email: 'hash' } });
    const topic = await upstreamTopic();
    const poison = uid('poison');
    faults.set(poison, { tries: Number.MAX_SAFE_INTEGER, error: () => new Error('a bug in the use case') });
    await subscribed(name, topic, {
      format: 'debezium',
      entityKey: { from: 'kafka_key' },
      eventTime: { from: 'change_time' },
    });
    const change = (id: number, email: string) => ({
      key: JSON.stringify({ id }),
      value: JSON.stringify({
        before: null,
        after: { id, email, plan: 'basic', tenure_days: 1 },
        source: { ts_ms: 1763942400000 },
        op: 'c',
      }),
    });
    await produce(topic, [change(1, `${poison}@example.com`), change(2, 'next@example.com')]);
    await validatedUntil(name, '2');

    const [letter] = await deadLettersOf(`ingestion.sub.${name}.${topic}`, 1);
    const data = JSON.parse(letter!.value!.toString()) as {
      dataset: string;
      entityId: string;
      record: { email: string };
    };
    assert.deepEqual(
      {
        reason: header(letter!, 'dlq_reason'),
        attempts: header(letter!, 'dlq_attempts'),
        source: header(letter!, 'dlq_source'),
        original: header(letter!, 'dlq_original_topic'),
        redacted: header(letter!, 'dlq_redacted'),
        type: header(letter!, 'ce_type'),
        dataset: data.dataset,
        entityId: data.entityId,
      },
      {
        reason: 'retries-exhausted',
        attempts: '5',
        source: `${topic}[0]@0`,
        original: EventTypes.DataRecordV1,
        redacted: 'true',
        type: EventTypes.DataRecordV1,
        dataset: name,
        entityId: '1',
      },
    );
    assert.match(data.record.email, /^[0-9a-f]{64}$/, 'the email is hashed, never in clear');
    assert.equal(triesOf.get(poison), 5);
    assert.deepEqual(
      tap.of(VALIDATED, name).map((e) => e.data.entityId),
      ['2'],
    );
  });

  test('a failing message that is no record keeps only its headers, pointing at the upstream topic', async () => {
    const name = await registered('poison-raw', ORDERS);
    const topic = await upstreamTopic();
    const poison = uid('raw');
    faults.set(poison, { tries: Number.MAX_SAFE_INTEGER, error: () => new Error('a bug in the use case') });
    await subscribed(name, topic, { format: 'json' });
    await produce(topic, [{ key: 'k', value: `not JSON, and it may hold anything: ${poison}` }]);
    const [letter] = await deadLettersOf(`ingestion.sub.${name}.${topic}`, 1);
    assert.deepEqual(
      {
        value: letter!.value,
        redacted: header(letter!, 'dlq_redacted'),
        original: header(letter!, 'dlq_original_topic'),
        source: header(letter!, 'dlq_source'),
      },
      { value: null, redacted: 'withheld', original: topic, source: `${topic}[0]@0` },
    );
  });

  test('an unavailable dependency is waited out: the message is ingested once it answers, never dead-lettered', async () => {
    const name = await registered('outage', ORDERS);
    const topic = await upstreamTopic();
    const waiting = uid('waiting');
    // More tries than a failing message gets before its dead letter.
    faults.set(waiting, { tries: 6, error: () => new DependencyUnavailableError('postgres', 'postgres is away') });
    await subscribed(name, topic, { format: 'json' });
    await produce(topic, [order(waiting, 1), order('after-outage', 2)]);
    await validatedUntil(name, 'after-outage');
    assert.deepEqual(
      tap
        .of(VALIDATED, name)
        .map((e) => e.data.entityId)
        .sort(),
      ['after-outage', waiting].sort(),
    );
    assert.equal(triesOf.get(waiting), 7);
    // The group's dead letters end at a marker: none of the outage's message before it.
    const group = `ingestion.sub.${name}.${topic}`;
    const poison = uid('marker');
    faults.set(poison, { tries: Number.MAX_SAFE_INTEGER, error: () => new Error('the marker fails') });
    await produce(topic, [order(poison, 3)]);
    const letters = await deadLettersOf(group, 1);
    assert.deepEqual(
      letters.map((m) => header(m, 'dlq_source')),
      [`${topic}[0]@2`],
    );
  });
});

describe('change data capture (Debezium, Postgres connector)', () => {
  const marker: RecordedMessage = {
    key: '{"id":9999}',
    value: JSON.stringify({
      before: null,
      after: { id: 9999, email: 'end@example.com', plan: 'basic', tenure_days: 0, updated_at: '2025-11-24T00:00:00Z' },
      source: { connector: 'postgresql', ts_ms: 1763942400000, schema: 'public', table: 'customers' },
      op: 'c',
      ts_ms: 1763942400001,
    }),
  };

  test('schemas enabled: rows become validated records, the delete a tombstone, bad input rejected one by one', async () => {
    const name = await registered('cdc', CUSTOMERS_DATASET);
    const topic = await upstreamTopic();
    await subscribed(name, topic, {
      format: 'debezium',
      entityKey: { from: 'kafka_key' },
      eventTime: { from: 'change_time' },
      deletes: 'tombstone',
    });
    await produce(topic, [...WITH_SCHEMAS, ...BROKEN, marker]);
    await validatedUntil(name, '9999');
    // Different entities land on different partitions of mlops.data.validated.v1: compared in event time order.
    const validated = await eventually(
      () => tap.of(VALIDATED, name).length >= 5 && byEventTime(tap.of(VALIDATED, name)),
      'five records',
    );
    assert.deepEqual(
      validated.map((e) => [
        e.data.entityId,
        e.data.eventTime,
        (e.data.record as any).plan,
        (e.data.record as any).__deleted,
      ]),
      [
        ['1001', '2025-11-20T08:00:00.000Z', 'basic', null],
        ['1002', '2025-11-21T10:00:00.125Z', 'premium', null],
        ['1001', '2025-11-22T08:30:00.000Z', 'premium', null],
        ['1002', '2025-11-23T08:30:00.500Z', null, true],
        ['9999', '2025-11-24T00:00:00.000Z', 'basic', null],
      ],
    );
    const rejected = await eventually(
      () => tap.of(REJECTED, name).length >= 5 && tap.of(REJECTED, name),
      'five rejections',
    );
    assert.deepEqual(
      rejected.map((e) => [e.data.entityId, (e.data.errors as any[]).map((x) => `${x.kind} ${x.path}`).join()]).sort(),
      [
        ['(unknown)', 'constraint_violation /op'],
        ['1001', 'constraint_violation /plan'],
        ['1003', 'missing_field /after'],
        ['1004', 'type_mismatch '],
        ['1005', 'type_mismatch '],
      ],
    );
  });

  test('schemas disabled, deletes skipped: the event time from a row field, no record for the delete', async () => {
    const name = await registered('cdcskip', CUSTOMERS_DATASET);
    const topic = await upstreamTopic();
    await subscribed(name, topic, {
      format: 'debezium',
      entityKey: { from: 'field', field: 'id' },
      eventTime: { from: 'field', field: 'updated_at' },
      deletes: 'skip',
    });
    await produce(topic, [...SCHEMALESS.slice(0, 5), marker]);
    await validatedUntil(name, '9999');
    // Every record's event is in before the last one sent, the marker, whatever partition it took.
    await sleep(1_000);
    const validated = byEventTime(tap.of(VALIDATED, name));
    assert.deepEqual(
      validated.map((e) => [e.data.entityId, e.data.eventTime]),
      [
        ['1001', '2025-11-20T07:59:12.000Z'],
        ['1002', '2025-11-21T10:00:00.125Z'],
        ['1001', '2025-11-22T08:30:00.000Z'],
        ['9999', '2025-11-24T00:00:00.000Z'],
      ],
    );
  });
});
