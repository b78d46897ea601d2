// Training sets over HTTP and the event path, the app in-process against the REAL stack (Kafka, Postgres, its own
// chdb and artifact directories). Each test registers its own datasets; expected values are computed by hand.
import 'reflect-metadata';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { INestApplication } from '@nestjs/common';
import { type DataValidatedV1, type DatasetRegisteredV1, EventTypes } from '@mlops/contracts';
import { EventProducer, newEvent, startGroupAtEnd } from '@mlops/messaging';
import { authorized, testKafka } from '@mlops/testing';
import { CLICKHOUSE, type ClickHouseClient } from '@mlops/storage';
import { createFeatureStoreApp } from '../../src/app';
import { RegistrationsLag } from '../../src/datasets/track-dataset/registrations-lag';
import { CatalogStore } from '../../src/infrastructure/catalog-store';
import { eventually, readTopic, runId, testConfig } from './support';

const REGISTERED = EventTypes.DatasetRegisteredV1;
const VALIDATED = EventTypes.DataValidatedV1;
const CREATED = EventTypes.DatasetSnapshotCreatedV1;
const SOURCE = 'urn:mlops:test:training-sets';
const MINUTE = 60_000;

let app: INestApplication;
let dirs: string[] = [];
let base: string;
let producer: EventProducer;

async function http(
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

function registration(dataset: string, role: 'features' | 'labels'): DatasetRegisteredV1 {
  const base = {
    dataset,
    version: 1,
    entityKeyField: 'customer_id',
    eventTimeField: 'event_time',
    sensitiveFields: [],
  };
  return role === 'features'
    ? {
        ...base,
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
        ...base,
        role,
        recordSchema: {
          type: 'object',
          properties: { customer_id: { type: 'string' }, event_time: { type: 'string' }, churned: { type: 'boolean' } },
        },
        labelField: 'churned',
        registeredAt: new Date().toISOString(),
      };
}

function validated(
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
  return newEvent(VALIDATED, data, { source: SOURCE, subject: dataset });
}

interface Own {
  activity: string;
  churn: string;
  view: string;
}

async function registered(prefix: string): Promise<Own> {
  const run = runId(prefix);
  const own = { activity: `${run}_activity`, churn: `${run}_churn`, view: `${run}_view` };
  await producer.publishMany([
    newEvent(REGISTERED, registration(own.activity, 'features'), { source: SOURCE, subject: own.activity }),
    newEvent(REGISTERED, registration(own.churn, 'labels'), { source: SOURCE, subject: own.churn }),
  ]);
  const catalog = app.get(CatalogStore);
  await eventually(
    async () => (await catalog.dataset(own.activity)) !== undefined && (await catalog.dataset(own.churn)) !== undefined,
    'the registrations',
  );
  return own;
}

async function readyView(own: Own): Promise<void> {
  const created = await http('POST', '/feature-views', {
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
    async () => (await http('GET', `/feature-views/${own.view}`)).body.servingVersion === 1,
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

before(async () => {
  const setup = await testConfig();
  dirs = [setup.clickhouseDir, setup.artifactDir];
  app = await createFeatureStoreApp(setup.config);
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  producer = app.get(EventProducer);
});

after(async () => {
  await app?.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

test('POST /training-sets builds exact rows (known-at from the record event), idempotent on its id; GET and both downloads agree', async () => {
  const own = await registered('tsa');
  await readyView(own);
  const now = Date.now();
  const at = (offset: number) => new Date(now + offset).toISOString();
  // Labels at now - 2 min; every record arrives now, after the labels: only a record whose knownAt is before a
  // label counts for it (as-known semantics).
  await producer.publishMany([
    validated(own.activity, 'features', 'e1', at(-90 * MINUTE), { amount: 1 }, at(-89 * MINUTE)),
    validated(own.activity, 'features', 'e1', at(-30 * MINUTE), { amount: 2 }, at(-29 * MINUTE)),
    validated(own.activity, 'features', 'e1', at(-10 * MINUTE), { amount: 3 }, at(-9 * MINUTE)),
    validated(own.activity, 'features', 'e2', at(-20 * MINUTE), { amount: 4 }), // no knownAt: known on arrival
    validated(own.churn, 'labels', 'e1', at(-2 * MINUTE), { churned: true }),
    validated(own.churn, 'labels', 'e2', at(-2 * MINUTE), { churned: false }),
  ]);
  await rowsIn('offline_source_records', own.activity, 4);
  await rowsIn('offline_label_rows', own.churn, 2);

  const id = randomUUID();
  const request = {
    id,
    featureView: { name: own.view, version: 1 },
    labels: { dataset: own.churn, field: 'churned' },
    timeRange: { start: at(-60 * MINUTE), end: at(MINUTE) },
  };
  const created = await http('POST', '/training-sets', request);
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
  const ndjson = await http('GET', `/training-sets/${id}/file`);
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

  const again = await http('POST', '/training-sets', request);
  assert.equal(again.status, 200);
  assert.deepEqual(again.body, created.body);
  const status = await http('GET', `/training-sets/${id}`);
  assert.deepEqual(status.body, created.body);

  const parquet = await http('GET', `/training-sets/${id}/file?format=parquet`);
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
});

test('POST /training-sets: an unknown view is 404, an empty time range 422, an unknown id 404', async () => {
  const start = new Date().toISOString();
  const body = {
    id: randomUUID(),
    featureView: { name: runId('tsghost'), version: 1 },
    labels: { dataset: 'nope', field: 'churned' },
    timeRange: { start, end: new Date(Date.now() + MINUTE).toISOString() },
  };
  assert.equal((await http('POST', '/training-sets', body)).body.error, 'view_not_found');
  const empty = await http('POST', '/training-sets', { ...body, timeRange: { start, end: start } });
  assert.equal(empty.status, 422);
  assert.equal(empty.body.error, 'invalid_time_range');
  const unknown = await http('GET', `/training-sets/${randomUUID()}`);
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error, 'training_set_not_found');
});

test('registrations lag: a group behind the topic end is not caught up; at the end it is', async () => {
  const kafka = testKafka('training-sets-lag');
  const group = runId('lag-group');
  await startGroupAtEnd(kafka, group, [REGISTERED]);
  const lag = new RegistrationsLag(kafka, group);
  try {
    assert.equal(await lag.caughtUp(), true);
    const dataset = runId('tslag');
    await producer.publish(
      newEvent(REGISTERED, registration(dataset, 'features'), { source: SOURCE, subject: dataset }),
    );
    assert.equal(await lag.caughtUp(), false);
    await startGroupAtEnd(kafka, group, [REGISTERED]);
    assert.equal(await lag.caughtUp(), true);
  } finally {
    await lag.onApplicationShutdown();
  }
});

test('POST /feature-views right after a registration: 503 dataset_not_yet_known with Retry-After while it is consumed, then 201', async () => {
  const dataset = runId('tsnow');
  // The app's own lag check, on its own group: the registration is published and the view posted at once.
  await producer.publish(newEvent(REGISTERED, registration(dataset, 'features'), { source: SOURCE, subject: dataset }));
  const definition = {
    name: `${dataset}_view`,
    source: { dataset },
    ttl: '1d',
    features: [{ kind: 'field', name: 'amount', field: 'amount' }],
  };
  const statuses: number[] = [];
  const answer = await eventually(async () => {
    const res = await http('POST', '/feature-views', definition);
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
