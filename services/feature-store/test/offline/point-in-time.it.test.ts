// Against the REAL embedded ClickHouse (chdb): this file runs in its own process (node --test) with its
// own temporary data directory, because chdb allows one engine and one data directory per process.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalArtifactStore } from '@mlops/artifacts';
import { EventTypes, validateEventData } from '@mlops/contracts';
import { type ClickHouseClient, createClickHouse } from '@mlops/storage';
import {
  type OfflineFeatureRow,
  OfflineFeatureStore,
  type PointInTimeRequest,
  SnapshotBuilder,
  snapshotCreatedEvent,
} from '../../src/offline';

const DATABASE = 'feature_store_pit_test';
const LABEL_TIME = '2025-03-10T00:00:00.000Z';
const request: PointInTimeRequest = {
  featureView: { name: 'customer_features', version: 1 },
  labels: { dataset: 'churn_labels', field: 'churned' },
  timeRange: { start: '2025-03-01T00:00:00Z', end: '2025-04-01T00:00:00Z' },
  featureTtlSeconds: 7 * 24 * 3600,
};

let dataDir: string;
let artifactDir: string;
let clickhouse: ClickHouseClient;
let artifacts: LocalArtifactStore;
let offline: OfflineFeatureStore;
let builder: SnapshotBuilder;
let sequence = 0;

function feature(
  entityId: string,
  eventTime: string,
  createdAt: string,
  spend: number,
  plan: string,
  viewVersion = 1,
): OfflineFeatureRow {
  sequence += 1;
  return {
    viewName: 'customer_features',
    viewVersion,
    entityId,
    eventTime,
    createdAt,
    features: { spend, plan },
    sourceEventId: `f-${String(sequence).padStart(4, '0')}`,
  };
}

function label(
  entityId: string,
  eventTime: string,
  churned: boolean | null,
  sourceEventId: string,
  dataset = 'churn_labels',
) {
  return {
    dataset,
    entityId,
    eventTime,
    createdAt: '2025-05-01T00:00:00Z',
    record: { churned, customer_id: entityId },
    sourceEventId,
  };
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'fs-pit-chdb-'));
  artifactDir = await mkdtemp(join(tmpdir(), 'fs-pit-artifacts-'));
  clickhouse = await createClickHouse({ dataDir, database: DATABASE });
  artifacts = new LocalArtifactStore(artifactDir);
  offline = new OfflineFeatureStore(clickhouse, DATABASE);
  builder = new SnapshotBuilder(clickhouse, artifacts, DATABASE);
  await offline.createTables();

  await offline.appendFeatureRows([
    // e1: a value computed 1 ms after the label time must not leak into the label at 03-10 (but serves 03-12).
    feature('e1', '2025-03-08T00:00:00Z', '2025-03-08T00:00:00Z', 10, 'basic'),
    feature('e1', '2025-03-09T23:00:00Z', '2025-03-10T00:00:00.001Z', 99, 'pro'),
    // e2: a backfill about 03-09 written on 03-15 was not known on 03-10.
    feature('e2', '2025-03-05T00:00:00Z', '2025-03-05T00:00:00Z', 20, 'basic'),
    feature('e2', '2025-03-09T00:00:00Z', '2025-03-15T00:00:00Z', 77, 'pro'),
    // e3: exactly TTL old at label time: expired (event_time must be > label_time - TTL).
    feature('e3', '2025-03-03T00:00:00Z', '2025-03-03T00:00:00Z', 30, 'basic'),
    // e5: only in another version of the view.
    feature('e5', '2025-03-09T00:00:00Z', '2025-03-09T00:00:00Z', 50, 'basic', 2),
    // e6: 1 ms younger than the TTL: still valid.
    feature('e6', '2025-03-03T00:00:00.001Z', '2025-03-03T00:00:00.001Z', 60, 'basic'),
    // e7: event_time and created_at equal to the label time are allowed (<=).
    feature('e7', '2025-03-09T00:00:00Z', '2025-03-09T00:00:00Z', 69, 'basic'),
    feature('e7', LABEL_TIME, LABEL_TIME, 70, 'basic'),
  ]);
  // e4: three updates of the same event time, in separate inserts (separate parts) and out of order:
  // the one created latest but still <= label time wins (41), the one created after the label (42) does not.
  await offline.appendFeatureRows([feature('e4', '2025-03-09T00:00:00Z', '2025-03-09T02:00:00Z', 41, 'pro')]);
  await offline.appendFeatureRows([feature('e4', '2025-03-09T00:00:00Z', '2025-03-09T01:00:00Z', 40, 'pro')]);
  await offline.appendFeatureRows([feature('e4', '2025-03-09T00:00:00Z', '2025-03-11T00:00:00Z', 42, 'pro')]);

  await offline.appendLabelRows([
    label('e1', LABEL_TIME, false, 'l-e1-a'),
    label('e1', '2025-03-12T00:00:00Z', true, 'l-e1-b'),
    label('e2', LABEL_TIME, false, 'l-e2'),
    label('e2', LABEL_TIME, false, 'l-e2'), // the same label event delivered twice: one training row
    label('e3', LABEL_TIME, true, 'l-e3'),
    label('e4', LABEL_TIME, false, 'l-e4'),
    label('e5', LABEL_TIME, true, 'l-e5'),
    label('e6', LABEL_TIME, false, 'l-e6'),
    label('e7', LABEL_TIME, true, 'l-e7'),
    label('e8', '2025-03-01T00:00:00Z', false, 'l-e8'), // window start is inclusive; e8 has no features at all
    label('e1', '2025-04-01T00:00:00Z', true, 'l-out-end'), // window end is exclusive
    label('e1', '2025-02-28T23:59:59.999Z', true, 'l-out-start'),
    label('e9', LABEL_TIME, null, 'l-no-label'), // a record without a label value is no training row
    label('e1', LABEL_TIME, true, 'l-other-dataset', 'other_labels'),
  ]);
});

