// The feature-store app in-process against the REAL stack (Kafka, Postgres, embedded chdb in its own temp
// directory): events go in through an EventProducer, come out on their topics; HTTP through app.listen(0).
import 'reflect-metadata';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { INestApplication } from '@nestjs/common';
import { createArtifactStore } from '@mlops/artifacts';
import { type DataValidatedV1, type DatasetRegisteredV1, type DatasetSnapshotRequestedV1, EventTypes, dlqTopicOf } from '@mlops/contracts';
import { type CloudEvent, EventProducer, newEvent } from '@mlops/messaging';
import type { DataSource } from 'typeorm';
import { CLICKHOUSE, type ClickHouseClient, POSTGRES } from '@mlops/storage';
import { createFeatureStoreApp } from '../../src/app';
import type { FeatureStoreConfig } from '../../src/config';
import { BuildSnapshotService } from '../../src/snapshots/build-snapshot/build-snapshot.service';
import { type Seen, eventually, readTopic, runId, testConfig } from './support';

const REGISTERED = EventTypes.DatasetRegisteredV1;
const VALIDATED = EventTypes.DataValidatedV1;
const MATERIALIZED = EventTypes.FeaturesMaterializedV1;
const REQUESTED = EventTypes.DatasetSnapshotRequestedV1;
const CREATED = EventTypes.DatasetSnapshotCreatedV1;
const TEST_SOURCE = 'urn:mlops:test:feature-store';

const RUN = runId('fs');
const ACTIVITY = `${RUN}_activity`;
const CHURN = `${RUN}_churn`;
const VIEW = `${RUN}_customer`;
const MINUTE = 60_000;
/** Feature records happen shortly before the test starts; labels at "now", after the features were computed. */
const T0 = Date.now();
const at = (offsetMs: number): string => new Date(T0 + offsetMs).toISOString();

const activitySchema = {
  type: 'object' as const,
  required: ['customer_id', 'event_time', 'tenure_days', 'amount', 'plan'],
  properties: {
    customer_id: { type: 'string' },
    event_time: { type: 'string', format: 'date-time' },
    email: { type: ['string', 'null'] },
    tenure_days: { type: 'integer', minimum: 0 },
    amount: { type: 'number' },
    plan: { enum: ['basic', 'premium', 'enterprise'] },
  },
};

function registered(dataset: string, role: 'features' | 'labels'): DatasetRegisteredV1 {
  return role === 'features'
    ? { dataset, version: 1, role, recordSchema: activitySchema, entityKeyField: 'customer_id', eventTimeField: 'event_time', sensitiveFields: ['email'], registeredAt: new Date().toISOString() }
    : {
        dataset,
        version: 1,
        role,
        recordSchema: { type: 'object', required: ['customer_id', 'event_time', 'churned'], properties: { customer_id: { type: 'string' }, event_time: { type: 'string' }, churned: { type: 'boolean' } } },
        entityKeyField: 'customer_id',
        eventTimeField: 'event_time',
        labelField: 'churned',
        sensitiveFields: [],
        registeredAt: new Date().toISOString(),
      };
}

const viewDefinition = {
  name: VIEW,
  source: { dataset: ACTIVITY },
  ttl: '1d',
  features: [
    { kind: 'field', name: 'tenure', field: 'tenure_days' },
    { kind: 'categorical', encoding: 'index', name: 'plan_idx', field: 'plan', vocabulary: ['basic', 'premium'] },
    { kind: 'aggregate', name: 'txn_count_1h', field: 'amount', function: 'count', window: '1h' },
    { kind: 'aggregate', name: 'amount_sum_1h', field: 'amount', function: 'sum', window: '1h' },
    { kind: 'expression', name: 'avg_amount_1h', expression: 'amount_sum_1h / txn_count_1h' },
  ],
};

function activity(entityId: string, offsetMs: number, amount: number, plan: string, recordId = randomUUID()): CloudEvent<typeof VALIDATED> {
  const eventTime = at(offsetMs);
  const data: DataValidatedV1 = {
    dataset: ACTIVITY,
    datasetVersion: 1,
    role: 'features',
    entityId,
    eventTime,
    record: { customer_id: entityId, event_time: eventTime, email: `${entityId}@example.com`, tenure_days: 100, amount, plan },
    recordId,
    sourceEventId: randomUUID(),
    validatedAt: new Date().toISOString(),
  };
  return newEvent(VALIDATED, data, { source: TEST_SOURCE, subject: ACTIVITY });
}

