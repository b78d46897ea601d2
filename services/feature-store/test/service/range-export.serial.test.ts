// Exports of a view's offline rows in an event-time range (batch scoring's input), through the feature-store app
// in-process against the real stack: mlops.features.export.requested.v1 in, mlops.features.exported.v1 out.
// Runs alone (serial): every feature-store test app shares the catalog in Postgres but has its own embedded
// ClickHouse, so another one would answer these requests from its own (empty) offline store, and record that answer.
import 'reflect-metadata';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { INestApplication } from '@nestjs/common';
import { createArtifactStore } from '@mlops/artifacts';
import { type DataValidatedV1, EventTypes, type FeaturesExportRequestedV1 } from '@mlops/contracts';
import { type CloudEvent, EventProducer, newEvent } from '@mlops/messaging';
import { CLICKHOUSE, type ClickHouseClient } from '@mlops/storage';
import { authorized } from '@mlops/testing';
import { createFeatureStoreApp } from '../../src/app';
import type { FeatureStoreConfig } from '../../src/config';
import { ExportRangeService } from '../../src/exports/export-range/export-range.service';
import { CatalogStore } from '../../src/infrastructure/catalog-store';
import { type Seen, eventually, readTopic, runId, testConfig } from './support';

const REGISTERED = EventTypes.DatasetRegisteredV1;
const VALIDATED = EventTypes.DataValidatedV1;
const REQUESTED = EventTypes.FeaturesExportRequestedV1;
const EXPORTED = EventTypes.FeaturesExportedV1;
const TEST_SOURCE = 'urn:mlops:test:feature-store-exports';
const MINUTE = 60_000;
/** Records happen in the hour before the test started, on whole minutes: the range edges are exact. */
const T0 = Math.floor(Date.now() / MINUTE) * MINUTE - 60 * MINUTE;
const at = (minutes: number): string => new Date(T0 + minutes * MINUTE).toISOString();

let app: INestApplication;
let config: FeatureStoreConfig;
let dirs: string[] = [];
let base: string;
let producer: EventProducer;

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

interface Own {
  readonly dataset: string;
  readonly view: string;
  entity(name: string): string;
}

