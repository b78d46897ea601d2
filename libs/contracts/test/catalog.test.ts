// The catalog API: event type names, parsing, schema URIs, partition keys and topic specs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DLQ_RETENTION_MS,
  EVENT_SCHEMAS,
  EVENT_TYPES,
  EVENT_TYPE_LIST,
  EventTypes,
  TOPIC_SPECS,
  type EventType,
  dlqTopicOf,
  exampleEventData,
  isKnownEventType,
  parseEventType,
  partitionKeyOf,
  schemaUriOf,
  topicSpecOf,
} from '../src';

describe('EventTypes', () => {
  it('names every event type once, PascalCase of domain+event+major', () => {
    assert.deepEqual(Object.values(EventTypes).sort(), [...EVENT_TYPES]);
    assert.deepEqual([...EVENT_TYPE_LIST], [...EVENT_TYPES]);
    assert.equal(EventTypes.DataRecordV1, 'mlops.data.record.v1');
    assert.equal(EventTypes.ModelTrainedV1, 'mlops.model.trained.v1');
    assert.equal(EventTypes.DatasetSnapshotRequestedV1, 'mlops.dataset.snapshot.requested.v1');
    assert.equal(EventTypes.DeploymentSucceededV1, 'mlops.deployment.succeeded.v1');
    assert.equal(EventTypes.DeploymentFailedV1, 'mlops.deployment.failed.v1');
  });

  it('lists the types sorted and without duplicates', () => {
    assert.deepEqual([...EVENT_TYPES], [...new Set(EVENT_TYPES)].sort());
  });
});

describe('parseEventType', () => {
  it('splits domain, name and major', () => {
    assert.deepEqual(parseEventType('mlops.data.record.v1'), { domain: 'data', name: 'record', major: 1 });
    assert.deepEqual(parseEventType('mlops.dataset.snapshot.requested.v1'), {
      domain: 'dataset',
      name: 'snapshot.requested',
      major: 1,
    });
    assert.deepEqual(parseEventType('mlops.model.trained.v12'), { domain: 'model', name: 'trained', major: 12 });
  });

  it('parses types not in the catalog (a future major) but is not a membership test', () => {
    assert.deepEqual(parseEventType('mlops.model.trained.v2'), { domain: 'model', name: 'trained', major: 2 });
    assert.equal(isKnownEventType('mlops.model.trained.v2'), false);
  });

  for (const bad of [
    '',
    'mlops',
    'mlops.model.trained',
    'mlops.model.v1',
    'mlops.Model.trained.v1',
    'mlops.model.trained.v0',
    'mlops.model.trained.v01',
    'mlops.model.trained.1',
    'acme.model.trained.v1',
    'mlops.model.trained.v1.dlq',
    'mlops..trained.v1',
    ' mlops.model.trained.v1',
    'mlops.model.trained.v1 ',
  ]) {
    it(`rejects ${JSON.stringify(bad)}`, () => assert.equal(parseEventType(bad), undefined));
  }

  it('parses every catalog type', () => {
    for (const type of EVENT_TYPES) {
      const parsed = parseEventType(type);
      assert.ok(parsed, type);
      assert.equal(`mlops.${parsed.domain}.${parsed.name}.v${parsed.major}`, type);
      assert.equal(parsed.major, 1);
    }
  });
});

describe('isKnownEventType and schemaUriOf', () => {
  it('knows exactly the catalog', () => {
    for (const type of EVENT_TYPES) assert.equal(isKnownEventType(type), true);
    for (const other of [
      'mlops.data.record.v2',
      'mlops.data.record.v1.dlq',
      'toString',
      '__proto__',
      'constructor',
      '',
    ]) {
      assert.equal(isKnownEventType(other), false, other);
    }
  });

  it('gives the $id as the CloudEvents dataschema', () => {
    assert.equal(
      schemaUriOf('mlops.model.promoted.v1'),
      'https://schemas.mlops.dev/events/mlops.model.promoted.v1.json',
    );
    assert.equal(new Set(EVENT_TYPES.map(schemaUriOf)).size, EVENT_TYPES.length);
  });

  it('embeds deeply frozen schemas', () => {
    const schema = EVENT_SCHEMAS['mlops.model.trained.v1'];
    assert.ok(Object.isFrozen(schema));
    assert.ok(Object.isFrozen(schema.properties));
    assert.throws(() => {
      (schema as { title: string }).title = 'changed';
    }, TypeError);
  });
});