function label(entityId: string, eventTime: string, churned: boolean): CloudEvent<typeof VALIDATED> {
  return newEvent(
    VALIDATED,
    {
      dataset: CHURN,
      datasetVersion: 1,
      role: 'labels',
      entityId,
      eventTime,
      record: { customer_id: entityId, event_time: eventTime, churned },
      sourceEventId: randomUUID(),
      validatedAt: new Date().toISOString(),
    },
    { source: TEST_SOURCE, subject: CHURN },
  );
}

/** A snapshot request over the churn labels of the last hour (and the next minute) for a view version. */
function snapshotRequest(featureView: { name: string; version: number }, featureTtlSeconds: number | undefined = 86_400): DatasetSnapshotRequestedV1 {
  return {
    snapshotId: randomUUID(),
    trainingRunId: randomUUID(),
    featureView,
    labels: { dataset: CHURN, field: 'churned' },
    timeRange: { start: at(-60 * MINUTE), end: new Date(Date.now() + MINUTE).toISOString() },
    ...(featureTtlSeconds !== undefined ? { featureTtlSeconds } : {}),
    requestedAt: new Date().toISOString(),
  };
}

let app: INestApplication;
let config: FeatureStoreConfig;
let dirs: string[] = [];
let base: string;
let producer: EventProducer;