after(async () => {
  await clickhouse?.close();
  await rm(dataDir, { recursive: true, force: true });
  await rm(artifactDir, { recursive: true, force: true });
});

async function snapshotLines(uri: string): Promise<Array<Record<string, unknown>>> {
  const text = (await artifacts.get(uri)).toString('utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function rowOf(entityId: string, labelTime = LABEL_TIME): Promise<Record<string, unknown> | undefined> {
  const snapshot = await builder.buildSnapshot(request);
  return (await snapshotLines(snapshot.uri)).find((row) => row.entity_id === entityId && row.event_time === labelTime);
}

test('the snapshot file is exactly the known point-in-time answer', async () => {
  const snapshot = await builder.buildSnapshot(request);
  const expected = [
    '{"entity_id":"e1","event_time":"2025-03-10T00:00:00.000Z","plan":"basic","spend":10,"churned":false}',
    '{"entity_id":"e1","event_time":"2025-03-12T00:00:00.000Z","plan":"pro","spend":99,"churned":true}',
    '{"entity_id":"e2","event_time":"2025-03-10T00:00:00.000Z","plan":"basic","spend":20,"churned":false}',
    '{"entity_id":"e3","event_time":"2025-03-10T00:00:00.000Z","plan":null,"spend":null,"churned":true}',
    '{"entity_id":"e4","event_time":"2025-03-10T00:00:00.000Z","plan":"pro","spend":41,"churned":false}',
    '{"entity_id":"e5","event_time":"2025-03-10T00:00:00.000Z","plan":null,"spend":null,"churned":true}',
    '{"entity_id":"e6","event_time":"2025-03-10T00:00:00.000Z","plan":"basic","spend":60,"churned":false}',
    '{"entity_id":"e7","event_time":"2025-03-10T00:00:00.000Z","plan":"basic","spend":70,"churned":true}',
    '{"entity_id":"e8","event_time":"2025-03-01T00:00:00.000Z","plan":null,"spend":null,"churned":false}',
  ]
    .map((line) => `${line}\n`)
    .join('');
  assert.equal((await artifacts.get(snapshot.uri)).toString('utf8'), expected);
  assert.equal(snapshot.rows, 9);
  assert.equal(snapshot.sizeBytes, Buffer.byteLength(expected));
  assert.equal(snapshot.format, 'jsonl');
  assert.deepEqual(snapshot.timeRange, request.timeRange);
  assert.deepEqual(snapshot.columns, [
    { name: 'entity_id', type: 'string', role: 'entity' },
    { name: 'event_time', type: 'string', role: 'event_time' },
    { name: 'plan', type: 'string', role: 'feature' },
    { name: 'spend', type: 'number', role: 'feature' },
    { name: 'churned', type: 'boolean', role: 'label' },
  ]);
});

test('rows of distinct events are all stored, with a typed numeric map next to the JSON features', async () => {
  const result = await clickhouse.query({
    query: `SELECT count() AS n, groupArray(numeric_features['spend']) AS spend FROM ${DATABASE}.offline_feature_rows WHERE view_name = 'customer_features' AND entity_id = 'e4'`,
    format: 'JSONEachRow',
  });
  const [stats] = await result.json<{ n: string; spend: number[] }>();
  assert.equal(Number(stats?.n), 3);
  assert.deepEqual([...(stats?.spend ?? [])].sort(), [40, 41, 42]);
});

test('a feature value created after the label time is not used', async () => {
  assert.equal((await rowOf('e1'))?.spend, 10);
  // ...but it is the latest known value for a later label.
  assert.equal((await rowOf('e1', '2025-03-12T00:00:00.000Z'))?.spend, 99);
});

test('a late backfill (event before, created after the label time) is not used', async () => {
  assert.equal((await rowOf('e2'))?.spend, 20);
});

test('a feature exactly TTL old is expired (null); one millisecond younger is used', async () => {
  assert.deepEqual(await rowOf('e3'), {
    entity_id: 'e3',
    event_time: LABEL_TIME,
    plan: null,
    spend: null,
    churned: true,
  });
  assert.equal((await rowOf('e6'))?.spend, 60);
});

test('without a TTL the old value counts', async () => {
  const { featureTtlSeconds: _ttl, ...noTtl } = request;
  const snapshot = await builder.buildSnapshot(noTtl);
  const e3 = (await snapshotLines(snapshot.uri)).find((row) => row.entity_id === 'e3');
  assert.equal(e3?.spend, 30);
});

test('two updates with the same event time: the later created one that existed at label time wins', async () => {
  assert.equal((await rowOf('e4'))?.spend, 41);
});

test('an entity with no feature rows (or only in another view version) gets nulls', async () => {
  assert.deepEqual(await rowOf('e5'), {
    entity_id: 'e5',
    event_time: LABEL_TIME,
    plan: null,
    spend: null,
    churned: true,
  });
  assert.deepEqual(await rowOf('e8', '2025-03-01T00:00:00.000Z'), {
    entity_id: 'e8',
    event_time: '2025-03-01T00:00:00.000Z',
    plan: null,
    spend: null,
    churned: false,
  });
});

test('feature rows at exactly the label time are used (event_time and created_at <= label time)', async () => {
  assert.equal((await rowOf('e7'))?.spend, 70);
});

test('the same request over the same data gives the same bytes, sha256 and uri, even after later data arrives', async () => {
  const first = await builder.buildSnapshot(request);
  const second = await builder.buildSnapshot(request);
  assert.deepEqual(second, first);
  // Data written today about the past cannot change a snapshot of the past.
  await offline.appendFeatureRows([feature('e5', '2025-03-09T00:00:00Z', new Date().toISOString(), 55, 'pro')]);
  const third = await builder.buildSnapshot(request);
  assert.equal(third.sha256, first.sha256);
  assert.equal(third.uri, first.uri);
});

test('an explicit feature list fixes the column order', async () => {
  const snapshot = await builder.buildSnapshot(request, { features: ['spend', 'plan'] });
  assert.deepEqual(
    snapshot.columns.map((column) => column.name),
    ['entity_id', 'event_time', 'spend', 'plan', 'churned'],
  );
  const first = (await artifacts.get(snapshot.uri)).toString('utf8').split('\n')[0];
  assert.equal(
    first,
    '{"entity_id":"e1","event_time":"2025-03-10T00:00:00.000Z","spend":10,"plan":"basic","churned":false}',
  );
});

test('the snapshot.created event data built from a snapshot is valid against its schema', async () => {
  const snapshot = await builder.buildSnapshot(request);
  const data = snapshotCreatedEvent(
    {
      snapshotId: '0b7f3c1e-6a55-4c1e-9a7e-2f4b1f0d9c21',
      trainingRunId: '5d2a9e40-8f1b-4c3a-b6f2-7e1c0a9d4b13',
      ...request,
    },
    snapshot,
    new Date('2025-11-20T08:01:40Z'),
  );
  assert.deepEqual(validateEventData(EventTypes.DatasetSnapshotCreatedV1, data), { ok: true });
  assert.equal(data.uri, snapshot.uri);
  assert.equal(data.sha256, snapshot.sha256);
});

test('on random data with many ties and late rows, ClickHouse agrees with a brute-force reference of the PIT rule', async () => {
  // A seeded generator (mulberry32): the same data on every run, so a failure reproduces.
  let seed = 20250310;
  const random = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const HOUR = 3_600_000;
  const base = Date.parse('2025-06-01T00:00:00Z');
  // A coarse 6-hour grid makes equal event times, equal created times and boundary hits common.
  const gridTime = (): number => base + Math.floor(random() * 40) * 6 * HOUR;
  const delays = [0, 0, 0, 6 * HOUR, 2 * 24 * HOUR, 10 * 24 * HOUR];
  const entities = Array.from({ length: 12 }, (_, i) => `r${String(i).padStart(2, '0')}`);

  const features = Array.from({ length: 400 }, (_, i) => {
    const eventTime = gridTime();
    return {
      viewName: 'random_view',
      viewVersion: pick([1, 1, 1, 2]),
      entityId: pick(entities),
      eventTime: new Date(eventTime).toISOString(),
      createdAt: new Date(eventTime + pick(delays)).toISOString(),
      features: { x: i },
      sourceEventId: `rf-${String(Math.floor(random() * 50)).padStart(3, '0')}`, // ids repeat: the last tie-breaker matters
    };
  });
  const labels = Array.from({ length: 150 }, (_, i) => ({
    dataset: 'random_labels',
    entityId: pick(entities),
    eventTime: new Date(gridTime()).toISOString(),
    createdAt: '2025-09-01T00:00:00Z',
    record: { y: i % 3 },
    sourceEventId: `rl-${String(i).padStart(4, '0')}`,
  }));
  for (let i = 0; i < features.length; i += 50) await offline.appendFeatureRows(features.slice(i, i + 50));
  await offline.appendLabelRows(labels);

  const randomRequest: PointInTimeRequest = {
    featureView: { name: 'random_view', version: 1 },
    labels: { dataset: 'random_labels', field: 'y' },
    timeRange: { start: new Date(base + 24 * HOUR).toISOString(), end: new Date(base + 8 * 24 * HOUR).toISOString() },
    featureTtlSeconds: 3 * 24 * 3600,
  };
  const ttlMs = (randomRequest.featureTtlSeconds ?? 0) * 1000;
  const [start, end] = [Date.parse(randomRequest.timeRange.start), Date.parse(randomRequest.timeRange.end)];
  const key = (row: (typeof features)[number]) =>
    [Date.parse(row.eventTime), Date.parse(row.createdAt), row.sourceEventId] as const;
  const greater = (a: ReturnType<typeof key>, b: ReturnType<typeof key>): boolean =>
    a[0] !== b[0] ? a[0] > b[0] : a[1] !== b[1] ? a[1] > b[1] : a[2] > b[2];

  // Rows of one event (view, entity, event time, event id) written twice are one row: the latest written survives
  // (greatest created_at; of equal ones, the last inserted).
  const stored = new Map<string, (typeof features)[number]>();
  for (const f of features) {
    const id = [f.viewName, f.viewVersion, f.entityId, Date.parse(f.eventTime), f.sourceEventId].join('|');
    const kept = stored.get(id);
    if (!kept || Date.parse(f.createdAt) >= Date.parse(kept.createdAt)) stored.set(id, f);
  }
  const expected = labels
    .filter((l) => Date.parse(l.eventTime) >= start && Date.parse(l.eventTime) < end)
    .map((l) => {
      const at = Date.parse(l.eventTime);
      let best: (typeof features)[number] | undefined;
      for (const f of stored.values()) {
        if (f.viewVersion !== 1 || f.entityId !== l.entityId) continue;
        const [eventTime, createdAt] = [Date.parse(f.eventTime), Date.parse(f.createdAt)];
        if (eventTime > at || createdAt > at || eventTime <= at - ttlMs) continue;
        if (!best || greater(key(f), key(best))) best = f;
      }
      return {
        entity_id: l.entityId,
        event_time: new Date(at).toISOString(),
        x: best ? best.features.x : null,
        y: l.record.y,
        id: l.sourceEventId,
      };
    })
    .sort((a, b) =>
      a.entity_id !== b.entity_id
        ? a.entity_id < b.entity_id
          ? -1
          : 1
        : a.event_time !== b.event_time
          ? a.event_time < b.event_time
            ? -1
            : 1
          : a.id < b.id
            ? -1
            : 1,
    )
    .map(({ id: _id, ...row }) => row);

  const snapshot = await builder.buildSnapshot(randomRequest);
  const actual = await snapshotLines(snapshot.uri);
  assert.ok(expected.length > 30, `too few labels in the window (${expected.length}) to mean anything`);
  assert.ok(
    expected.some((row) => row.x === null) && expected.some((row) => row.x !== null),
    'the data must exercise both hits and misses',
  );
  assert.deepEqual(actual, expected);
});

test('a feature row written twice for one event (its first commit failed) is read once, as of the committed write', async () => {
  const row: OfflineFeatureRow = {
    viewName: 'redelivered_view',
    viewVersion: 1,
    entityId: 'r1',
    eventTime: '2025-03-09T00:00:00Z',
    createdAt: '2025-03-09T00:00:00Z',
    features: { spend: 5, plan: 'basic' },
    sourceEventId: 'redelivered-event',
  };
  // The attempt whose Postgres commit failed, then the redelivered event's write, 10 s later.
  await offline.appendFeatureRows([row]);
  await offline.appendFeatureRows([{ ...row, createdAt: '2025-03-09T00:00:10Z' }]);
  await offline.appendLabelRows([
    label('r1', '2025-03-09T00:00:05Z', true, 'l-r1-between', 'redelivered_labels'),
    label('r1', '2025-03-09T00:00:10Z', false, 'l-r1-after', 'redelivered_labels'),
  ]);
  const snapshot = await builder.buildSnapshot({
    ...request,
    featureView: { name: 'redelivered_view', version: 1 },
    labels: { dataset: 'redelivered_labels', field: 'churned' },
  });
  assert.deepEqual(
    (await snapshotLines(snapshot.uri)).map((line) => [line.event_time, line.spend]),
    [
      ['2025-03-09T00:00:05.000Z', null], // the copy of the failed attempt was never committed
      ['2025-03-09T00:00:10.000Z', 5],
    ],
  );
  const [read] = await (
    await clickhouse.query({
      query: `SELECT count() AS n, toString(max(created_at)) AS created FROM ${DATABASE}.offline_feature_rows FINAL WHERE view_name = 'redelivered_view'`,
      format: 'JSONEachRow',
    })
  ).json<{ n: string | number; created: string }>();
  assert.deepEqual([Number(read?.n), read?.created], [1, '2025-03-09 00:00:10.000']);
});

test('offline tables an older version made (plain MergeTree) are migrated in place: rows kept, copies merged', async () => {
  const database = 'feature_store_migration_test';
  await clickhouse.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  // The DDL of the previous version, without known_at (added by ALTER there).
  await clickhouse.command({
    query: `CREATE TABLE ${database}.offline_feature_rows (view_name LowCardinality(String), view_version UInt32,
      entity_id String, event_time DateTime64(3, 'UTC'), created_at DateTime64(3, 'UTC'), features String,
      numeric_features Map(String, Float64), source_event_id String) ENGINE = MergeTree
      PARTITION BY toYYYYMM(event_time) ORDER BY (view_name, view_version, entity_id, event_time, created_at)`,
  });
  await clickhouse.command({
    query: `CREATE TABLE ${database}.offline_source_records (dataset LowCardinality(String), entity_id String,
      event_time DateTime64(3, 'UTC'), created_at DateTime64(3, 'UTC'), record_id String, record String,
      source_event_id String, source_partition UInt32, source_offset UInt64) ENGINE = MergeTree
      PARTITION BY toYYYYMM(created_at) ORDER BY (dataset, created_at, source_partition, source_offset)`,
  });
  const old = new OfflineFeatureStore(clickhouse, database);
  const row: OfflineFeatureRow = {
    viewName: 'v',
    viewVersion: 1,
    entityId: 'e',
    eventTime: '2025-03-09T00:00:00Z',
    createdAt: '2025-03-09T00:00:00Z',
    features: { spend: 1 },
    sourceEventId: 'a',
  };
  await old.appendFeatureRows([row, { ...row, createdAt: '2025-03-09T00:00:03Z' }, { ...row, sourceEventId: 'b' }]);
  await clickhouse.command({
    query: `INSERT INTO ${database}.offline_source_records VALUES
      ('d', 'e', '2025-03-09 00:00:00', '2025-03-09 00:00:01', 'r', '{}', 'a', 0, 7)`,
  });

  await old.createTables();
  await old.createTables(); // and again at the next boot: nothing left to do
  const engines = await (
    await clickhouse.query({
      query: `SELECT name, engine FROM system.tables WHERE database = '${database}' ORDER BY name`,
      format: 'JSONEachRow',
    })
  ).json<{ name: string; engine: string }>();
  assert.deepEqual(
    engines.map((t) => [t.name, t.engine]),
    [
      ['offline_feature_rows', 'ReplacingMergeTree'],
      ['offline_label_rows', 'ReplacingMergeTree'],
      ['offline_source_records', 'ReplacingMergeTree'],
    ],
  );
  const read = async (query: string) => (await clickhouse.query({ query, format: 'JSONEachRow' })).json();
  assert.deepEqual(
    await read(
      `SELECT source_event_id, toString(created_at) AS created FROM ${database}.offline_feature_rows FINAL ORDER BY source_event_id`,
    ),
    [
      { source_event_id: 'a', created: '2025-03-09 00:00:03.000' },
      { source_event_id: 'b', created: '2025-03-09 00:00:00.000' },
    ],
  );
  assert.deepEqual(
    await read(
      `SELECT record_id, toString(known_at) AS known, source_offset FROM ${database}.offline_source_records FINAL`,
    ),
    [{ record_id: 'r', known: '2025-03-09 00:00:01.000', source_offset: 7 }],
  );
  await clickhouse.command({ query: `DROP DATABASE ${database}` });
});