describe('partitionKeyOf', () => {
  it('keys records by dataset and entity, features by view and entity, promotions by model and alias', () => {
    assert.equal(
      partitionKeyOf('mlops.data.record.v1', exampleEventData('mlops.data.record.v1')),
      'customer_activity/customer-000123',
    );
    assert.equal(
      partitionKeyOf('mlops.data.validated.v1', exampleEventData('mlops.data.validated.v1')),
      'customer_activity/customer-000123',
    );
    assert.equal(
      partitionKeyOf('mlops.features.materialized.v1', exampleEventData('mlops.features.materialized.v1')),
      'customer_features/1/customer-000123',
    );
    assert.equal(
      partitionKeyOf('mlops.model.promoted.v1', exampleEventData('mlops.model.promoted.v1')),
      'churn/production',
    );
    assert.equal(partitionKeyOf('mlops.model.trained.v1', exampleEventData('mlops.model.trained.v1')), 'churn');
    assert.equal(
      partitionKeyOf('mlops.dataset.registered.v1', exampleEventData('mlops.dataset.registered.v1')),
      'customer_activity',
    );
  });

  it('throws when a key field is missing', () => {
    const data = exampleEventData('mlops.model.promoted.v1');
    delete (data as Partial<typeof data>).alias;
    assert.throws(() => partitionKeyOf('mlops.model.promoted.v1', data), /partition key field "alias"/);
  });
});

describe('TOPIC_SPECS', () => {
  const byName = new Map(TOPIC_SPECS.map((spec) => [spec.name, spec]));
  const highVolume: readonly EventType[] = [
    'mlops.data.record.v1',
    'mlops.data.validated.v1',
    'mlops.prediction.requested.v1',
    'mlops.prediction.completed.v1',
    'mlops.prediction.logged.v1',
  ];
  const latestState: readonly EventType[] = [
    'mlops.features.materialized.v1',
    'mlops.dataset.registered.v1',
    'mlops.model.promoted.v1',
    'mlops.auth.token.changed.v1',
  ];

  it('has exactly one topic per event type (topic = type) and one dead-letter topic each', () => {
    assert.equal(byName.size, TOPIC_SPECS.length, 'names are unique');
    const expected = EVENT_TYPES.flatMap((type) => [type, dlqTopicOf(type)]).sort();
    assert.deepEqual([...byName.keys()].sort(), expected);
  });

  it('gives prediction.* and data.record/validated 6 partitions and the rest 3', () => {
    for (const type of EVENT_TYPES) {
      assert.equal(byName.get(type)?.partitions, highVolume.includes(type) ? 6 : 3, type);
    }
    for (const type of EVENT_TYPES.filter((t) => t.startsWith('mlops.prediction.')))
      assert.ok(highVolume.includes(type), type);
  });

  it('compacts exactly the latest-state topics, which then have no time-based retention', () => {
    for (const type of EVENT_TYPES) {
      const spec = byName.get(type);
      assert.equal(spec?.compacted, latestState.includes(type), type);
      if (spec?.compacted) assert.equal(spec.retentionMs, undefined, type);
      else assert.ok((spec?.retentionMs ?? 0) >= 7 * 86_400_000, `${type} keeps a week at least`);
    }
  });

  it('makes dead-letter topics small, never compacted, and retained longer than their source', () => {
    for (const type of EVENT_TYPES) {
      const dlq = byName.get(dlqTopicOf(type));
      const source = byName.get(type);
      assert.ok(dlq && source);
      assert.ok(dlq.partitions >= 1 && dlq.partitions <= 3, dlq.name);
      assert.equal(dlq.compacted, false, dlq.name);
      assert.equal(dlq.retentionMs, DLQ_RETENTION_MS);
      assert.ok(dlq.retentionMs > (source.retentionMs ?? 0), dlq.name);
    }
  });

  it('dlqTopicOf appends .dlq and topicSpecOf finds both kinds', () => {
    assert.equal(dlqTopicOf('mlops.data.record.v1'), 'mlops.data.record.v1.dlq');
    assert.equal(topicSpecOf('mlops.data.record.v1')?.partitions, 6);
    assert.equal(topicSpecOf('mlops.data.record.v1.dlq')?.partitions, 3);
    assert.equal(topicSpecOf('mlops.model.promoted.v1.dlq')?.partitions, 1);
    assert.equal(topicSpecOf('nope'), undefined);
  });

  it('is frozen', () => {
    assert.ok(Object.isFrozen(TOPIC_SPECS));
    assert.ok(TOPIC_SPECS.every((spec) => Object.isFrozen(spec)));
  });
});