async function http(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

before(async () => {
  const setup = await testConfig();
  config = setup.config;
  dirs = [setup.clickhouseDir, setup.artifactDir];
  app = await createFeatureStoreApp(config);
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  producer = app.get(EventProducer);
  await producer.publishMany([
    newEvent(REGISTERED, registered(ACTIVITY, 'features'), { source: TEST_SOURCE, subject: ACTIVITY }),
    newEvent(REGISTERED, registered(CHURN, 'labels'), { source: TEST_SOURCE, subject: CHURN }),
  ]);
});

after(async () => {
  await app?.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

test('feature views: refused with every reason when they do not fit, versioned when they do', async () => {
  const unknown = await http('POST', '/feature-views', { ...viewDefinition, source: { dataset: `${RUN}_nope` } });
  assert.equal(unknown.status, 404);

  const misfit = {
    ...viewDefinition,
    features: [
      { kind: 'field', name: 'mail', field: 'email' },
      { kind: 'field', name: 'ghost', field: 'no_such_field' },
      { kind: 'aggregate', name: 'plan_sum', field: 'plan', function: 'sum', window: '1h' },
    ],
  };
  // The dataset is known once its registration event went through the consumer.
  const refused = await eventually(async () => {
    const res = await http('POST', '/feature-views', misfit);
    return res.status === 404 ? undefined : res;
  }, 'the dataset registration');
  assert.equal(refused.status, 422);
  const paths = (refused.body.issues as Array<{ path: string; message: string }>).map((i) => i.path);
  assert.deepEqual(paths.sort(), ['/features/0/field', '/features/1/field', '/features/2/field']);
  assert.match(JSON.stringify(refused.body.issues), /sensitive/);

  const labelsView = await http('POST', '/feature-views', { ...viewDefinition, source: { dataset: CHURN } });
  assert.equal(labelsView.status, 422, 'a view over a labels dataset is refused');
  const withVersion = await http('POST', '/feature-views', { ...viewDefinition, version: 3 });
  assert.equal(withVersion.status, 422);

  const created = await http('POST', '/feature-views', viewDefinition);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.version, 1);
  const again = await http('POST', '/feature-views', viewDefinition);
  assert.equal(again.status, 200, 'the same definition is the same version');
  assert.equal(again.body.version, 1);

  const versions = await http('GET', `/feature-views/${VIEW}`);
  assert.equal(versions.status, 200);
  assert.deepEqual(versions.body.versions.map((v: { version: number }) => v.version), [1]);
  assert.equal(versions.body.versions[0].definition.ttl, '1d');
  assert.equal((await http('GET', `/feature-views/${RUN}_missing`)).status, 404);
});

test('validated records become online vectors, materialized events and offline rows; redeliveries count once', async () => {
  const e1 = `${RUN}-e1`;
  const e2 = `${RUN}-e2`;
  const third = activity(e1, -10 * MINUTE, 2.5, 'premium');
  await producer.publishMany([activity(e1, -30 * MINUTE, 10, 'premium'), activity(e1, -20 * MINUTE, 5, 'premium'), third, activity(e2, -5 * MINUTE, 7, 'basic')]);

  const first = await eventually(async () => {
    const res = await http('GET', `/feature-views/${VIEW}/entities/${e1}`);
    return res.status === 200 && res.body.features.txn_count_1h === 3 ? res : undefined;
  }, 'the online vector of e1');
  assert.deepEqual(first.body.features, { tenure: 100, plan_idx: 1, txn_count_1h: 3, amount_sum_1h: 17.5, avg_amount_1h: 17.5 / 3 });
  assert.deepEqual(Object.keys(first.body.features), ['tenure', 'plan_idx', 'txn_count_1h', 'amount_sum_1h', 'avg_amount_1h'], 'in declaration order');
  assert.equal(first.body.eventTime, at(-10 * MINUTE));
  assert.equal(first.body.fresh, true);
  assert.deepEqual(first.body.featureView, { name: VIEW, version: 1 });

  // The same CloudEvent again (a Kafka redelivery), the same record under a new event id (an upstream retry),
  // then one new record of e1 behind them on the same partition: only the new one counts.
  const retried = newEvent(VALIDATED, { ...third.data, sourceEventId: randomUUID() }, { source: TEST_SOURCE, subject: ACTIVITY });
  await producer.publishMany([third, retried, activity(e1, -5 * MINUTE, 1, 'premium')]);
  const after = await eventually(async () => {
    const res = await http('GET', `/feature-views/${VIEW}/entities/${e1}?version=1`);
    return res.status === 200 && res.body.eventTime === at(-5 * MINUTE) ? res : undefined;
  }, 'the vector after the new record');
  assert.deepEqual(after.body.features, { tenure: 100, plan_idx: 1, txn_count_1h: 4, amount_sum_1h: 18.5, avg_amount_1h: 18.5 / 4 });

  const other = await eventually(async () => {
    const res = await http('GET', `/feature-views/${VIEW}/entities/${e2}`);
    return res.status === 200 ? res : undefined;
  }, 'the vector of e2');
  assert.deepEqual(other.body.features, { tenure: 100, plan_idx: 0, txn_count_1h: 1, amount_sum_1h: 7, avg_amount_1h: 7 });
  assert.equal((await http('GET', `/feature-views/${VIEW}/entities/${RUN}-nobody`)).status, 404);
  // Windows slide without new records: 2 hours after e1's newest record its 1-hour window is empty.
  const slid = await http('GET', `/feature-views/${VIEW}/entities/${e1}?version=1&asOf=${encodeURIComponent(at(115 * MINUTE))}`);
  assert.equal(slid.status, 200, JSON.stringify(slid.body));
  assert.deepEqual(slid.body.features, { tenure: 100, plan_idx: 1, txn_count_1h: 0, amount_sum_1h: 0, avg_amount_1h: null });
  assert.equal(slid.body.asOf, at(115 * MINUTE));
  assert.equal((await http('GET', `/feature-views/${VIEW}/entities/${e1}?asOf=${encodeURIComponent(at(-60 * MINUTE))}`)).status, 400);
  assert.equal((await http('GET', `/feature-views/${VIEW}/entities/${e1}?version=2`)).status, 404);

  const mine = (seen: Seen) => seen.data.featureView?.name === VIEW;
  const materialized = await readTopic(MATERIALIZED, mine, (m) => m.filter((s) => s.data.entityId === e1).length >= 4 && m.some((s) => s.data.entityId === e2));
  const ofE1 = materialized.filter((s) => s.data.entityId === e1);
  assert.deepEqual(ofE1.map((s) => s.data.features.txn_count_1h), [1, 2, 3, 4], 'one event per counted record, none for the duplicates');
  assert.equal(ofE1[3]!.key, `${VIEW}/1/${e1}`);
  assert.equal(ofE1[3]!.data.eventTime, at(-5 * MINUTE));
  assert.ok(ofE1.every((s) => !('email' in s.data.features)));

  const clickhouse = app.get<ClickHouseClient>(CLICKHOUSE);
  const rows = await (
    await clickhouse.query({
      query: `SELECT entity_id, features FROM feature_store.offline_feature_rows WHERE view_name = {view:String} ORDER BY entity_id, event_time`,
      query_params: { view: VIEW },
      format: 'JSONEachRow',
    })
  ).json<{ entity_id: string; features: string }>();
  assert.deepEqual(
    rows.map((r) => [r.entity_id, JSON.parse(r.features).txn_count_1h]),
    [[e1, 1], [e1, 2], [e1, 3], [e1, 4], [e2, 1]],
    'one offline row per counted record, features as of its own time',
  );
});

test('snapshot requests: point-in-time rows in the artifact store, one build per snapshotId', async () => {
  const e1 = `${RUN}-e1`;
  const e2 = `${RUN}-e2`;
  const e4 = `${RUN}-e4`;
  // Labels known now, after the features above were computed (created_at <= label time).
  const labelTime = new Date().toISOString();
  const labels = [label(e1, labelTime, true), label(e2, labelTime, false), label(e4, labelTime, true)];
  await producer.publishMany(labels);
  const clickhouse = app.get<ClickHouseClient>(CLICKHOUSE);
  await eventually(async () => {
    const [row] = await (
      await clickhouse.query({ query: `SELECT count() AS n FROM feature_store.offline_label_rows WHERE dataset = {d:String}`, query_params: { d: CHURN }, format: 'JSONEachRow' })
    ).json<{ n: string }>();
    return Number(row?.n) === 3;
  }, 'the label rows');

  const request = snapshotRequest({ name: VIEW, version: 1 });
  // The same request twice, as two events (a requester retrying): one build, the same answer twice.
  await producer.publish(newEvent(REQUESTED, request, { source: TEST_SOURCE }));
  await producer.publish(newEvent(REQUESTED, { ...request, requestedAt: new Date().toISOString() }, { source: TEST_SOURCE }));
  const created = await readTopic(CREATED, (s) => s.data.snapshotId === request.snapshotId, (m) => m.length >= 2);
  assert.equal(created.length, 2);
  const [answer, repeat] = created.map((s) => s.data) as [Record<string, any>, Record<string, any>];
  assert.deepEqual(repeat, answer, 'the repeated request gets the recorded answer (same sha256, same createdAt)');
  // One recorded build per snapshotId. (A build inside a transaction group that another event's failure
  // rolls back is redone when the group is replayed; its bytes, sha256 and uri are the same.)
  const [{ n: recorded }] = await app.get<DataSource>(POSTGRES).query(`SELECT count(*)::int AS n FROM feature_store.snapshots WHERE snapshot_id = $1`, [request.snapshotId]);
  assert.equal(recorded, 1);
  assert.ok(app.get(BuildSnapshotService).builds >= 1);
  assert.equal(answer.rows, 3);
  assert.equal(answer.format, 'jsonl');
  assert.deepEqual(
    answer.columns.map((c: { name: string; role: string }) => `${c.role}:${c.name}`),
    ['entity:entity_id', 'event_time:event_time', 'feature:tenure', 'feature:plan_idx', 'feature:txn_count_1h', 'feature:amount_sum_1h', 'feature:avg_amount_1h', 'label:churned'],
  );

  const bytes = await createArtifactStore({ url: config.ARTIFACT_STORE_URL }).get(answer.uri);
  assert.equal(createHash('sha256').update(bytes).digest('hex'), answer.sha256);
  const expected = [
    { entity_id: e1, event_time: labelTime, tenure: 100, plan_idx: 1, txn_count_1h: 4, amount_sum_1h: 18.5, avg_amount_1h: 18.5 / 4, churned: true },
    { entity_id: e2, event_time: labelTime, tenure: 100, plan_idx: 0, txn_count_1h: 1, amount_sum_1h: 7, avg_amount_1h: 7, churned: false },
    { entity_id: e4, event_time: labelTime, tenure: null, plan_idx: null, txn_count_1h: null, amount_sum_1h: null, avg_amount_1h: null, churned: true },
  ];
  assert.equal(bytes.toString('utf8'), expected.map((row) => `${JSON.stringify(row)}\n`).join(''));
});

test('a snapshot request for a view that does not exist is dead-lettered, not retried forever', async () => {
  const request = snapshotRequest({ name: `${RUN}_ghost`, version: 1 }, undefined);
  const poison = newEvent(REQUESTED, request, { source: TEST_SOURCE });
  await producer.publish(poison);
  const [letter] = await readTopic(dlqTopicOf(REQUESTED), (s) => s.id === poison.id, (m) => m.length >= 1);
  assert.equal(letter!.headers.dlq_reason, 'rejected-by-handler');
  assert.equal(letter!.headers.dlq_consumer, config.CONSUMER_GROUP);
  assert.match(letter!.headers.dlq_error!, /unknown feature view/);
});

test('a new version is backfilled from the offline store, then fed live; older versions keep their vectors', async () => {
  const [e1, e2] = [`${RUN}-e1`, `${RUN}-e2`];
  const v2Definition = { ...viewDefinition, features: [...viewDefinition.features, { kind: 'log', name: 'log_amount', field: 'amount' }] };
  const created = await http('POST', '/feature-views', v2Definition);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.version, 2);
  assert.equal(created.body.status, 'backfilling');
  const versions = await eventually(async () => {
    const res = await http('GET', `/feature-views/${VIEW}`);
    return res.body.servingVersion === 2 ? res.body : undefined;
  }, 'version 2 to be backfilled and serving');
  assert.deepEqual(versions.versions.map((v: { version: number; status: string }) => [v.version, v.status]), [[1, 'ready'], [2, 'ready']]);
  assert.equal(versions.latestVersion, 2);
  const backfill = versions.versions[1].backfill;
  assert.ok(backfill.rows >= 5 && backfill.entities >= 2 && typeof backfill.finishedAt === 'string', JSON.stringify(backfill));

  // Version 2 knows the history: the same windows as version 1, plus its new feature.
  const history = await http('GET', `/feature-views/${VIEW}/entities/${e1}`);
  assert.deepEqual(history.body.featureView, { name: VIEW, version: 2 });
  assert.equal(history.body.features.txn_count_1h, 4, 'the four records of e1, the retried one counted once');
  assert.equal(history.body.features.amount_sum_1h, 18.5);
  assert.ok(Math.abs(history.body.features.log_amount - Math.log(2)) < 1e-12, 'log(1 + 1) of the newest amount');
  // Its offline rows are those version 1 computed live, same times: a past label sees them as it saw version 1's.
  const clickhouse = app.get<ClickHouseClient>(CLICKHOUSE);
  const rows = async (version: number) =>
    (await (
      await clickhouse.query({
        query: `SELECT entity_id, toString(event_time) AS t, toString(created_at) AS c, JSONExtractInt(features, 'txn_count_1h') AS n
                FROM feature_store.offline_feature_rows WHERE view_name = {view:String} AND view_version = {v:UInt32} AND entity_id IN ({e1:String}, {e2:String})
                ORDER BY entity_id, event_time, created_at`,
        query_params: { view: VIEW, v: version, e1, e2 },
        format: 'JSONEachRow',
      })
    ).json()) as unknown[];
  const v1Rows = await rows(1);
  assert.equal(v1Rows.length, 5);
  assert.deepEqual(await rows(2), v1Rows);

  // From now on records feed version 2 only.
  await producer.publish(activity(e1, -1 * MINUTE, Math.E - 1, 'enterprise'));
  const v2 = await eventually(async () => {
    const res = await http('GET', `/feature-views/${VIEW}/entities/${e1}`);
    return res.status === 200 && res.body.features.txn_count_1h === 5 ? res : undefined;
  }, 'the version 2 vector of e1 to count the new record');
  assert.equal(v2.body.features.plan_idx, 2, 'out of vocabulary');
  assert.ok(Math.abs(v2.body.features.log_amount - 1) < 1e-12);
  const v1 = await http('GET', `/feature-views/${VIEW}/entities/${e1}?version=1`);
  assert.equal(v1.body.features.txn_count_1h, 4, 'version 1 no longer changes');
});

test('records arriving while a version is backfilled are counted once: by the replay or live, never both, never neither', async () => {
  const e5 = `${RUN}-e5`;
  const v3Definition = { ...viewDefinition, features: [...viewDefinition.features, { kind: 'aggregate', name: 'amount_max_1h', field: 'amount', function: 'max', window: '1h' }] };
  const batches = 10;
  const perBatch = 5;
  // Records of one entity within the last 50 minutes, in batches before, during and after the version's creation.
  const records = Array.from({ length: batches * perBatch }, (_, i) => activity(e5, -50 * MINUTE + i * 1_000, 1, 'basic'));
  await producer.publishMany(records.slice(0, perBatch));
  const creating = http('POST', '/feature-views', v3Definition);
  for (let b = 1; b < batches; b++) {
    await producer.publishMany(records.slice(b * perBatch, (b + 1) * perBatch));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const created = await creating;
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const version = created.body.version as number;
  const vector = await eventually(async () => {
    const res = await http('GET', `/feature-views/${VIEW}/entities/${e5}?version=${version}`);
    return res.status === 200 && res.body.features.txn_count_1h >= records.length ? res : undefined;
  }, `version ${version} to count every record of e5`);
  // Give a double count time to show, then check the exact figure and the offline rows, one per record.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const settled = await http('GET', `/feature-views/${VIEW}/entities/${e5}?version=${version}`);
  assert.equal(settled.body.features.txn_count_1h, records.length, JSON.stringify(vector.body));
  const clickhouse = app.get<ClickHouseClient>(CLICKHOUSE);
  const [row] = (await (
    await clickhouse.query({
      query: `SELECT count() AS n, uniqExact(source_event_id) AS events FROM feature_store.offline_feature_rows WHERE view_name = {view:String} AND view_version = {v:UInt32} AND entity_id = {e:String}`,
      query_params: { view: VIEW, v: version, e: e5 },
      format: 'JSONEachRow',
    })
  ).json()) as Array<{ n: string | number; events: string | number }>;
  assert.equal(Number(row!.events), records.length, 'a row for every record');
  assert.equal(Number(row!.n), records.length, 'and only one');
});

test('a snapshot request for a version still backfilling waits for it, then is answered', async () => {
  const dataSource = app.get<DataSource>(POSTGRES);
  const setStatus = (status: string) => dataSource.query(`UPDATE feature_store.feature_views SET status = $3 WHERE name = $1 AND version = $2`, [VIEW, 2, status]);
  const request = snapshotRequest({ name: VIEW, version: 2 });
  const count = async (table: string) =>
    (await dataSource.query(`SELECT count(*)::int AS n FROM feature_store.${table} WHERE snapshot_id = $1`, [request.snapshotId]))[0].n as number;
  await setStatus('backfilling');
  try {
    await producer.publish(newEvent(REQUESTED, request, { source: TEST_SOURCE }));
    await eventually(async () => (await count('deferred_snapshots')) === 1, 'the request to be deferred');
    assert.equal(await count('snapshots'), 0, 'nothing is built from a version whose offline rows are still being written');
  } finally {
    await setStatus('ready');
  }
  assert.equal(await app.get(BuildSnapshotService).answerDeferred({ name: VIEW, version: 2 }), 1);
  assert.equal(await app.get(BuildSnapshotService).answerDeferred({ name: VIEW, version: 2 }), 0, 'answered once');
  const [created] = await readTopic(CREATED, (s) => s.data.snapshotId === request.snapshotId, (m) => m.length >= 1);
  const answer = created!.data as Record<string, any>;
  assert.equal(answer.rows, 3);
  assert.ok(answer.columns.some((c: { name: string }) => c.name === 'log_amount'), 'built from version 2');
  assert.equal(await count('deferred_snapshots'), 0);
  assert.equal(await count('snapshots'), 1);
});
