// The feature-store app in-process against the REAL stack (Kafka, Postgres, embedded chdb in its own temp
// directory): events go in through an EventProducer, come out on their topics; HTTP through app.listen(0).
// Each test registers its own datasets and creates its own views: none depends on another's data.
import 'reflect-metadata';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { INestApplication } from '@nestjs/common';
import { createArtifactStore } from '@mlops/artifacts';
import {
  type DataValidatedV1,
  type DatasetRegisteredV1,
  type DatasetSnapshotRequestedV1,
  EventTypes,
  dlqTopicOf,
} from '@mlops/contracts';
import { type CloudEvent, EventProducer, newEvent, startGroupAtEnd } from '@mlops/messaging';
import { authorized, testKafka } from '@mlops/testing';
import { RegistrationsLag } from '../../src/datasets/track-dataset/registrations-lag';
import type { DataSource } from 'typeorm';
import { CLICKHOUSE, type ClickHouseClient, POSTGRES } from '@mlops/storage';
import { createFeatureStoreApp } from '../../src/app';
import type { FeatureStoreConfig } from '../../src/config';
import { createFeatureViewRequest } from '../../src/feature-views/create-feature-view/create-feature-view.request';
import { CatalogStore } from '../../src/infrastructure/catalog-store';
import { BuildSnapshotService } from '../../src/snapshots/build-snapshot/build-snapshot.service';
import { type Seen, eventually, readTopic, runId, testConfig } from './support';

const REGISTERED = EventTypes.DatasetRegisteredV1;
const VALIDATED = EventTypes.DataValidatedV1;
const MATERIALIZED = EventTypes.FeaturesMaterializedV1;
const REQUESTED = EventTypes.DatasetSnapshotRequestedV1;
const CREATED = EventTypes.DatasetSnapshotCreatedV1;
const TEST_SOURCE = 'urn:mlops:test:feature-store';

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

/** A test's own datasets (activity features, churn labels) and view name. */
interface Fixture {
  readonly activity: string;
  readonly churn: string;
  readonly view: string;
  entity(name: string): string;
}

function registered(dataset: string, role: 'features' | 'labels'): DatasetRegisteredV1 {
  return role === 'features'
    ? {
        dataset,
        version: 1,
        role,
        recordSchema: activitySchema,
        entityKeyField: 'customer_id',
        eventTimeField: 'event_time',
        sensitiveFields: ['email'],
        registeredAt: new Date().toISOString(),
      }
    : {
        dataset,
        version: 1,
        role,
        recordSchema: {
          type: 'object',
          required: ['customer_id', 'event_time', 'churned'],
          properties: { customer_id: { type: 'string' }, event_time: { type: 'string' }, churned: { type: 'boolean' } },
        },
        entityKeyField: 'customer_id',
        eventTimeField: 'event_time',
        labelField: 'churned',
        sensitiveFields: [],
        registeredAt: new Date().toISOString(),
      };
}

function definitionOf(fixture: Fixture) {
  return {
    name: fixture.view,
    source: { dataset: fixture.activity },
    ttl: '1d',
    features: [
      { kind: 'field', name: 'tenure', field: 'tenure_days' },
      { kind: 'categorical', encoding: 'index', name: 'plan_idx', field: 'plan', vocabulary: ['basic', 'premium'] },
      { kind: 'aggregate', name: 'txn_count_1h', field: 'amount', function: 'count', window: '1h' },
      { kind: 'aggregate', name: 'amount_sum_1h', field: 'amount', function: 'sum', window: '1h' },
      { kind: 'expression', name: 'avg_amount_1h', expression: 'amount_sum_1h / txn_count_1h' },
    ],
  };
}

function activity(
  fixture: Fixture,
  entityId: string,
  offsetMs: number,
  amount: number,
  plan: string,
  recordId = randomUUID(),
): CloudEvent<typeof VALIDATED> {
  const eventTime = at(offsetMs);
  const data: DataValidatedV1 = {
    dataset: fixture.activity,
    datasetVersion: 1,
    role: 'features',
    entityId,
    eventTime,
    record: {
      customer_id: entityId,
      event_time: eventTime,
      email: `${entityId}@example.com`,
      tenure_days: 100,
      amount,
      plan,
    },
    recordId,
    sourceEventId: randomUUID(),
    validatedAt: new Date().toISOString(),
  };
  return newEvent(VALIDATED, data, { source: TEST_SOURCE, subject: fixture.activity });
}

function label(fixture: Fixture, entityId: string, eventTime: string, churned: boolean): CloudEvent<typeof VALIDATED> {
  return newEvent(
    VALIDATED,
    {
      dataset: fixture.churn,
      datasetVersion: 1,
      role: 'labels',
      entityId,
      eventTime,
      record: { customer_id: entityId, event_time: eventTime, churned },
      sourceEventId: randomUUID(),
      validatedAt: new Date().toISOString(),
    },
    { source: TEST_SOURCE, subject: fixture.churn },
  );
}