/** Registers a features dataset, creates a view over it (a field, a category, a 1h count) and waits until it serves. */
async function readyView(prefix: string): Promise<Own> {
  const run = runId(prefix);
  const own: Own = { dataset: `${run}_activity`, view: `${run}_scoring`, entity: (name) => `${run}-${name}` };
  await producer.publish(
    newEvent(
      REGISTERED,
      {
        dataset: own.dataset,
        version: 1,
        role: 'features',
        recordSchema: {
          type: 'object',
          required: ['customer_id', 'event_time', 'tenure_days', 'plan'],
          properties: {
            customer_id: { type: 'string' },
            event_time: { type: 'string', format: 'date-time' },
            tenure_days: { type: 'integer', minimum: 0 },
            monthly_spend: { type: ['number', 'null'] },
            plan: { enum: ['basic', 'premium', 'enterprise'] },
          },
        },
        entityKeyField: 'customer_id',
        eventTimeField: 'event_time',
        sensitiveFields: [],
        registeredAt: new Date().toISOString(),
      },
      { source: TEST_SOURCE, subject: own.dataset },
    ),
  );
  await eventually(
    async () => (await app.get(CatalogStore).dataset(own.dataset)) !== undefined,
    'the dataset registration',
  );
  const created = await http('POST', '/feature-views', {
    name: own.view,
    source: { dataset: own.dataset },
    ttl: '30d',
    features: [
      { kind: 'field', name: 'tenure_days', field: 'tenure_days' },
      { kind: 'field', name: 'monthly_spend', field: 'monthly_spend' },
      { kind: 'field', name: 'plan', field: 'plan' },
      { kind: 'aggregate', name: 'visits_1h', field: 'tenure_days', function: 'count', window: '1h' },
    ],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await eventually(
    async () => (await http('GET', `/feature-views/${own.view}`)).body.servingVersion === 1,
    `${own.view}@1 to serve`,
  );
  return own;
}

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

function record(
  own: Own,
  entityId: string,
  minute: number,
  tenure: number,
  spend: number | null,
  plan: string,
): CloudEvent<typeof VALIDATED> {
  const eventTime = at(minute);
  const data: DataValidatedV1 = {
    dataset: own.dataset,
    datasetVersion: 1,
    role: 'features',
    entityId,
    eventTime,
    record: { customer_id: entityId, event_time: eventTime, tenure_days: tenure, monthly_spend: spend, plan },
    recordId: randomUUID(),
    sourceEventId: randomUUID(),
    validatedAt: new Date().toISOString(),
  };
  return newEvent(VALIDATED, data, { source: TEST_SOURCE, subject: own.dataset });
}

/** Publishes records and waits until the view has `total` offline rows (by default, these records'). */
async function feed(own: Own, records: CloudEvent<typeof VALIDATED>[], total = records.length): Promise<void> {
  await producer.publishMany(records);
  const clickhouse = app.get<ClickHouseClient>(CLICKHOUSE);
  await eventually(async () => {
    const [row] = await (
      await clickhouse.query({
        query: `SELECT count() AS n FROM feature_store.offline_feature_rows FINAL WHERE view_name = {v:String}`,
        query_params: { v: own.view },
        format: 'JSONEachRow',
      })
    ).json<{ n: string }>();
    return Number(row?.n) >= total;
  }, 'the offline rows');
}

function exportRequest(
  featureView: { name: string; version: number },
  start: string,
  end: string,
  exportId: string = randomUUID(),
): FeaturesExportRequestedV1 {
  return {
    exportId,
    featureView,
    timeRange: { start, end },
    requestedBy: 'test',
    requestedAt: new Date().toISOString(),
  };
}

/** Publishes request events and reads the answers up to the last one's (the marker: answers share its key). */
async function ask(...requests: FeaturesExportRequestedV1[]): Promise<Seen[]> {
  const events = requests.map((request) => newEvent(REQUESTED, request, { source: TEST_SOURCE }));
  for (const event of events) await producer.publish(event);
  const marker = events.at(-1)!;
  const ids = new Set(requests.map((r) => r.exportId));
  return readTopic(
    EXPORTED,
    (s) => ids.has(s.data.exportId),
    (m) => m.some((s) => s.headers.ce_causationid === marker.id),
  );
}

async function rowsOf(answer: Record<string, any>): Promise<Array<Record<string, unknown>>> {
  const bytes = await createArtifactStore({ url: config.ARTIFACT_STORE_URL }).get(answer.export.uri);
  assert.equal(createHash('sha256').update(bytes).digest('hex'), answer.export.sha256);
  assert.equal(bytes.length, answer.export.sizeBytes);
  return bytes
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

test('an export holds the rows with start <= event time < end, each the vector as of its record', async () => {
  const own = await readyView('fsexp');
  const [a, b] = [own.entity('a'), own.entity('b')];
  await feed(own, [
    record(own, a, 9, 1, 10, 'basic'), // before the range
    record(own, a, 10, 2, 20, 'premium'), // at start: in
    record(own, a, 15, 3, null, 'premium'), // in
    record(own, b, 29, 7, 70.5, 'enterprise'), // a millisecond-exact edge below end: in
    record(own, b, 30, 8, 80, 'basic'), // at end: out
  ]);
  const request = exportRequest({ name: own.view, version: 1 }, at(10), at(30));
  const [answer] = await ask(request);
  assert.equal(answer!.key, request.exportId);
  assert.equal(answer!.data.status, 'created', JSON.stringify(answer!.data.error));
  assert.equal(answer!.data.error, null);
  assert.deepEqual(answer!.data.timeRange, request.timeRange);
  assert.equal(answer!.data.export.rows, 3);
  assert.equal(answer!.data.export.format, 'jsonl');
  assert.deepEqual(
    answer!.data.export.columns.map(
      (c: { name: string; type: string; role: string }) => `${c.role}:${c.name}:${c.type}`,
    ),
    [
      'entity:entity_id:string',
      'event_time:event_time:string',
      'feature:tenure_days:number',
      'feature:monthly_spend:number',
      'feature:plan:string',
      'feature:visits_1h:number',
    ],
  );
  // Point in time: a's count at minute 10 sees minutes 9 and 10, at minute 15 three records; nothing of minute 30.
  assert.deepEqual(await rowsOf(answer!.data), [
    { entity_id: a, event_time: at(10), tenure_days: 2, monthly_spend: 20, plan: 'premium', visits_1h: 2 },
    { entity_id: a, event_time: at(15), tenure_days: 3, monthly_spend: null, plan: 'premium', visits_1h: 3 },
    { entity_id: b, event_time: at(29), tenure_days: 7, monthly_spend: 70.5, plan: 'enterprise', visits_1h: 1 },
  ]);
});

test('the same exportId again gets the recorded answer, even after new rows landed in its range', async () => {
  const own = await readyView('fsexpid');
  const a = own.entity('a');
  await feed(own, [record(own, a, 5, 1, 1, 'basic')]);
  const service = app.get(ExportRangeService);
  const before = service.exports;
  const request = exportRequest({ name: own.view, version: 1 }, at(0), at(60));
  const [first] = await ask(request);
  await feed(own, [record(own, a, 5, 1, 1, 'basic'), record(own, a, 6, 2, 2, 'basic')], 3);
  const [again] = await ask({ ...request, requestedAt: new Date().toISOString() });
  assert.equal(first!.data.export.rows, 1);
  assert.deepEqual(again!.data, first!.data, 'the same file, rows and createdAt');
  assert.equal(service.exports - before, 1, 'one export for the two requests');
});

test('a range without rows is an empty export (0 rows, 0 bytes), not a failure', async () => {
  const own = await readyView('fsexpempty');
  await feed(own, [record(own, own.entity('a'), 20, 1, 1, 'basic')]);
  const [answer] = await ask(exportRequest({ name: own.view, version: 1 }, at(21), at(40)));
  assert.equal(answer!.data.status, 'created');
  assert.equal(answer!.data.export.rows, 0);
  assert.equal(answer!.data.export.sizeBytes, 0);
  assert.deepEqual(await rowsOf(answer!.data), []);
});

test('an unknown view version is answered as a failed export with its reason (the requester learns why)', async () => {
  const own = await readyView('fsexpunknown');
  const request = exportRequest({ name: own.view, version: 7 }, at(0), at(60));
  const [answer] = await ask(request);
  assert.equal(answer!.data.status, 'failed');
  assert.equal(answer!.data.export, null);
  assert.equal(answer!.data.error.code, 'unknown_feature_view');
  assert.match(answer!.data.error.message, new RegExp(`${own.view}@7`));
});

test('a range whose start is not before its end is answered as invalid_time_range', async () => {
  const own = await readyView('fsexprange');
  const [answer] = await ask(exportRequest({ name: own.view, version: 1 }, at(30), at(30)));
  assert.equal(answer!.data.status, 'failed');
  assert.equal(answer!.data.error.code, 'invalid_time_range');
});
