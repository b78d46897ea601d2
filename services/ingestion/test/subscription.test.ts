import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DatasetVersion } from '../src/domain/dataset';
import type { JsonObject } from '../src/domain/json';
import {
  type SubscriptionMapping,
  checkSubscription,
  entityKeyOf,
  mapMessage,
  sameMapping,
} from '../src/subscriptions/subscription';
import { BROKEN, CUSTOMERS_DATASET, SCHEMALESS, WITH_SCHEMAS } from './fixtures/debezium-postgres-customers';

const customers: DatasetVersion = {
  name: 'customers',
  version: 1,
  ...CUSTOMERS_DATASET,
  role: 'features',
  recordSchema: CUSTOMERS_DATASET.recordSchema as unknown as JsonObject,
  sensitiveFields: {},
  registeredAt: new Date(0),
};
const cdc: SubscriptionMapping = {
  format: 'debezium',
  entityKey: { from: 'kafka_key' },
  eventTime: { from: 'change_time' },
  deletes: 'tombstone',
};

describe('Debezium change events, as the Postgres connector writes them', () => {
  for (const [mode, topic] of [
    ['schemas disabled', SCHEMALESS],
    ['schemas enabled', WITH_SCHEMAS],
  ] as const) {
    test(`${mode}: reads, creates and updates become the after row at its change time; a delete a tombstone`, () => {
      const out = topic.map((m) => mapMessage(cdc, customers, m));
      assert.deepEqual(out.slice(0, 5), [
        {
          kind: 'record',
          entityId: '1001',
          record: {
            id: 1001,
            email: 'ada@example.com',
            plan: 'basic',
            tenure_days: 40,
            updated_at: '2025-11-20T07:59:12.000000Z',
            changed_at: '2025-11-20T08:00:00.000Z',
          },
        },
        {
          kind: 'record',
          entityId: '1002',
          record: {
            id: 1002,
            email: 'grace@example.com',
            plan: 'premium',
            tenure_days: 3,
            updated_at: '2025-11-21T10:00:00.125000Z',
            changed_at: '2025-11-21T10:00:00.125Z',
          },
        },
        {
          kind: 'record',
          entityId: '1001',
          record: {
            id: 1001,
            email: 'ada@example.com',
            plan: 'premium',
            tenure_days: 40,
            updated_at: '2025-11-22T08:30:00.000000Z',
            changed_at: '2025-11-22T08:30:00.000Z',
          },
        },
        {
          kind: 'record',
          entityId: '1002',
          record: { id: 1002, changed_at: '2025-11-23T08:30:00.500Z', __deleted: true },
        },
        { kind: 'skip', reason: 'a message without a value (Kafka tombstone)' },
      ]);
    });
  }

  test('the unknown op of a truncate is rejected, with its path', () => {
    const out = mapMessage(cdc, customers, SCHEMALESS[6]!);
    assert.equal(out.kind, 'malformed');
    assert.deepEqual(out.kind === 'malformed' && out.errors.map((e) => [e.kind, e.path]), [
      ['constraint_violation', '/op'],
    ]);
  });

  test('deletes are skipped when the subscription says so', () => {
    assert.equal(mapMessage({ ...cdc, deletes: 'skip' }, customers, SCHEMALESS[3]!).kind, 'skip');
  });

  test('a change without after, a value that is no object, and text that is no JSON are each rejected', () => {
    const out = BROKEN.map((m) => mapMessage(cdc, customers, m));
    assert.deepEqual(
      out.map((o) => (o.kind === 'malformed' ? [o.entityId, o.errors[0]!.kind, o.errors[0]!.path] : o.kind)),
      [
        ['1003', 'missing_field', '/after'],
        ['1004', 'type_mismatch', ''],
        ['1005', 'type_mismatch', ''],
      ],
    );
  });

  test('an event time from a field of the row is moved to the dataset field', () => {
    const mapping: SubscriptionMapping = { ...cdc, eventTime: { from: 'field', field: 'updated_at' } };
    const out = mapMessage(mapping, customers, SCHEMALESS[1]!);
    assert.ok(out.kind === 'record');
    assert.equal(out.record.changed_at, '2025-11-21T10:00:00.125000Z');
    assert.equal('updated_at' in out.record, false);
  });
});

describe('plain JSON messages', () => {
  const json = (entityKey: SubscriptionMapping['entityKey']): SubscriptionMapping => ({
    format: 'json',
    entityKey,
    eventTime: { from: 'field', field: 'ts' },
    deletes: 'skip',
  });

  test('the entity id from the Kafka key fills the entity key field', () => {
    const out = mapMessage(json({ from: 'kafka_key' }), customers, {
      key: 'c-7',
      value: '{"plan":"basic","ts":"2025-11-20T07:59:12Z"}',
    });
    assert.deepEqual(out, {
      kind: 'record',
      entityId: 'c-7',
      record: { plan: 'basic', id: 'c-7', changed_at: '2025-11-20T07:59:12Z' },
    });
  });

  test('the entity id from a field is moved to the entity key field', () => {
    const out = mapMessage(json({ from: 'field', field: 'customer' }), customers, {
      key: null,
      value: '{"customer":17,"ts":"2025-11-20T07:59:12Z"}',
    });
    assert.deepEqual(out, { kind: 'record', entityId: '17', record: { id: 17, changed_at: '2025-11-20T07:59:12Z' } });
  });

  test('no Kafka key when the entity id comes from it: rejected', () => {
    const out = mapMessage(json({ from: 'kafka_key' }), customers, { key: null, value: '{"ts":"x"}' });
    assert.equal(out.kind, 'malformed');
  });
});

describe('Kafka keys', () => {
  test('a Debezium key, wrapped or not, a JSON string, and plain text each give the entity key', () => {
    assert.deepEqual([WITH_SCHEMAS[0]!.key!, SCHEMALESS[0]!.key!, '"abc"', 'abc', '{"a":1,"b":2}'].map(entityKeyOf), [
      1001,
      1001,
      'abc',
      'abc',
      undefined,
    ]);
  });
});

describe('subscription mappings', () => {
  test('defaults: the dataset fields, deletes skipped, reading from now on', () => {
    const checked = checkSubscription(customers, 'crm.public.customers', { format: 'json' });
    assert.deepEqual(checked.ok && checked.value, {
      format: 'json',
      entityKey: { from: 'field', field: 'id' },
      eventTime: { from: 'field', field: 'changed_at' },
      deletes: 'skip',
      start: 'latest',
    });
  });

  test('tombstones need the __deleted field, change time needs debezium, platform topics are refused', () => {
    const plain = { ...customers, recordSchema: { type: 'object', properties: { id: { type: 'integer' } } } };
    const problems = [
      checkSubscription(plain, 't', { format: 'debezium', deletes: 'tombstone' }),
      checkSubscription(customers, 't', { format: 'json', eventTime: { from: 'change_time' } }),
      checkSubscription(customers, 'mlops.data.record.v1', { format: 'json' }),
    ].map((r) => (r.ok ? 0 : r.error.details.problems.length));
    assert.deepEqual(problems, [1, 1, 1]);
  });

  test('the same mapping in another key order is the same', () => {
    assert.ok(
      sameMapping(
        {
          format: 'json',
          entityKey: { from: 'field', field: 'a' },
          eventTime: { from: 'change_time' },
          deletes: 'skip',
        },
        {
          deletes: 'skip',
          eventTime: { from: 'change_time' },
          entityKey: { field: 'a', from: 'field' },
          format: 'json',
        },
      ),
    );
  });
});