/** A snapshot request over the churn labels of the last hour (and the next minute) for a view version. */
function snapshotRequest(
  fixture: Fixture,
  featureView: { name: string; version: number },
  featureTtlSeconds: number | undefined = 86_400,
): DatasetSnapshotRequestedV1 {
  return {
    snapshotId: randomUUID(),
    trainingRunId: randomUUID(),
    featureView,
    labels: { dataset: fixture.churn, field: 'churned' },
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
  const res = await fetch(
    `${base}${path}`,
    authorized({
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    }),
  );
  return { status: res.status, body: await res.json() };
}

/** Registers a test's own datasets and waits until the feature store knows them. */
async function fixture(prefix: string): Promise<Fixture> {
  const run = runId(prefix);
  const own: Fixture = {
    activity: `${run}_activity`,
    churn: `${run}_churn`,
    view: `${run}_customer`,
    entity: (name) => `${run}-${name}`,
  };
  await producer.publishMany([
    newEvent(REGISTERED, registered(own.activity, 'features'), { source: TEST_SOURCE, subject: own.activity }),
    newEvent(REGISTERED, registered(own.churn, 'labels'), { source: TEST_SOURCE, subject: own.churn }),
  ]);
  const catalog = app.get(CatalogStore);
  await eventually(
    async () => (await catalog.dataset(own.activity)) !== undefined && (await catalog.dataset(own.churn)) !== undefined,
    'the dataset registrations',
  );
  return own;
}

/** Creates a view version and waits until it is backfilled and serving. */
async function readyView(definition: { name: string }): Promise<number> {
  const created = await http('POST', '/feature-views', definition);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const version = created.body.version as number;
  await eventually(
    async () => (await http('GET', `/feature-views/${definition.name}`)).body.servingVersion === version,
    `${definition.name}@${version} to serve`,
  );
  return version;
}

/** The online vector of an entity once `ready` accepts it. */
function vectorWhen(path: string, ready: (body: any) => boolean, what: string): Promise<{ status: number; body: any }> {
  return eventually(async () => {
    const res = await http('GET', path);
    return res.status === 200 && ready(res.body) ? res : undefined;
  }, what);
}

async function offlineRows(view: string, version: number): Promise<Array<[string, number]>> {
  const rows = await (
    await app.get<ClickHouseClient>(CLICKHOUSE).query({
      query: `SELECT entity_id, features FROM feature_store.offline_feature_rows FINAL WHERE view_name = {view:String} AND view_version = {v:UInt32} ORDER BY entity_id, event_time`,
      query_params: { view, v: version },
      format: 'JSONEachRow',
    })
  ).json<{ entity_id: string; features: string }>();
  return rows.map((r) => [r.entity_id, JSON.parse(r.features).txn_count_1h as number]);
}

before(async () => {
  const setup = await testConfig();
  config = setup.config;
  dirs = [setup.clickhouseDir, setup.artifactDir];
  app = await createFeatureStoreApp(config);
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  producer = app.get(EventProducer);
});

after(async () => {
  await app?.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

test('a view over a dataset that is not registered is 404 unknown_dataset', async () => {
  const own = await fixture('fs404');
  const unknown = await http('POST', '/feature-views', {
    ...definitionOf(own),
    source: { dataset: `${own.activity}_nope` },
  });
  assert.equal(unknown.status, 404);
  assert.deepEqual(unknown.body, {
    error: 'unknown_dataset',
    message: `dataset "${own.activity}_nope" is not registered`,
    details: { dataset: `${own.activity}_nope` },
  });
  assert.equal((await http('GET', `/feature-views/${own.view}`)).status, 404, 'nothing was created');
});

test('a view that does not fit its dataset is 422 with every reason at its path', async () => {
  const own = await fixture('fs422');
  const misfit = {
    ...definitionOf(own),
    features: [
      { kind: 'field', name: 'mail', field: 'email' },
      { kind: 'field', name: 'ghost', field: 'no_such_field' },
      { kind: 'aggregate', name: 'plan_sum', field: 'plan', function: 'sum', window: '1h' },
    ],
  };
  const refused = await http('POST', '/feature-views', misfit);
  assert.equal(refused.status, 422);
  assert.equal(refused.body.error, 'invalid_definition');
  const issues = refused.body.details.issues as Array<{ path: string; message: string }>;
  assert.deepEqual(issues.map((i) => i.path).sort(), ['/features/0/field', '/features/1/field', '/features/2/field']);
  assert.match(issues[0]!.message, /sensitive/);
  const labelsView = await http('POST', '/feature-views', { ...definitionOf(own), source: { dataset: own.churn } });
  assert.equal(labelsView.status, 422, 'a view over a labels dataset is refused');
  assert.deepEqual(
    labelsView.body.details.issues.map((i: { path: string }) => i.path),
    ['/source/dataset'],
  );
});

test('a definition with an unknown key, or a version, is 400 invalid_request naming each key', async () => {
  const own = await fixture('fskey');
  const definition = definitionOf(own);
  const refused = await http('POST', '/feature-views', {
    ...definition,
    version: 3,
    features: [{ ...definition.features[0], colour: 'red' }, ...definition.features.slice(1)],
  });
  assert.equal(refused.status, 400);
  assert.equal(refused.body.error, 'invalid_request');
  assert.deepEqual(refused.body.errors, [
    { path: '/version', message: 'is not a known key' },
    { path: '/features/0/colour', message: 'is not a known key' },
  ]);
  assert.equal((await http('GET', `/feature-views/${own.view}`)).status, 404, 'nothing was created');
});

test('a window or ttl of null or an object is 400 at its path, never 500', async () => {
  const own = await fixture('fswin');
  const definition = definitionOf(own);
  for (const window of [null, { hours: 1 }]) {
    const features = [{ kind: 'aggregate', name: 'a', field: 'amount', function: 'sum', window }];
    const refused = await http('POST', '/feature-views', { ...definition, features });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.deepEqual(
      refused.body.errors.map((e: { path: string }) => e.path),
      ['/features/0/window'],
    );
  }
  const noTtl = await http('POST', '/feature-views', { ...definition, ttl: { days: 1 } });
  assert.equal(noTtl.status, 400);
  assert.deepEqual(
    noTtl.body.errors.map((e: { path: string }) => e.path),
    ['/ttl'],
  );
});

test('a fitting definition is version 1 (201); the same again is that version (200), listed by GET', async () => {
  const own = await fixture('fsver');
  const definition = definitionOf(own);
  const created = await http('POST', '/feature-views', definition);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.version, 1);
  assert.equal(created.body.status, 'backfilling');
  // Key order does not make a new version.
  const again = await http('POST', '/feature-views', {
    features: definition.features,
    ttl: definition.ttl,
    source: definition.source,
    name: definition.name,
  });
  assert.equal(again.status, 200, 'the same definition is the same version');
  assert.equal(again.body.version, 1);
  const versions = await http('GET', `/feature-views/${own.view}`);
  assert.equal(versions.status, 200);
  assert.equal(versions.body.name, own.view);
  assert.equal(versions.body.latestVersion, 1);
  assert.deepEqual(
    versions.body.versions.map((v: { version: number }) => v.version),
    [1],
  );
  assert.deepEqual(versions.body.versions[0].definition, { ...definition, version: 1 });
  const missing = await http('GET', `/feature-views/${own.view}_missing`);
  assert.deepEqual(missing, {
    status: 404,
    body: { error: 'view_not_found', message: `feature view "${own.view}_missing" does not exist` },
  });
});

test('online lookups: a bad version or asOf is 400; an unknown version or entity 404', async () => {
  const own = await fixture('fsget');
  await readyView(definitionOf(own));
  const e1 = own.entity('e1');
  await producer.publish(activity(own, e1, -10 * MINUTE, 3, 'basic'));
  await vectorWhen(`/feature-views/${own.view}/entities/${e1}`, () => true, 'the vector of e1');
  const path = `/feature-views/${own.view}/entities/${e1}`;
  for (const query of ['version=0', 'version=one', 'asOf=yesterday', 'at=now']) {
    const res = await http('GET', `${path}?${query}`);
    assert.equal(res.status, 400, query);
    assert.equal(res.body.error, 'invalid_request', query);
  }
  const early = await http('GET', `${path}?asOf=${encodeURIComponent(at(-60 * MINUTE))}`);
  assert.equal(early.status, 400);
  assert.equal(early.body.error, 'as_of_before_newest_record');
  assert.equal((await http('GET', `${path}?version=2`)).body.error, 'view_not_found');
  assert.deepEqual(await http('GET', `/feature-views/${own.view}/entities/${own.entity('nobody')}`), {
    status: 404,
    body: { error: 'entity_not_found', message: `no features for entity "${own.entity('nobody')}" in ${own.view}@1` },
  });
  assert.equal((await http('GET', `${path}?asOf=now`)).status, 200);
});

test('validated records become online vectors, materialized events and offline rows; redeliveries count once', async () => {
  const own = await fixture('fsmat');
  await readyView(definitionOf(own));
  const [e1, e2] = [own.entity('e1'), own.entity('e2')];
  const third = activity(own, e1, -10 * MINUTE, 2.5, 'premium');
  await producer.publishMany([
    activity(own, e1, -30 * MINUTE, 10, 'premium'),
    activity(own, e1, -20 * MINUTE, 5, 'premium'),
    third,
    activity(own, e2, -5 * MINUTE, 7, 'basic'),
  ]);

  const first = await vectorWhen(
    `/feature-views/${own.view}/entities/${e1}`,
    (body) => body.features.txn_count_1h === 3,
    'the online vector of e1',
  );
  assert.deepEqual(first.body.features, {
    tenure: 100,
    plan_idx: 1,
    txn_count_1h: 3,
    amount_sum_1h: 17.5,
    avg_amount_1h: 17.5 / 3,
  });
  assert.deepEqual(
    Object.keys(first.body.features),
    ['tenure', 'plan_idx', 'txn_count_1h', 'amount_sum_1h', 'avg_amount_1h'],
    'in declaration order',
  );
  assert.equal(first.body.eventTime, at(-10 * MINUTE));
  assert.equal(first.body.fresh, true);
  assert.deepEqual(first.body.featureView, { name: own.view, version: 1 });

  // The same CloudEvent again (a Kafka redelivery), the same record under a new event id (an upstream retry),
  // then one new record of e1 behind them on the same partition: only the new one counts.
  const retried = newEvent(
    VALIDATED,
    { ...third.data, sourceEventId: randomUUID() },
    { source: TEST_SOURCE, subject: own.activity },
  );
  await producer.publishMany([third, retried, activity(own, e1, -5 * MINUTE, 1, 'premium')]);
  const after = await vectorWhen(
    `/feature-views/${own.view}/entities/${e1}?version=1`,
    (body) => body.eventTime === at(-5 * MINUTE),
    'the vector after the new record',
  );
  assert.deepEqual(after.body.features, {
    tenure: 100,
    plan_idx: 1,
    txn_count_1h: 4,
    amount_sum_1h: 18.5,
    avg_amount_1h: 18.5 / 4,
  });
  const other = await vectorWhen(`/feature-views/${own.view}/entities/${e2}`, () => true, 'the vector of e2');
  assert.deepEqual(other.body.features, {
    tenure: 100,
    plan_idx: 0,
    txn_count_1h: 1,
    amount_sum_1h: 7,
    avg_amount_1h: 7,
  });

  // A marker record of e1 after the duplicates: its event ends the read, so an extra event for a duplicate shows.
  const markerTime = at(-1 * MINUTE);
  await producer.publish(activity(own, e1, -1 * MINUTE, 1, 'premium'));
  const mine = (seen: Seen) => seen.data.featureView?.name === own.view && seen.data.entityId === e1;
  const ofE1 = await readTopic(MATERIALIZED, mine, (m) => m.some((s) => s.data.eventTime === markerTime));
  assert.deepEqual(
    ofE1.map((s) => s.data.features.txn_count_1h),
    [1, 2, 3, 4, 5],
    'one event per counted record, none for the duplicates',
  );
  assert.equal(ofE1[3]!.key, `${own.view}/1/${e1}`);
  assert.equal(ofE1[3]!.data.eventTime, at(-5 * MINUTE));
  assert.ok(ofE1.every((s) => !('email' in s.data.features)));
  assert.deepEqual(
    await offlineRows(own.view, 1),
    [
      [e1, 1],
      [e1, 2],
      [e1, 3],
      [e1, 4],
      [e1, 5],
      [e2, 1],
    ],
    'one offline row per counted record, as of its own time',
  );
});

test('an event redelivered after its commit failed past the offline insert leaves one offline row of each kind', async () => {
  const own = await fixture('fsredo');
  await readyView(definitionOf(own));
  const e1 = own.entity('e1');
  const dataSource = app.get<DataSource>(POSTGRES);
  const clickhouse = app.get<ClickHouseClient>(CLICKHOUSE);
  // The first commit that writes e1's state fails at COMMIT (a deferred constraint trigger), after WriteBehind
  // inserted the offline rows: the consumer retries the event (40001 is transient), which writes them again.
  const name = `fail_once_${own.view}`;
  await dataSource.query(`CREATE SEQUENCE feature_store.${name}`);
  await dataSource.query(`
    CREATE FUNCTION feature_store.${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF nextval('feature_store.${name}') = 1 THEN
        RAISE EXCEPTION 'injected: the commit fails after the offline insert' USING ERRCODE = 'serialization_failure';
      END IF;
      RETURN NULL;
    END $$`);
  await dataSource.query(`
    CREATE CONSTRAINT TRIGGER ${name} AFTER INSERT OR UPDATE ON feature_store.aggregation_states
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.entity_id = '${e1}') EXECUTE FUNCTION feature_store.${name}()`);
  try {
    const record = activity(own, e1, -10 * MINUTE, 2.5, 'premium');
    await producer.publish(record);
    const vector = await vectorWhen(
      `/feature-views/${own.view}/entities/${e1}`,
      (body) => body.features.txn_count_1h === 1,
      'the vector of e1 once the retried event committed',
    );
    assert.equal(vector.body.features.amount_sum_1h, 2.5);
    const [{ calls }] = await dataSource.query(`SELECT last_value::int AS calls FROM feature_store.${name}`);
    assert.ok(calls >= 2, `the commit failed once and the event was handled again (${calls} commits tried)`);

    const count = async (query: string): Promise<number> => {
      const [row] = await (
        await clickhouse.query({
          query,
          query_params: { view: own.view, dataset: own.activity, id: record.id },
          format: 'JSONEachRow',
        })
      ).json<{ n: string | number }>();
      return Number(row?.n);
    };
    const featureRows = `SELECT count() AS n FROM feature_store.offline_feature_rows FINAL
                         WHERE view_name = {view:String} AND source_event_id = {id:String}`;
    const sourceRecords = `SELECT count() AS n FROM feature_store.offline_source_records FINAL
                           WHERE dataset = {dataset:String} AND source_event_id = {id:String}`;
    assert.equal(await count(featureRows), 1, 'one offline feature row, as read');
    assert.equal(await count(sourceRecords), 1, 'one source record, as read');
    assert.deepEqual(await offlineRows(own.view, 1), [[e1, 1]], 'counted once');
    // Merged for good: the copy of the failed attempt is gone from storage too, and the committed one stayed.
    await clickhouse.command({ query: 'OPTIMIZE TABLE feature_store.offline_feature_rows FINAL' });
    await clickhouse.command({ query: 'OPTIMIZE TABLE feature_store.offline_source_records FINAL' });
    assert.equal(await count(featureRows.replace(' FINAL', '')), 1, 'one feature row stored after the merge');
    assert.equal(await count(sourceRecords.replace(' FINAL', '')), 1, 'one source record stored after the merge');
  } finally {
    await dataSource.query(`DROP TRIGGER ${name} ON feature_store.aggregation_states`);
    await dataSource.query(`DROP FUNCTION feature_store.${name}()`);
    await dataSource.query(`DROP SEQUENCE feature_store.${name}`);
  }
});

test('the windows of a lookup with asOf slide to that time', async () => {
  const own = await fixture('fsasof');
  await readyView(definitionOf(own));
  const e1 = own.entity('e1');
  await producer.publishMany([
    activity(own, e1, -30 * MINUTE, 10, 'premium'),
    activity(own, e1, -5 * MINUTE, 2, 'premium'),
  ]);
  await vectorWhen(
    `/feature-views/${own.view}/entities/${e1}`,
    (body) => body.features.txn_count_1h === 2,
    'the vector of e1',
  );
  // 2 hours after the newest record its 1-hour window is empty; 45 minutes after it holds only the newest.
  const empty = await http(
    'GET',
    `/feature-views/${own.view}/entities/${e1}?version=1&asOf=${encodeURIComponent(at(115 * MINUTE))}`,
  );
  assert.equal(empty.status, 200, JSON.stringify(empty.body));
  assert.deepEqual(empty.body.features, {
    tenure: 100,
    plan_idx: 1,
    txn_count_1h: 0,
    amount_sum_1h: 0,
    avg_amount_1h: null,
  });
  assert.equal(empty.body.asOf, at(115 * MINUTE));
  const partial = await http(
    'GET',
    `/feature-views/${own.view}/entities/${e1}?asOf=${encodeURIComponent(at(40 * MINUTE))}`,
  );
  assert.deepEqual(partial.body.features, {
    tenure: 100,
    plan_idx: 1,
    txn_count_1h: 1,
    amount_sum_1h: 2,
    avg_amount_1h: 2,
  });
});

test('snapshot requests: point-in-time rows in the artifact store, one build and one answer per request event', async () => {
  const own = await fixture('fssnap');
  await readyView(definitionOf(own));
  const [e1, e2, e4] = [own.entity('e1'), own.entity('e2'), own.entity('e4')];
  await producer.publishMany([
    activity(own, e1, -20 * MINUTE, 10, 'premium'),
    activity(own, e1, -10 * MINUTE, 5, 'premium'),
    activity(own, e2, -5 * MINUTE, 7, 'basic'),
  ]);
  await vectorWhen(
    `/feature-views/${own.view}/entities/${e1}`,
    (body) => body.features.txn_count_1h === 2,
    'the vector of e1',
  );
  await vectorWhen(`/feature-views/${own.view}/entities/${e2}`, () => true, 'the vector of e2');
  // Labels known now, after the features were computed (created_at <= label time); e4 has no features.
  const labelTime = new Date().toISOString();
  await producer.publishMany([
    label(own, e1, labelTime, true),
    label(own, e2, labelTime, false),
    label(own, e4, labelTime, true),
  ]);
  const clickhouse = app.get<ClickHouseClient>(CLICKHOUSE);
  await eventually(async () => {
    const [row] = await (
      await clickhouse.query({
        query: `SELECT count() AS n FROM feature_store.offline_label_rows WHERE dataset = {d:String}`,
        query_params: { d: own.churn },
        format: 'JSONEachRow',
      })
    ).json<{ n: string }>();
    return Number(row?.n) === 3;
  }, 'the label rows');

  const service = app.get(BuildSnapshotService);
  const buildsBefore = service.builds;
  const request = snapshotRequest(own, { name: own.view, version: 1 });
  // The same request three times, as three events (a requester retrying); the third is the marker that ends the
  // read: the requests share a key, so an extra answer to the first two would come before the marker's.
  const events = [0, 1, 2].map(() =>
    newEvent(REQUESTED, { ...request, requestedAt: new Date().toISOString() }, { source: TEST_SOURCE }),
  );
  for (const event of events) await producer.publish(event);
  const marker = events[2]!;
  const created = await readTopic(
    CREATED,
    (s) => s.data.snapshotId === request.snapshotId,
    (m) => m.some((s) => s.headers.ce_causationid === marker.id),
  );
  assert.deepEqual(
    created.map((s) => s.headers.ce_causationid),
    events.map((e) => e.id),
    `one answer per request event, in order: ${JSON.stringify(created.map((s) => [s.id, s.headers.ce_causationid, s.data.createdAt]))}`,
  );
  const [answer, ...repeats] = created.map((s) => s.data) as Array<Record<string, any>>;
  for (const repeat of repeats)
    assert.deepEqual(repeat, answer, 'a repeated request gets the recorded answer (same sha256, same createdAt)');
  assert.equal(service.builds - buildsBefore, 1, 'one build for the three requests');
  const [{ n: recorded }] = await app
    .get<DataSource>(POSTGRES)
    .query(`SELECT count(*)::int AS n FROM feature_store.snapshots WHERE snapshot_id = $1`, [request.snapshotId]);
  assert.equal(recorded, 1);
  assert.equal(answer!.rows, 3);
  assert.equal(answer!.format, 'jsonl');
  assert.deepEqual(
    answer!.columns.map((c: { name: string; role: string }) => `${c.role}:${c.name}`),
    [
      'entity:entity_id',
      'event_time:event_time',
      'feature:tenure',
      'feature:plan_idx',
      'feature:txn_count_1h',
      'feature:amount_sum_1h',
      'feature:avg_amount_1h',
      'label:churned',
    ],
  );

  const bytes = await createArtifactStore({ url: config.ARTIFACT_STORE_URL }).get(answer!.uri);
  assert.equal(createHash('sha256').update(bytes).digest('hex'), answer!.sha256);
  const expected = [
    {
      entity_id: e1,
      event_time: labelTime,
      tenure: 100,
      plan_idx: 1,
      txn_count_1h: 2,
      amount_sum_1h: 15,
      avg_amount_1h: 7.5,
      churned: true,
    },
    {
      entity_id: e2,
      event_time: labelTime,
      tenure: 100,
      plan_idx: 0,
      txn_count_1h: 1,
      amount_sum_1h: 7,
      avg_amount_1h: 7,
      churned: false,
    },
    {
      entity_id: e4,
      event_time: labelTime,
      tenure: null,
      plan_idx: null,
      txn_count_1h: null,
      amount_sum_1h: null,
      avg_amount_1h: null,
      churned: true,
    },
  ];
  assert.equal(bytes.toString('utf8'), expected.map((row) => `${JSON.stringify(row)}\n`).join(''));
});

test('a snapshot request for a view that does not exist is dead-lettered, not retried forever', async () => {
  const own = await fixture('fsdlq');
  const request = snapshotRequest(own, { name: `${own.view}_ghost`, version: 1 }, undefined);
  const poison = newEvent(REQUESTED, request, { source: TEST_SOURCE });
  await producer.publish(poison);
  const [letter] = await readTopic(
    dlqTopicOf(REQUESTED),
    (s) => s.id === poison.id,
    (m) => m.length >= 1,
  );
  assert.equal(letter!.headers.dlq_reason, 'rejected-by-handler');
  assert.equal(letter!.headers.dlq_consumer, config.CONSUMER_GROUP);
  assert.match(letter!.headers.dlq_error!, /unknown feature view/);
});

test('a new version is backfilled from the offline store, then fed live; older versions keep their vectors', async () => {
  const own = await fixture('fsbf');
  const definition = definitionOf(own);
  await readyView(definition);
  const [e1, e2] = [own.entity('e1'), own.entity('e2')];
  await producer.publishMany([
    activity(own, e1, -30 * MINUTE, 10, 'premium'),
    activity(own, e1, -20 * MINUTE, 5, 'premium'),
    activity(own, e1, -5 * MINUTE, 1, 'premium'),
    activity(own, e2, -5 * MINUTE, 7, 'basic'),
  ]);
  await vectorWhen(
    `/feature-views/${own.view}/entities/${e1}`,
    (body) => body.features.txn_count_1h === 3,
    'the version 1 vector of e1',
  );
  await vectorWhen(`/feature-views/${own.view}/entities/${e2}`, () => true, 'the version 1 vector of e2');

  const v2Definition = {
    ...definition,
    features: [...definition.features, { kind: 'log', name: 'log_amount', field: 'amount' }],
  };
  const created = await http('POST', '/feature-views', v2Definition);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.version, 2);
  assert.equal(created.body.status, 'backfilling');
  const versions = await eventually(async () => {
    const res = await http('GET', `/feature-views/${own.view}`);
    return res.body.servingVersion === 2 ? res.body : undefined;
  }, 'version 2 to be backfilled and serving');
  assert.deepEqual(
    versions.versions.map((v: { version: number; status: string }) => [v.version, v.status]),
    [
      [1, 'ready'],
      [2, 'ready'],
    ],
  );
  assert.equal(versions.latestVersion, 2);
  const backfill = versions.versions[1].backfill;
  assert.deepEqual(
    { records: backfill.records, rows: backfill.rows, entities: backfill.entities },
    { records: 4, rows: 4, entities: 2 },
    JSON.stringify(backfill),
  );
  assert.equal(typeof backfill.finishedAt, 'string');

  // Version 2 knows the history: the same windows as version 1, plus its new feature.
  const history = await http('GET', `/feature-views/${own.view}/entities/${e1}`);
  assert.deepEqual(history.body.featureView, { name: own.view, version: 2 });
  assert.equal(history.body.features.txn_count_1h, 3);
  assert.equal(history.body.features.amount_sum_1h, 16);
  assert.ok(Math.abs(history.body.features.log_amount - Math.log(2)) < 1e-12, 'log(1 + 1) of the newest amount');
  // Its offline rows are those version 1 computed live, same times: a past label sees them as it saw version 1's.
  assert.deepEqual(await offlineRows(own.view, 2), await offlineRows(own.view, 1));
  assert.deepEqual(await offlineRows(own.view, 2), [
    [e1, 1],
    [e1, 2],
    [e1, 3],
    [e2, 1],
  ]);

  // From now on records feed version 2 only.
  await producer.publish(activity(own, e1, -1 * MINUTE, Math.E - 1, 'enterprise'));
  const v2 = await vectorWhen(
    `/feature-views/${own.view}/entities/${e1}`,
    (body) => body.features.txn_count_1h === 4,
    'the version 2 vector of e1 to count the new record',
  );
  assert.equal(v2.body.features.plan_idx, 2, 'out of vocabulary');
  assert.ok(Math.abs(v2.body.features.log_amount - 1) < 1e-12);
  const v1 = await http('GET', `/feature-views/${own.view}/entities/${e1}?version=1`);
  assert.equal(v1.body.features.txn_count_1h, 3, 'version 1 no longer changes');
});

test('records arriving while a version is backfilled are counted once: by the replay or live, never both, never neither', async () => {
  const own = await fixture('fsrace');
  const definition = definitionOf(own);
  await readyView(definition);
  const e5 = own.entity('e5');
  const v2Definition = {
    ...definition,
    features: [
      ...definition.features,
      { kind: 'aggregate', name: 'amount_max_1h', field: 'amount', function: 'max', window: '1h' },
    ],
  };
  const batches = 10;
  const perBatch = 5;
  // Records of one entity within the last 50 minutes, in batches before, during and after the version's creation.
  const records = Array.from({ length: batches * perBatch }, (_, i) =>
    activity(own, e5, -50 * MINUTE + i * 1_000, 1, 'basic'),
  );
  await producer.publishMany(records.slice(0, perBatch));
  const creating = http('POST', '/feature-views', v2Definition);
  for (let b = 1; b < batches; b++) {
    await producer.publishMany(records.slice(b * perBatch, (b + 1) * perBatch));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const created = await creating;
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const version = created.body.version as number;
  assert.equal(version, 2);
  const vector = await vectorWhen(
    `/feature-views/${own.view}/entities/${e5}?version=${version}`,
    (body) => body.features.txn_count_1h >= records.length,
    `version ${version} to count every record of e5`,
  );
  // Give a double count time to show, then check the exact figure and the offline rows, one per record.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const settled = await http('GET', `/feature-views/${own.view}/entities/${e5}?version=${version}`);
  assert.equal(settled.body.features.txn_count_1h, records.length, JSON.stringify(vector.body));
  const clickhouse = app.get<ClickHouseClient>(CLICKHOUSE);
  const [row] = (await (
    await clickhouse.query({
      query: `SELECT count() AS n, uniqExact(source_event_id) AS events FROM feature_store.offline_feature_rows WHERE view_name = {view:String} AND view_version = {v:UInt32} AND entity_id = {e:String}`,
      query_params: { view: own.view, v: version, e: e5 },
      format: 'JSONEachRow',
    })
  ).json()) as Array<{ n: string | number; events: string | number }>;
  assert.equal(Number(row!.events), records.length, 'a row for every record');
  assert.equal(Number(row!.n), records.length, 'and only one');
});

test('a snapshot request for a version still backfilling waits for it, then is answered when it is ready', async () => {
  const own = await fixture('fsdefer');
  const definition = definitionOf(own);
  await readyView(definition);
  const [e1, e2] = [own.entity('e1'), own.entity('e2')];
  await producer.publishMany([
    activity(own, e1, -10 * MINUTE, 2, 'premium'),
    activity(own, e2, -5 * MINUTE, 7, 'basic'),
  ]);
  await vectorWhen(`/feature-views/${own.view}/entities/${e2}`, () => true, 'the vector of e2');
  await vectorWhen(`/feature-views/${own.view}/entities/${e1}`, () => true, 'the vector of e1');
  const labelTime = new Date().toISOString();
  await producer.publishMany([label(own, e1, labelTime, true), label(own, e2, labelTime, false)]);

  const dataSource = app.get<DataSource>(POSTGRES);
  const request = snapshotRequest(own, { name: own.view, version: 2 });
  const count = async (table: string) =>
    (
      await dataSource.query(`SELECT count(*)::int AS n FROM feature_store.${table} WHERE snapshot_id = $1`, [
        request.snapshotId,
      ])
    )[0].n as number;
  // Holding the dataset lock as materialization does keeps the backfill of version 2 from finishing.
  const holder = dataSource.createQueryRunner();
  await holder.connect();
  try {
    await holder.startTransaction();
    await app.get(CatalogStore).lockDatasetShared(holder.manager, own.activity);
    const created = await http('POST', '/feature-views', {
      ...definition,
      features: [...definition.features, { kind: 'log', name: 'log_amount', field: 'amount' }],
    });
    assert.equal(created.body.version, 2, JSON.stringify(created.body));
    await producer.publish(newEvent(REQUESTED, request, { source: TEST_SOURCE }));
    await eventually(async () => (await count('deferred_snapshots')) === 1, 'the request to be deferred');
    assert.equal(
      await count('snapshots'),
      0,
      'nothing is built from a version whose offline rows are still being written',
    );
    assert.equal((await http('GET', `/feature-views/${own.view}`)).body.versions[1].status, 'backfilling');
  } finally {
    await holder.rollbackTransaction().catch(() => undefined);
    await holder.release();
  }
  // The backfill finishes and answers what waited for it.
  const [answered] = await readTopic(
    CREATED,
    (s) => s.data.snapshotId === request.snapshotId,
    (m) => m.length >= 1,
  );
  const answer = answered!.data as Record<string, any>;
  assert.equal(answer.rows, 2);
  assert.ok(
    answer.columns.some((c: { name: string }) => c.name === 'log_amount'),
    'built from version 2',
  );
  assert.equal(await count('deferred_snapshots'), 0);
  assert.equal(await count('snapshots'), 1);
  assert.equal(await app.get(BuildSnapshotService).answerDeferred({ name: own.view, version: 2 }), 0, 'answered once');
});

test('the OpenAPI document lists every endpoint with its request schema; /docs shows them', async () => {
  const document = (await http('GET', '/openapi.json')).body;
  assert.equal(document.openapi, '3.1.0');
  // (besides the platform's health and metrics routes)
  const paths = Object.keys(document.paths).filter((path) => path.startsWith('/feature-views'));
  assert.deepEqual(paths, ['/feature-views', '/feature-views/{name}', '/feature-views/{name}/entities/{id}']);
  const create = document.paths['/feature-views'].post;
  assert.deepEqual(
    create.requestBody.content['application/json'].schema,
    JSON.parse(JSON.stringify(createFeatureViewRequest)),
  );
  assert.deepEqual(Object.keys(create.responses).sort(), ['200', '201', '400', '404', '422', '503']);
  assert.deepEqual(
    Object.keys(document.paths).filter((path) => path.startsWith('/training-sets')),
    ['/training-sets', '/training-sets/{id}', '/training-sets/{id}/file'],
  );
  const lookup = document.paths['/feature-views/{name}/entities/{id}'].get;
  assert.deepEqual(
    lookup.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`),
    ['path:name', 'path:id', 'query:version', 'query:asOf'],
  );
  const docs = await fetch(`${base}/docs`, authorized());
  const page = await docs.text();
  assert.match(docs.headers.get('content-type') ?? '', /text\/html/);
  for (const text of [
    '/feature-views/{name}/entities/{id}',
    'Create the next version of a feature view',
    'invalid_definition',
  ])
    assert.ok(page.includes(text), text);
});

// ---------------------------------------------------------------- training sets (issue 9)
// In this file, not its own: two apps of one Postgres schema in parallel test processes race at shutdown (the
// outbox drain runs without the relay lock), duplicating events that the topic reads here count.

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any; headers: Headers; bytes: Buffer }> {
  const res = await fetch(
    `${base}${path}`,
    authorized({
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    }),
  );
  const bytes = Buffer.from(await res.arrayBuffer());
  const json = (res.headers.get('content-type') ?? '').includes('application/json');
  return {
    status: res.status,
    headers: res.headers,
    bytes,
    body: json ? JSON.parse(bytes.toString('utf8')) : undefined,
  };
}

function registrationOf(dataset: string, role: 'features' | 'labels'): DatasetRegisteredV1 {
  const common = {
    dataset,
    version: 1,
    entityKeyField: 'customer_id',
    eventTimeField: 'event_time',
    sensitiveFields: [],
  };
  return role === 'features'
    ? {
        ...common,
        role,
        recordSchema: {
          type: 'object',
          properties: {
            customer_id: { type: 'string' },
            event_time: { type: 'string', format: 'date-time' },
            amount: { type: 'number' },
          },
        },
        registeredAt: new Date().toISOString(),
      }
    : {
        ...common,
        role,
        recordSchema: {
          type: 'object',
          properties: { customer_id: { type: 'string' }, event_time: { type: 'string' }, churned: { type: 'boolean' } },
        },
        labelField: 'churned',
        registeredAt: new Date().toISOString(),
      };
}

function validatedOf(
  dataset: string,
  role: 'features' | 'labels',
  entityId: string,
  eventTime: string,
  record: Record<string, string | number | boolean>,
  knownAt?: string,
) {
  const data: DataValidatedV1 = {
    dataset,
    datasetVersion: 1,
    role,
    entityId,
    eventTime,
    record: { customer_id: entityId, event_time: eventTime, ...record },
    ...(knownAt !== undefined ? { knownAt } : {}),
    sourceEventId: randomUUID(),
    validatedAt: new Date().toISOString(),
  };
  return newEvent(VALIDATED, data, { source: TEST_SOURCE, subject: dataset });
}

interface Own {
  activity: string;
  churn: string;
  view: string;
}

async function registeredPair(prefix: string): Promise<Own> {
  const run = runId(prefix);
  const own = { activity: `${run}_activity`, churn: `${run}_churn`, view: `${run}_view` };
  await producer.publishMany([
    newEvent(REGISTERED, registrationOf(own.activity, 'features'), { source: TEST_SOURCE, subject: own.activity }),
    newEvent(REGISTERED, registrationOf(own.churn, 'labels'), { source: TEST_SOURCE, subject: own.churn }),
  ]);
  const catalog = app.get(CatalogStore);
  await eventually(
    async () => (await catalog.dataset(own.activity)) !== undefined && (await catalog.dataset(own.churn)) !== undefined,
    'the registrations',
  );
  return own;
}

async function readyWindowedView(own: Own): Promise<void> {
  const created = await call('POST', '/feature-views', {
    name: own.view,
    source: { dataset: own.activity },
    ttl: '1d',
    features: [
      { kind: 'field', name: 'last_amount', field: 'amount' },
      { kind: 'aggregate', name: 'count_1h', field: 'amount', function: 'count', window: '1h' },
      { kind: 'aggregate', name: 'sum_1h', field: 'amount', function: 'sum', window: '1h' },
      { kind: 'expression', name: 'mean_1h', expression: 'if(count_1h > 0, sum_1h / count_1h, null)' },
    ],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await eventually(
    async () => (await call('GET', `/feature-views/${own.view}`)).body.servingVersion === 1,
    'the view to serve',
  );
}

async function rowsIn(table: string, dataset: string, n: number): Promise<void> {
  const clickhouse = app.get<ClickHouseClient>(CLICKHOUSE);
  await eventually(async () => {
    const [row] = await (
      await clickhouse.query({
        query: `SELECT count() AS n FROM feature_store.${table} WHERE dataset = {d:String}`,
        query_params: { d: dataset },
        format: 'JSONEachRow',
      })
    ).json<{ n: string }>();
    return Number(row?.n) === n;
  }, `${n} rows of ${dataset} in ${table}`);
}

test('POST /training-sets builds exact rows (known-at from the record event), idempotent on its id; GET and both downloads agree', async () => {
  const own = await registeredPair('tsa');
  await readyWindowedView(own);
  const now = Date.now();
  const atNow = (offset: number) => new Date(now + offset).toISOString();
  // Labels at now - 2 min; every record arrives now, after the labels: only a record whose knownAt is before a
  // label counts for it (as-known semantics).
  await producer.publishMany([
    validatedOf(own.activity, 'features', 'e1', atNow(-90 * MINUTE), { amount: 1 }, atNow(-89 * MINUTE)),
    validatedOf(own.activity, 'features', 'e1', atNow(-30 * MINUTE), { amount: 2 }, atNow(-29 * MINUTE)),
    validatedOf(own.activity, 'features', 'e1', atNow(-10 * MINUTE), { amount: 3 }, atNow(-9 * MINUTE)),
    validatedOf(own.activity, 'features', 'e2', atNow(-20 * MINUTE), { amount: 4 }), // no knownAt: known on arrival
    validatedOf(own.churn, 'labels', 'e1', atNow(-2 * MINUTE), { churned: true }),
    validatedOf(own.churn, 'labels', 'e2', atNow(-2 * MINUTE), { churned: false }),
  ]);
  await rowsIn('offline_source_records', own.activity, 4);
  await rowsIn('offline_label_rows', own.churn, 2);
  // The activity dataset's schema moves to version 2 after the view (made against version 1): the training set's
  // lineage names the version in force when it is built.
  await producer.publish(
    newEvent(
      REGISTERED,
      { ...registrationOf(own.activity, 'features'), version: 2 },
      { source: TEST_SOURCE, subject: own.activity },
    ),
  );
  const catalog = app.get(CatalogStore);
  await eventually(async () => (await catalog.dataset(own.activity))?.version === 2, 'version 2 of the dataset');

  const id = randomUUID();
  const request = {
    id,
    featureView: { name: own.view, version: 1 },
    labels: { dataset: own.churn, field: 'churned' },
    timeRange: { start: atNow(-60 * MINUTE), end: atNow(MINUTE) },
  };
  const created = await call('POST', '/training-sets', request);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.status, 'ready');
  assert.equal(created.body.semantics, 'as-known');
  assert.deepEqual(created.body.quality, {
    rows: 2,
    rowsWithFeatures: 1,
    labelBalance: [
      { label: 'false', rows: 1 },
      { label: 'true', rows: 1 },
    ],
    features: [
      { name: 'last_amount', share: 0.5 },
      { name: 'count_1h', share: 0.5 },
      { name: 'sum_1h', share: 0.5 },
      { name: 'mean_1h', share: 0.5 },
    ],
  });
  const ndjson = await call('GET', `/training-sets/${id}/file`);
  assert.equal(ndjson.status, 200);
  assert.equal(createHash('sha256').update(ndjson.bytes).digest('hex'), created.body.files.ndjson.sha256);
  const lines = ndjson.bytes
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  assert.deepEqual(
    lines.map((l) => [l.entity_id, l.last_amount, l.count_1h, l.sum_1h, l.mean_1h, l.churned]),
    [
      ['e1', 3, 2, 5, 2.5, true], // -30 and -10 min in (L - 1h, L]; -90 min slid out
      ['e2', null, null, null, null, false], // arrived after its label, no knownAt
    ],
  );

  const again = await call('POST', '/training-sets', request);
  assert.equal(again.status, 200);
  assert.deepEqual(again.body, created.body);
  const status = await call('GET', `/training-sets/${id}`);
  assert.deepEqual(status.body, created.body);

  const parquet = await call('GET', `/training-sets/${id}/file?format=parquet`);
  assert.equal(parquet.status, 200);
  assert.equal(parquet.headers.get('content-type'), 'application/vnd.apache.parquet');
  assert.equal(createHash('sha256').update(parquet.bytes).digest('hex'), created.body.files.parquet.sha256);
  const { parquetReadObjects } = await import('hyparquet');
  const read = await parquetReadObjects({ file: new Uint8Array(parquet.bytes).buffer });
  assert.deepEqual(
    read.map((row) => ({ ...row, event_time: (row.event_time as Date).toISOString() })),
    lines,
  );

  const announced = await readTopic(
    CREATED,
    (s) => s.data.snapshotId === id,
    (m) => m.length >= 1,
  );
  assert.equal(announced[0]!.data.semantics, 'as-known');
  assert.equal(announced[0]!.data.quality.rows, 2);
  const versions = { features: { dataset: own.activity, version: 2 }, labels: { dataset: own.churn, version: 1 } };
  assert.deepEqual(announced[0]!.data.datasetVersions, versions);
  assert.deepEqual((await call('GET', `/training-sets/${id}`)).body.datasetVersions, versions);
});

test('POST /training-sets: an unknown view is 404, an empty time range 422, an unknown id 404', async () => {
  const start = new Date().toISOString();
  const body = {
    id: randomUUID(),
    featureView: { name: runId('tsghost'), version: 1 },
    labels: { dataset: 'nope', field: 'churned' },
    timeRange: { start, end: new Date(Date.now() + MINUTE).toISOString() },
  };
  assert.equal((await call('POST', '/training-sets', body)).body.error, 'view_not_found');
  const empty = await call('POST', '/training-sets', { ...body, timeRange: { start, end: start } });
  assert.equal(empty.status, 422);
  assert.equal(empty.body.error, 'invalid_time_range');
  const unknown = await call('GET', `/training-sets/${randomUUID()}`);
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error, 'training_set_not_found');
});

test('registrations lag: a group behind the topic end is not caught up; at the end it is', async () => {
  const kafka = testKafka('training-sets-lag');
  const group = runId('lag-group');
  const lag = new RegistrationsLag(kafka, group);
  try {
    await startGroupAtEnd(kafka, group, [REGISTERED]);
    const dataset = runId('tslag');
    await producer.publish(
      newEvent(REGISTERED, registrationOf(dataset, 'features'), { source: TEST_SOURCE, subject: dataset }),
    );
    assert.equal(await lag.caughtUp(), false);
    // Other tests publish registrations too: at the end once no one published in between.
    await eventually(async () => {
      await startGroupAtEnd(kafka, group, [REGISTERED]);
      return lag.caughtUp();
    }, 'the group at the end to be caught up');
  } finally {
    await lag.onApplicationShutdown();
  }
});

test('POST /feature-views right after a registration: 503 dataset_not_yet_known with Retry-After while it is consumed, then 201', async () => {
  const dataset = runId('tsnow');
  // The app's own lag check, on its own group: the registration is published and the view posted at once.
  await producer.publish(
    newEvent(REGISTERED, registrationOf(dataset, 'features'), { source: TEST_SOURCE, subject: dataset }),
  );
  const definition = {
    name: `${dataset}_view`,
    source: { dataset },
    ttl: '1d',
    features: [{ kind: 'field', name: 'amount', field: 'amount' }],
  };
  const statuses: number[] = [];
  const answer = await eventually(async () => {
    const res = await call('POST', '/feature-views', definition);
    statuses.push(res.status);
    if (res.status === 503) {
      assert.equal(res.body.error, 'dataset_not_yet_known');
      assert.equal(res.headers.get('retry-after'), '1');
    }
    return res.status === 503 ? undefined : res;
  }, 'the view to be created');
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  assert.ok(
    statuses.every((s) => s === 503 || s === 201),
    `never 404: ${statuses.join(',')}`,
  );
});
